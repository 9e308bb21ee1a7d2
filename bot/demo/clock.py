"""The demo's clock: real time plus an offset that the page moves forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, tzinfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DemoClock:
    """Runs like the system clock and only ever jumps forward.

    Forward only, because everything the bridge stored (conversations, pacing windows, leases)
    was stamped with this clock: going back would make it see the future.
    """

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._real = now or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self.listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._real() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (a positive span); returns the new reading."""
        if delta <= timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        for listener in list(self.listeners):
            listener()
        return self.now()

    def advance_to(self, weekday: str, wall: time, zone: tzinfo) -> datetime:
        """Move to the next `weekday` at `wall` o'clock in `zone`, e.g. the next Saturday 20:00
        (a week ahead when that is now or has just passed)."""
        day = WEEKDAYS.index(weekday)
        now = self.now()
        local = now.astimezone(zone)
        for ahead in range(8):
            date = (local + timedelta(days=ahead)).date()
            if date.weekday() != day:
                continue
            target = datetime.combine(date, wall, tzinfo=zone).astimezone(UTC)
            if target > now:
                return self.advance(target - now)
        raise AssertionError("a weekday comes within 8 days")  # pragma: no cover
