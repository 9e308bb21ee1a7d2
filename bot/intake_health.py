"""Whether updates reach the inbox right now: what `/healthz` and `/readyz` say about intake.

A bridge whose intake fails still answers HTTP, so "the process is up" says nothing about
whether customers are heard. The places where updates enter (the polling loop, the Telegram and
Viber webhooks) report here how their last attempt went: a source is failing from a failed
attempt until one succeeds. The polling loop also reports how long a store has been waiting,
and one waiting longer than `stalled_after` counts as failing too: a locked SQLite file holds a
write for its whole busy timeout before it says so, and meanwhile nothing is received. (A
webhook's call also waits for the update's processing, which may be slow on purpose, paced
below Telegram's limits, so only its outcome counts.) Nothing here touches the database: the
health check must answer while the database does not.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.metrics import CheckFailed
from bot.reasons import reason


@dataclass
class _Failing:
    what: str
    since: float


class IntakeHealth:
    def __init__(
        self, stalled_after: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stalled_after = stalled_after
        self._clock = clock
        self._failing: dict[str, _Failing] = {}
        self._storing: dict[int, tuple[str, float]] = {}  # attempt -> (source, started)
        self._attempts = itertools.count()

    def succeeded(self, source: str) -> None:
        self._failing.pop(source, None)

    def failed(self, source: str, what: str) -> None:
        """`what` goes into /healthz as is: a step and `reason(error)`, nothing private."""
        previous = self._failing.get(source)
        self._failing[source] = _Failing(what, previous.since if previous else self._clock())

    @contextmanager
    def storing(self, source: str, *, timed: bool = True) -> Iterator[None]:
        """Around one attempt to store: its outcome, and (`timed`) its duration while it lasts."""
        attempt = next(self._attempts)
        if timed:
            self._storing[attempt] = (source, self._clock())
        try:
            yield
        except Exception as error:
            self.failed(source, f"storing updates: {reason(error)}")
            raise
        else:
            self.succeeded(source)
        finally:
            self._storing.pop(attempt, None)

    def problems(self) -> dict[str, str]:
        """Source -> what is wrong with it; empty while intake works."""
        now = self._clock()
        found = {
            source: f"{failing.what} (for {now - failing.since:.0f} s)"
            for source, failing in self._failing.items()
        }
        for source, started in self._storing.values():
            waited = now - started
            if waited >= self._stalled_after and source not in found:
                found[source] = f"storing updates has been waiting for {waited:.0f} s"
        return found

    async def check(self) -> None:
        """For `/readyz`: raises, naming what fails, while intake fails."""
        problems = self.problems()
        if problems:
            raise CheckFailed("; ".join(f"{k}: {v}" for k, v in sorted(problems.items())))


INTAKE = web.AppKey("intake", IntakeHealth)
