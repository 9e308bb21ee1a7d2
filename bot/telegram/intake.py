"""Where updates enter, from the webhook or from polling: mapped once, stored, handled in order."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bridge.business import business_external_id
from bridge.commands import Command
from bridge.inbox import Inbox
from bridge.lane_names import TopicLanes, customer_lane, topic_lane
from bridge.model import InboxItem, Platform

log = logging.getLogger(__name__)


def lane_of_message(message: Message) -> str:
    """Customers get a lane per chat; a topic without a customer, a lane of its own."""
    if message.business_connection_id is not None:  # a chat of a Telegram Business account
        external_id = business_external_id(message.business_connection_id, message.chat.id)
        return customer_lane(Platform.TELEGRAM_BUSINESS, external_id)
    if message.chat.type == "private":
        return customer_lane(Platform.TELEGRAM, str(message.chat.id))
    return topic_lane(message.chat.id, message.message_thread_id or 0)


def lane_of(update: Update) -> str:
    """The lane as far as the update alone tells (a topic's customer needs the database)."""
    message = (
        update.message
        or update.edited_message
        or update.business_message
        or update.edited_business_message
    )
    if message is not None:
        return lane_of_message(message)
    deleted = update.deleted_business_messages
    if deleted is not None:
        external_id = business_external_id(deleted.business_connection_id, deleted.chat.id)
        return customer_lane(Platform.TELEGRAM_BUSINESS, external_id)
    if update.business_connection is not None:
        return f"business:{update.business_connection.id}"
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
    """Telegram updates, mapped once to the core's commands, into the inbox."""

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

    async def command_of(self, update: Update) -> Command | None:
        """What the update means to the core; None for what the bridge does not act on (or
        answered on the spot: the FAQ menu's navigation, /chatid, /queue, /stats)."""
        result = await self._dispatcher.feed_update(self._bot, update)
        return result if isinstance(result, Command) else None

    async def handle(self, update: Update, raw: dict[str, Any]) -> None:
        """Webhook: map, commit the command, let it be handled for a moment, then answer."""
        command = await self.command_of(update)
        if command is None:
            return
        lane = await self.lane(update)
        key = f"telegram:{update.update_id}"
        await self._inbox.accept_and_wait(key, lane, "telegram", command, self._wait)

    async def submit(self, update: Update) -> None:
        """Polling: map and commit; the offset moves on only after this."""
        command = await self.command_of(update)
        if command is None:
            return
        lane = await self.lane(update)
        await self._inbox.accept(f"telegram:{update.update_id}", lane, "telegram", command)

    async def lane(self, update: Update) -> str:
        """An operator's update in a customer's topic joins that customer's lane."""
        topic = topic_of(update)
        if topic is None:
            return lane_of(update)
        return await self._topic_lanes.lane_of(*topic)

    async def legacy(self, item: InboxItem) -> Command | None:
        """An update stored raw by an earlier version: mapped now, the same way."""
        update = Update.model_validate(dict(item.payload), context={"bot": self._bot})
        return await self.command_of(update)
