"""The port every pacing store implements, and the plain values it speaks in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.pacing.windows import Window


@dataclass(frozen=True)
class Booking:
    """One window a send counts against, under the key that names it (e.g. one chat)."""

    key: str
    window: Window


@dataclass(frozen=True)
class Reservation:
    """When the booked sends may go, on the store's own clock (`now` is that clock at booking)."""

    now: float
    moment: float

    @property
    def delay(self) -> float:
        return max(0.0, self.moment - self.now)


class PacingStore(Protocol):
    """Keeps the booked moments per key and books atomically: two callers never share a slot."""

    name: str

    async def reserve(
        self, bookings: Sequence[Booking], count: int, now: float | None = None
    ) -> Reservation:
        """Book `count` sends in every window of `bookings`; `now` overrides the store's clock
        (tests), otherwise the store's own clock is used, the same for every replica."""
        ...

    async def close(self) -> None: ...
