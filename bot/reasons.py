"""Errors described in words fit for a log line or `/healthz`, with nothing private in them.

An error's whole text is not: SQLAlchemy's carries the statement's parameters (an update's
payload, so a customer's message), PostgreSQL's may quote a value, and aiogram's
ClientDecodeError holds the answer's whole body (a getUpdates answer is customers' messages).
"""

from __future__ import annotations

import sqlite3

from aiogram.exceptions import TelegramAPIError, TelegramNetworkError


def reason(error: BaseException) -> str:
    """The class, plus SQLite's own message ("database is locked", "database or disk is full":
    it never quotes values), the PostgreSQL driver's error class, Telegram's short description
    of a Bot API error, or the kind of a network error (whose text may hold the bot's URL)."""
    detail = ""
    orig = getattr(error, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    if isinstance(orig, sqlite3.Error):
        detail = str(orig)
    elif isinstance(orig, BaseException):
        detail = (orig.__cause__ or orig).__class__.__name__
    elif isinstance(error, TelegramNetworkError):  # "<aiohttp error>: <text>", may hold the URL
        detail = error.message.partition(":")[0]
    elif isinstance(error, TelegramAPIError):
        detail = error.message
    lines = detail.strip().splitlines()
    name = error.__class__.__name__
    return f"{name}: {lines[0][:100]}" if lines else name
