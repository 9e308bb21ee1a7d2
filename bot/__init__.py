"""Adapters and the composition root: aiogram, viberbot and aiohttp live here, not in `bridge`."""
