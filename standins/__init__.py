"""Stand-ins for the Telegram Bot API and the Viber REST API, served over HTTP on loopback.

One copy serves three users: the test suite talks to the bridge through them, the benchmark
measures it against them, and `support-bridge demo` shows them as a page. They answer with the
real JSON shapes, error texts and limits, so the bridge cannot tell them from the real services.
"""
