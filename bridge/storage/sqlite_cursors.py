"""aiosqlite with cursors made and closed in place: two fewer trips to its thread a statement.

aiosqlite runs every call on its worker thread, even making a cursor object and closing it
after a finished statement, which wait for nothing. SQLAlchemy does both around every
statement, so of the three trips per statement only the `execute` needs the thread (and a
`fetchall`, which stays there). A pooled connection serves one session at a time, so the
worker is idle while these two run here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager


class _InPlaceClose(aiosqlite.Cursor):
    async def close(self) -> None:
        self._cursor.close()


class _InPlaceCursors(aiosqlite.Connection):
    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return _InPlaceClose(self, self._conn.cursor())


def make_cursors_in_place(driver: Any) -> None:
    """Give a fresh aiosqlite connection the in-place cursor methods, if sqlite3 lets this
    thread use it (a URL may ask for `check_same_thread`)."""
    if type(driver) is not aiosqlite.Connection:
        return
    try:
        driver._conn.cursor().close()
    except sqlite3.ProgrammingError:
        return
    driver.__class__ = _InPlaceCursors
