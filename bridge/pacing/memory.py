"""Reservations kept in this process: one replica (SQLite), or the fallback of a shared store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bridge.pacing.store import Booking, Reservation
from bridge.pacing.windows import reserve

SWEEP_EVERY = 1000  # reservations between removals of keys whose bookings all expired


class MemoryPacingStore:
    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._booked: dict[str, list[float]] = {}
        self._expires: dict[str, float] = {}
        self._since_sweep = 0

    async def reserve(
        self, bookings: Sequence[Booking], count: int, now: float | None = None
    ) -> Reservation:
        now = self._clock() if now is None else now
        last = now
        for booking in bookings:
            window = booking.window
            booked = self._booked.get(booking.key, [])
            moments = reserve(booked, window, count, now)
            self._booked[booking.key] = (booked + moments)[-window.limit :]
            self._expires[booking.key] = window.expires(moments[-1])
            last = max(last, moments[-1])
        self._sweep(now)
        return Reservation(now, last)

    def _sweep(self, now: float) -> None:
        """Chats that went quiet should not stay in memory forever."""
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        for key in [key for key, expires in self._expires.items() if expires <= now]:
            del self._booked[key], self._expires[key]

    async def close(self) -> None:
        self._booked.clear()
        self._expires.clear()
