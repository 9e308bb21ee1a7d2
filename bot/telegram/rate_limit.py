"""Pacing Bot API sends below Telegram's limits, before Telegram has to say so.

Telegram allows about 1 message per second in a private chat, 20 per minute in a group and
30 per second overall (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-
avoid-this). Each limit is a sliding window; a send reserves the earliest moment every window
admits it, so waiting callers are served first come, first served, which keeps one flooding
customer from starving the others. A 429 is still honoured by `calls.call`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

# Calls that put a message into a chat; reads, reactions and topic changes are not paced.
PACED = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "sendPhoto",
        "sendVideo",
        "sendAnimation",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
# Slack for requests that leave in order but arrive a little out of step with their schedule.
MARGIN = 1.05
PAD = 0.05


class Window:
    """At most `limit` sends in any `seconds`-long window, per key."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds * MARGIN + PAD
        self._sent: dict[object, deque[float]] = {}

    @classmethod
    def per_second(cls, rate: float) -> Window | None:
        if rate <= 0:
            return None
        limit = max(1, math.floor(rate))
        return cls(limit, limit / rate)

    def reserve(self, key: object, count: int, now: float) -> float:
        """Book `count` sends; returns when the last one may go."""
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - self.seconds:
            sent.popleft()
        moment = now
        for _ in range(count):
            if len(sent) >= self.limit:
                moment = max(moment, sent[-self.limit] + self.seconds)
            if sent:
                moment = max(moment, sent[-1])
            sent.append(moment)
        if not sent:
            del self._sent[key]
        return moment


class RateLimiter(BaseRequestMiddleware):
    def __init__(
        self,
        chat_per_second: float,
        group_per_minute: int,
        global_per_second: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat = Window.per_second(chat_per_second)
        self._group = Window(group_per_minute, 60) if group_per_minute > 0 else None
        self._global = Window.per_second(global_per_second)
        self._clock = clock
        self._lock = asyncio.Lock()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in PACED:
            await self.wait_turn(getattr(method, "chat_id", None), _items(method))
        return await make_request(bot, method)

    async def wait_turn(self, chat_id: Any, count: int = 1) -> None:
        async with self._lock:  # reservations are made in arrival order
            now = self._clock()
            moment = now
            if self._global is not None:
                moment = max(moment, self._global.reserve("all", count, now))
            is_group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
            window = self._group if is_group else self._chat
            if window is not None and chat_id is not None:
                moment = max(moment, window.reserve(chat_id, count, now))
        if moment > now:
            await asyncio.sleep(moment - now)


def _items(method: TelegramMethod[Any]) -> int:
    """An album counts as one message per item."""
    for field in ("media", "message_ids"):
        value = getattr(method, field, None)
        if isinstance(value, list):
            return max(1, len(value))
    return 1
