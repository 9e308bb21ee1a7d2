"""The pacing algorithm, pure: every store (memory, Redis, PostgreSQL) books sends with it.

Each limit is a sliding window: at most `limit` sends in any `seconds`. A send reserves the
earliest moment its window admits, never before the window's last booking, so callers are
served first come, first served. A store only keeps, per key, the moments booked so far; the
last `limit` of them are all this needs (older ones can no longer hold a send back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Slack for requests that leave in order but arrive a little out of step with their schedule.
MARGIN = 1.05
PAD = 0.05


@dataclass(frozen=True)
class Window:
    """At most `limit` sends in any `seconds`-long window (`seconds` includes the slack)."""

    limit: int
    seconds: float

    @classmethod
    def lasting(cls, limit: int, seconds: float) -> Window | None:
        """A window of `limit` sends per `seconds`, stretched by the slack; 0 turns it off."""
        if limit <= 0:
            return None
        return cls(limit, seconds * MARGIN + PAD)

    @classmethod
    def per_second(cls, rate: float) -> Window | None:
        """`rate` sends a second; a fraction like 0.5 becomes 1 send per 2 seconds."""
        if rate <= 0:
            return None
        limit = max(1, math.floor(rate))
        return cls.lasting(limit, limit / rate)

    def expires(self, moment: float) -> float:
        """When a send booked at `moment` stops counting."""
        return moment + self.seconds


def reserve(booked: Sequence[float], window: Window, count: int, now: float) -> list[float]:
    """The moments of `count` more sends (an album counts per item), oldest booking first in
    `booked`; the caller appends them to what it keeps."""
    recent = list(booked)[-window.limit :]
    moments: list[float] = []
    moment = now
    for _ in range(count):
        if len(recent) >= window.limit:
            moment = max(moment, recent[-window.limit] + window.seconds)
        if recent:
            moment = max(moment, recent[-1])
        recent.append(moment)
        moments.append(moment)
    return moments
