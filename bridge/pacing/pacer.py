"""Reservations through a (possibly shared) store, never losing a send when the store fails.

Replicas share their limits through one store; a store that cannot be reached must not hold
messages back, so that send is paced in this process instead and the store is left alone for
a few seconds (every send waiting for a timeout would stall the queue).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from bridge.pacing.memory import MemoryPacingStore
from bridge.pacing.store import Booking, PacingStore, Reservation

log = logging.getLogger(__name__)

STORE_TIMEOUT = 2.0  # seconds a shared store may take for one reservation
REST_AFTER_FAILURE = 5.0  # seconds of in-process pacing before the store is tried again


class Pacer:
    def __init__(
        self,
        store: PacingStore | None = None,
        clock: Callable[[], float] | None = None,
        timeout: float = STORE_TIMEOUT,
        rest: float = REST_AFTER_FAILURE,
    ) -> None:
        self._local = MemoryPacingStore(clock) if clock is not None else MemoryPacingStore()
        self._store: PacingStore = store if store is not None else self._local
        self._clock = clock
        self._timeout = timeout
        self._rest = rest
        self._resting_until: float | None = None
        self._lock = asyncio.Lock()

    async def reserve(self, bookings: Sequence[Booking], count: int = 1) -> Reservation:
        """Book `count` sends in every window; reservations leave this process in call order."""
        count = max(1, count)
        async with self._lock:
            now = self._clock() if self._clock is not None else None
            if self._store is not self._local and not self._resting():
                try:
                    async with asyncio.timeout(self._timeout):
                        reservation = await self._store.reserve(bookings, count, now)
                except Exception as error:
                    self._fail(error)
                else:
                    self._recovered()
                    return reservation
            return await self._local.reserve(bookings, count, now)

    def _resting(self) -> bool:
        return self._resting_until is not None and time.monotonic() < self._resting_until

    def _fail(self, error: Exception) -> None:
        if self._resting_until is None:  # once per outage, not once per send
            log.warning(
                "the shared pacing store (%s) failed (%s); pacing in this process only until "
                "it answers again, so replicas may together exceed the rate limits meanwhile",
                self._store.name,
                type(error).__name__,
            )
        self._resting_until = time.monotonic() + self._rest

    def _recovered(self) -> None:
        if self._resting_until is not None:
            self._resting_until = None
            log.info("the shared pacing store (%s) answers again", self._store.name)
