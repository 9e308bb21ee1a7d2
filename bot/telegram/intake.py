"""Where updates enter, from the webhook or from polling: drop repeats, run each in its lane."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bridge.inbox import Inbox
from bridge.lane_names import TopicLanes, customer_lane, topic_lane
from bridge.model import Platform

log = logging.getLogger(__name__)


def lane_of_message(message: Message) -> str:
    """Customers get a lane per chat; a topic without a customer, a lane of its own."""
    if message.chat.type == "private":
        return customer_lane(Platform.TELEGRAM, str(message.chat.id))
    return topic_lane(message.chat.id, message.message_thread_id or 0)


def lane_of(update: Update) -> str:
    """The lane as far as the update alone tells (a topic's customer needs the database)."""
    message = update.message or update.edited_message
    if message is not None:
        return lane_of_message(message)
    callback = update.callback_query
    if callback is not None and isinstance(callback.message, Message):
        return lane_of_message(callback.message)
    if update.my_chat_member is not None:
        return customer_lane(Platform.TELEGRAM, str(update.my_chat_member.chat.id))
    return "other"


def topic_of(update: Update) -> tuple[int, int] | None:
    """(chat, topic) of an update in a forum topic, else None."""
    message = update.message or update.edited_message
    if message is None and update.callback_query is not None:
        candidate = update.callback_query.message
        message = candidate if isinstance(candidate, Message) else None
    if message is None or message.chat.type == "private" or not message.message_thread_id:
        return None
    return message.chat.id, message.message_thread_id


class TelegramIntake:
    """Telegram updates into the inbox, and out of it into the aiogram dispatcher."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        inbox: Inbox,
        wait_seconds: float,
        topic_lanes: TopicLanes,
    ) -> None:
        self._topic_lanes = topic_lanes
        self._bot = bot
        self._dispatcher = dispatcher
        self._inbox = inbox
        self._wait = wait_seconds

    async def handle(self, update: Update, raw: dict[str, Any]) -> None:
        """Webhook: commit the update, let it be processed for a moment, then answer."""
        key = f"telegram:{update.update_id}"
        lane = await self.lane(update)
        await self._inbox.accept_and_wait(key, lane, "telegram", raw, self._wait)

    async def submit(self, update: Update) -> None:
        """Polling: commit the update; the offset moves on only after this."""
        raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        lane = await self.lane(update)
        await self._inbox.accept(f"telegram:{update.update_id}", lane, "telegram", raw)

    async def lane(self, update: Update) -> str:
        """An operator's update in a customer's topic joins that customer's lane."""
        topic = topic_of(update)
        if topic is None:
            return lane_of(update)
        return await self._topic_lanes.lane_of(*topic)

    async def process(self, payload: Mapping[str, Any], lane: str) -> None:
        """The inbox's handler for Telegram updates; handlers get their lane as `lane`."""
        update = Update.model_validate(dict(payload), context={"bot": self._bot})
        await self._dispatcher.feed_update(self._bot, update, lane=lane)
