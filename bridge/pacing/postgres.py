"""Reservations shared by replicas through PostgreSQL, on the database's clock.

One short transaction per reservation: transaction-level advisory locks on the keys (taken in
a fixed order, so two reservations never deadlock) serialise bookings of the same window, the
last `limit` moments per key are read, booked with the shared algorithm and written back.
Rows carry their expiry; each reservation sweeps a few long-expired rows, skipping rows another
transaction holds, so the table stays small without a separate job.
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bridge.pacing.store import Booking, Reservation
from bridge.pacing.windows import reserve

# The table of migration 0008 (declared here: only this store uses it, PostgreSQL only).
PACING_SENDS = Table(
    "pacing_sends",
    MetaData(),
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_pacing_sends_key_sent_at", "key", "sent_at"),
    Index("ix_pacing_sends_expires_at", "expires_at"),
)
LOCK = text("SELECT pg_advisory_xact_lock(:key)")
SWEEP_GRACE = 60.0  # seconds a row outlives its expiry: a reservation in flight may still read it
SWEEP_BATCH = 100


def lock_key(key: str) -> int:
    """A stable signed 64-bit advisory lock key per pacing key."""
    digest = hashlib.blake2b(f"support-bridge:pacing:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _at(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class PostgresPacingStore:
    name = "postgresql"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def reserve(
        self, bookings: Sequence[Booking], count: int, now: float | None = None
    ) -> Reservation:
        async with self._engine.begin() as connection:
            for key in sorted({booking.key for booking in bookings}, key=lock_key):
                await connection.execute(LOCK, {"key": lock_key(key)})
            if now is None:  # read after the locks: the moment this reservation is made
                clock = await connection.scalar(select(func.clock_timestamp()))
                assert isinstance(clock, datetime)
                now = clock.timestamp()
            await self._sweep(connection, now)
            last = now
            rows: list[dict[str, object]] = []
            for booking in bookings:
                booked = await self._booked(connection, booking)
                moments = reserve(booked, booking.window, count, now)
                rows += [
                    {
                        "key": booking.key,
                        "sent_at": _at(moment),
                        "expires_at": _at(booking.window.expires(moment)),
                    }
                    for moment in moments
                ]
                last = max(last, moments[-1])
            if rows:
                await connection.execute(insert(PACING_SENDS), rows)
        return Reservation(now, last)

    @staticmethod
    async def _booked(connection: AsyncConnection, booking: Booking) -> list[float]:
        """The key's last `limit` bookings, oldest first."""
        sent_at = PACING_SENDS.c.sent_at
        query = (
            select(sent_at)
            .where(PACING_SENDS.c.key == booking.key)
            .order_by(sent_at.desc())
            .limit(booking.window.limit)
        )
        moments = (await connection.scalars(query)).all()
        return sorted(moment.timestamp() for moment in moments)

    @staticmethod
    async def _sweep(connection: AsyncConnection, now: float) -> None:
        """Delete a batch of rows expired well before `now`, never waiting for another's rows."""
        expired = (
            select(PACING_SENDS.c.id)
            .where(PACING_SENDS.c.expires_at <= _at(now - SWEEP_GRACE))
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        await connection.execute(delete(PACING_SENDS).where(PACING_SENDS.c.id.in_(expired)))

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""
