"""Ordered lanes: work for one key runs one at a time in arrival order; keys run in parallel.

A customer's second message must not overtake the first, but one customer must not hold up
another. `run` registers the job before its first await, so the order of calls is the order of
execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Lanes:
    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._running: set[asyncio.Task[object]] = set()

    async def run(self, key: str, job: Callable[[], Awaitable[T]]) -> T:
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        try:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(previous)
            return await job()
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

    def spawn(self, key: str, job: Callable[[], Awaitable[object]]) -> asyncio.Task[object]:
        """Run in a lane without waiting; the task is tracked for a clean shutdown."""
        task: asyncio.Task[object] = asyncio.ensure_future(self.run(key, job))
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("work in lane failed", exc_info=task.exception())

    def is_busy(self, key: str) -> bool:
        return key in self._tails

    @property
    def busy(self) -> int:
        return len(self._tails)

    async def drain(self, within: float) -> bool:
        """Wait for the work in flight; True when all of it finished in time."""
        pending: list[asyncio.Future[object]] = [
            asyncio.shield(tail) for tail in self._tails.values()
        ]
        pending += [asyncio.shield(task) for task in self._running]
        if not pending:
            return True
        _, not_done = await asyncio.wait(pending, timeout=within)
        for waiter in not_done:
            waiter.cancel()
        return not not_done
