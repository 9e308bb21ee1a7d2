"""Where updates enter, from the webhook or from polling: drop repeats, run each in its lane."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bridge.inbox import Inbox

log = logging.getLogger(__name__)


def lane_of_message(message: Message) -> str:
    """Customers get a lane per chat; operators a lane per topic."""
    if message.chat.type == "private":
        return f"tg:{message.chat.id}"
    return f"chat:{message.chat.id}:{message.message_thread_id or 0}"


def lane_of(update: Update) -> str:
    message = update.message or update.edited_message
    if message is not None:
        return lane_of_message(message)
    callback = update.callback_query
    if callback is not None and isinstance(callback.message, Message):
        return lane_of_message(callback.message)
    if update.my_chat_member is not None:
        return f"tg:{update.my_chat_member.chat.id}"
    return "other"


class TelegramIntake:
    """Telegram updates into the inbox, and out of it into the aiogram dispatcher."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, inbox: Inbox, wait_seconds: float) -> None:
        self._bot = bot
        self._dispatcher = dispatcher
        self._inbox = inbox
        self._wait = wait_seconds

    async def handle(self, update: Update, raw: dict[str, Any]) -> None:
        """Webhook: commit the update, let it be processed for a moment, then answer."""
        key = f"telegram:{update.update_id}"
        await self._inbox.accept_and_wait(key, lane_of(update), "telegram", raw, self._wait)

    async def submit(self, update: Update) -> None:
        """Polling: commit the update; the offset moves on only after this."""
        raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        await self._inbox.accept(f"telegram:{update.update_id}", lane_of(update), "telegram", raw)

    async def process(self, payload: Mapping[str, Any]) -> None:
        """The inbox's handler for Telegram updates."""
        update = Update.model_validate(dict(payload), context={"bot": self._bot})
        await self._dispatcher.feed_update(self._bot, update)
