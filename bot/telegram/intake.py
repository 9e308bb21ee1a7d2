"""Where updates enter, from the webhook or from polling: drop repeats, run each in its lane."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bot.lanes import Lanes
from bridge.relay import Relay

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
    def __init__(self, bot: Bot, dispatcher: Dispatcher, relay: Relay, lanes: Lanes) -> None:
        self._bot = bot
        self._dispatcher = dispatcher
        self._relay = relay
        self._lanes = lanes

    async def handle(self, update: Update) -> None:
        """Process one update in its lane and return when it is done."""
        await self._lanes.run(lane_of(update), lambda: self._process(update))

    def submit(self, update: Update) -> None:
        """Queue one update in its lane (polling: no one waits for the answer)."""
        self._lanes.spawn(lane_of(update), lambda: self._process(update))

    async def _process(self, update: Update) -> None:
        if not await self._relay.claim_update(f"telegram:{update.update_id}"):
            log.info("update %s seen before; skipped", update.update_id)
            return
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:
            log.exception("update %s failed", update.update_id)
