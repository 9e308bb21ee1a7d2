"""A cap on the requests of one media link that fetch from Telegram at the same time.

Every request of a file that is not in memory downloads it from Telegram: twenty parallel
requests of a leaked link to a 19 MB file would be twenty downloads. A few may run at once;
a further one waits briefly for a turn (by then the file may be cached), then gives up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class _Link:
    turns: asyncio.Semaphore
    users: int = 0


class LinkSlots:
    def __init__(self, per_link: int, wait_seconds: float) -> None:
        self._per_link = per_link
        self._wait = wait_seconds
        self._links: dict[str, _Link] = {}

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[bool]:
        """True inside while this request has a turn; False when none came in time."""
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = _Link(asyncio.Semaphore(self._per_link))
        link.users += 1
        try:
            try:
                async with asyncio.timeout(self._wait):
                    await link.turns.acquire()
            except TimeoutError:
                yield False
                return
            try:
                yield True
            finally:
                link.turns.release()
        finally:
            link.users -= 1
            if link.users == 0:
                del self._links[key]
