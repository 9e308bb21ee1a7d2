"""Background loops that do not end unnoticed.

The polling loop and the periodic jobs run as tasks beside the HTTP server. A task that ends
takes its work with it while `/healthz` still answers: nothing is received any more, no SLA
reminder goes out, the lease runs out. Each loop therefore runs under a `Supervisor`: a loop
that ends (it raised, or returned although it should run until cancelled) is logged with the
reason and started again after a backoff that grows while it keeps failing. A failure no
restart can fix (Telegram no longer accepts the token) is fatal instead: `until` raises a
ConfigError with one sentence saying what to fix, which ends `support-bridge run` with a
non-zero status like a bad setting at start.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable

from bot.backoff import Backoff
from bot.reasons import reason
from bridge.errors import ConfigError

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[object]]
Fatal = Callable[[BaseException], str | None]  # the sentence to stop with, or None


def never_fatal(error: BaseException) -> str | None:
    return None


def where(error: BaseException) -> str:
    """The innermost frame, `file:line`: where to look, without the error's text."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    parts = last.filename.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{last.lineno}"


class Supervisor:
    def __init__(
        self, first_delay: float = 0.5, most_delay: float = 30.0, steady_after: float = 60.0
    ) -> None:
        self._first = first_delay
        self._most = most_delay
        self._steady_after = steady_after  # a loop that ran this long starts over at `first`
        self._failed = asyncio.Event()
        self._sentence: str | None = None  # why a loop failed fatally
        self.restarts: dict[str, int] = {}

    def start(self, name: str, loop: Loop, fatal: Fatal = never_fatal) -> asyncio.Task[None]:
        """Run `loop()` until cancelled, starting it again whenever it ends."""
        self.restarts.setdefault(name, 0)
        return asyncio.create_task(self._keep(name, loop, fatal), name=name)

    async def _keep(self, name: str, loop: Loop, fatal: Fatal) -> None:
        backoff = Backoff(self._first, self._most)
        while True:
            started = time.monotonic()
            try:
                await loop()
                why = "it returned"
            except Exception as error:
                sentence = fatal(error)
                if sentence is not None:
                    log.error("%s stopped for good (%s)", name, reason(error))
                    self._stop_with(sentence)
                    return
                why = f"{reason(error)} at {where(error)}"
            if time.monotonic() - started >= self._steady_after:
                backoff.reset()
            delay = backoff.next()
            self.restarts[name] += 1
            log.error("%s ended unexpectedly (%s); starting it again in %.1fs", name, why, delay)
            await asyncio.sleep(delay)

    def _stop_with(self, sentence: str) -> None:
        if self._sentence is None:
            self._sentence = sentence
        self._failed.set()

    async def until(self, stop: asyncio.Event) -> None:
        """Wait for `stop`; raise ConfigError if a loop failed fatally first."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._failed.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._sentence is not None:
            raise ConfigError(self._sentence)
