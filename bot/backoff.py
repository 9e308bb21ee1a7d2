"""Capped exponential backoff with jitter, for loops that must keep trying.

Polling and the supervisor retry for as long as it takes (a locked database, Telegram down for
an hour): the wait grows so a long outage costs little, stays capped so recovery is noticed
within half a minute, and is jittered so that several loops (or replicas) do not retry in step.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, first: float = 0.5, most: float = 30.0) -> None:
        self._first = first
        self._most = most
        self._failures = 0

    def next(self, at_least: float = 0.0) -> float:
        """The wait before the next attempt: first, 2×first, ... up to `most`, ±25%.

        `at_least` is what the other side asked for (a 429's retry_after): never less.
        """
        self._failures += 1
        base = min(self._first * 2.0 ** min(self._failures - 1, 32), self._most)  # days of failures
        jittered = base * (0.75 + random.random() / 2)  # noqa: S311 - jitter, not security
        return max(jittered, at_least)

    def reset(self) -> None:
        """It worked: the next failure waits `first` again."""
        self._failures = 0

    @property
    def failures(self) -> int:
        """Failures in a row since the last success."""
        return self._failures
