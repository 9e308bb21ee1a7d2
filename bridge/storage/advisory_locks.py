"""Lane claims between replicas: PostgreSQL session advisory locks on one connection.

A lock lives as long as the session that took it, so a replica that is killed lets go of its
lanes the moment PostgreSQL sees the connection drop: the others take over without waiting for
a lease to expire. One connection per process holds every lane that process works; calls on it
are short and serialised. https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")


def lock_key(lane: str) -> int:
    """A stable signed 64-bit key per lane (advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"support-bridge:lane:{lane}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLaneLocks:
    shared = True

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._guard = asyncio.Lock()
        self._held: set[str] = set()

    async def _connected(self) -> AsyncConnection:
        if self._connection is None or self._connection.invalidated:
            if self._held:
                log.error(
                    "lost the lane-locks connection while holding %d lane(s)", len(self._held)
                )
                self._held.clear()
            connection = await self._engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    async def try_take(self, lane: str) -> bool:
        async with self._guard:
            if lane in self._held:  # session locks are re-entrant; ours are not meant to be
                return False
            connection = await self._connected()
            try:
                taken = bool(await connection.scalar(TRY_LOCK, {"key": lock_key(lane)}))
            except Exception:
                await self._drop()
                raise
            if taken:
                self._held.add(lane)
            return taken

    async def release(self, lane: str) -> None:
        async with self._guard:
            if lane not in self._held or self._connection is None:
                return
            self._held.discard(lane)
            try:
                await self._connection.scalar(UNLOCK, {"key": lock_key(lane)})
            except Exception:
                log.exception("could not release lane %s; dropping the connection", lane)
                await self._drop()

    async def _drop(self) -> None:
        """A broken connection holds nothing any more (the server ended its session)."""
        connection, self._connection = self._connection, None
        self._held.clear()
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception:  # noqa: S110 - it is broken already; nothing to save
                pass

    async def close(self) -> None:
        async with self._guard:
            connection, self._connection = self._connection, None
            self._held.clear()
            if connection is not None:
                await connection.close()
