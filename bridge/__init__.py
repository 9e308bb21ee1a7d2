"""The platform-neutral core of support-bridge.

It knows customers, conversations, topics, the message map and the relay rules, and talks to
the outside world only through the ports in `bridge.ports`. It never imports aiogram, viberbot
or aiohttp, so every messenger is just one more adapter.
"""
