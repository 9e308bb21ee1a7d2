"""Pacing Bot API sends below Telegram's limits, before Telegram has to say so.

Telegram allows about 1 message per second in a private chat, 20 per minute in a group and
30 per second overall (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-
avoid-this). Each limit is a sliding window (`bridge.pacing.windows`); a send reserves the
earliest moment every window admits it, so waiting callers are served first come, first served,
which keeps one flooding customer from starving the others. Replicas share the windows through
a pacing store (Redis or PostgreSQL). A 429 is still honoured by `calls.call`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bridge.pacing.pacer import Pacer
from bridge.pacing.store import Booking, PacingStore, Reservation
from bridge.pacing.windows import Window

# Calls that write into a chat: Telegram counts sends, edits, reactions and topic changes
# against the same budget (tdlib/td#2592); reads and deletions are not paced.
PACED = frozenset(
    {
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
        "editGeneralForumTopic",
        "closeGeneralForumTopic",
        "reopenGeneralForumTopic",
        "setMessageReaction",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllForumTopicMessages",
        "editMessageMedia",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
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


class RateLimiter(BaseRequestMiddleware):
    """`namespace` names the bot in a shared store: Telegram's limits are per bot."""

    def __init__(
        self,
        chat_per_second: float,
        group_per_minute: int,
        global_per_second: int,
        store: PacingStore | None = None,
        namespace: str = "telegram",
        clock: Callable[[], float] | None = None,
        spent: Callable[[int, int], None] | None = None,
    ) -> None:
        self._spent = spent  # told of every paced call made: (chat id, operations)
        self._chat = Window.per_second(chat_per_second)
        self._group = Window.lasting(group_per_minute, 60)
        self._global = Window.per_second(global_per_second)
        self._namespace = namespace
        self._pacer = Pacer(store, clock)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ not in PACED:
            return await make_request(bot, method)
        chat_id = getattr(method, "chat_id", None)
        count = _items(method)
        await self.wait_turn(chat_id, count)
        if self._spent is not None and isinstance(chat_id, int):
            self._spent(chat_id, count)
        return await make_request(bot, method)

    async def wait_turn(self, chat_id: Any, count: int = 1) -> None:
        reservation = await self.reserve(chat_id, count)
        if reservation.delay > 0:
            await asyncio.sleep(reservation.delay)

    async def reserve(self, chat_id: Any, count: int = 1) -> Reservation:
        """Book `count` sends to `chat_id`; the reservation says when the last one may go."""
        bookings = self._bookings(chat_id)
        if not bookings:
            return Reservation(0.0, 0.0)
        return await self._pacer.reserve(bookings, count)

    def _bookings(self, chat_id: Any) -> list[Booking]:
        bookings = []
        if self._global is not None:
            bookings.append(Booking(f"{self._namespace}:all", self._global))
        is_group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
        window = self._group if is_group else self._chat
        if window is not None and chat_id is not None:
            kind = "group" if is_group else "chat"
            bookings.append(Booking(f"{self._namespace}:{kind}:{chat_id}", window))
        return bookings


def _items(method: TelegramMethod[Any]) -> int:
    """An album counts as one message per item."""
    for field in ("media", "message_ids"):
        value = getattr(method, field, None)
        if isinstance(value, list):
            return max(1, len(value))
    return 1
