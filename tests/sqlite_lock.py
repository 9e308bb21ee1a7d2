"""SQLite's write lock, held by a connection of the test's own (as a backup tool or a stray
`sqlite3` shell would hold it): the database outage the bridge must outlive."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path


class WriteLock:
    """SQLite's write lock, held by a connection of the test's own."""

    def __init__(self, db: Path) -> None:
        self._connection = sqlite3.connect(db, isolation_level=None, check_same_thread=False)

    async def take(self) -> None:
        await asyncio.to_thread(self._connection.execute, "BEGIN EXCLUSIVE")

    async def release(self) -> None:
        if self._connection.in_transaction:
            await asyncio.to_thread(self._connection.execute, "ROLLBACK")

    async def pending(self) -> int:
        """Updates stored but not processed yet (a read: the lock does not stop it)."""
        row = await asyncio.to_thread(
            lambda: self._connection.execute(
                "SELECT count(*) FROM inbox WHERE state = 'pending'"
            ).fetchone()
        )
        return int(row[0])

    async def keys(self) -> list[str]:
        rows = await asyncio.to_thread(
            lambda: self._connection.execute("SELECT key FROM inbox ORDER BY id").fetchall()
        )
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        self._connection.close()


@contextlib.asynccontextmanager
async def write_lock(db: Path) -> AsyncIterator[WriteLock]:
    lock = WriteLock(db)
    try:
        yield lock
    finally:
        await lock.release()
        lock.close()
