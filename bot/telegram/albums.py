"""Collecting album items: Telegram sends each photo of an album as its own update.

Items are gathered until the album has been quiet for a moment, then handed over together,
in the lane of their chat so that order with other messages is kept. A message that arrives in
the same lane before the timer fires flushes the album first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram.types import Message

from bridge.inbox import apart

AlbumHandler = Callable[[list[Message]], Awaitable[None]]
Spawn = Callable[[str, Callable[[], Awaitable[object]]], None]  # run a job in a lane


@dataclass
class _Pending:
    lane: str
    handler: AlbumHandler
    items: list[Message] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class AlbumCollector:
    def __init__(self, spawn: Spawn, quiet_seconds: float) -> None:
        self._spawn = spawn
        self._quiet = quiet_seconds
        self._pending: dict[str, _Pending] = {}

    def add(self, lane: str, message: Message, handler: AlbumHandler) -> None:
        key = f"{message.chat.id}:{message.media_group_id}"
        pending = self._pending.setdefault(key, _Pending(lane, handler))
        pending.items.append(message)
        if pending.timer:
            pending.timer.cancel()
        pending.timer = asyncio.get_running_loop().call_later(
            self._quiet, lambda: self._spawn(lane, lambda: self._flush(key))
        )

    async def flush_lane(self, lane: str) -> None:
        """Hand over albums waiting in this lane now (call from inside the lane)."""
        for key in [k for k, p in self._pending.items() if p.lane == lane]:
            await self._flush(key)

    async def _flush(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        if pending.timer:
            pending.timer.cancel()
        items = sorted(pending.items, key=lambda m: m.message_id)
        with apart():  # maybe inside the next message's update: not that update's work
            await pending.handler(items)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def flush_all(self) -> None:
        """On shutdown: hand over every waiting album now rather than lose it."""
        for key, pending in list(self._pending.items()):
            if pending.timer:
                pending.timer.cancel()
            self._spawn(pending.lane, lambda key=key: self._flush(key))  # type: ignore[misc]
