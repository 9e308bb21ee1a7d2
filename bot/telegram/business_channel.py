"""Telegram Business customers' chats as the core's `CustomerChannel`: answers go from the
company's own account (`business_connection_id`), rebuilt from file ids since the Bot API has
no copy on a business account's behalf."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.telegram.calls import call
from bot.telegram.screens import keyboard
from bot.telegram.sending import TelegramSender
from bridge.business import business_chat
from bridge.button_seal import ButtonSeal, customer_key
from bridge.model import Customer, IncomingMessage, Platform, Reply
from bridge.screens import Screen


class TelegramBusinessChannel:
    platform = Platform.TELEGRAM_BUSINESS
    receipts = False  # a sent message is a delivered one
    free_window: timedelta | None = None  # the 24 hours are Telegram's refusal, not a price

    def __init__(self, sender: TelegramSender, seal: ButtonSeal) -> None:
        self._bot = sender.bot
        self._sender = sender
        self._new = sender.new
        self._seal = seal

    async def deliver(
        self, customer: Customer, messages: Sequence[IncomingMessage], reply: Reply | None
    ) -> list[str]:
        connection, chat_id = business_chat(customer.external_id)
        reply_to = int(reply.message_id) if reply and reply.message_id.isdigit() else None
        if len(messages) > 1:
            ids = await self._new.album(chat_id, messages, reply_to, business=connection)
            return [str(i) for i in ids]
        message = messages[0]
        if message.composed:  # a saved reply: its words, not a message to rebuild
            text, entities = message.text or "", message.entities
            sent = await self._new.words(chat_id, text, entities, reply_to, business=connection)
        else:
            sent = await self._new.send(chat_id, message, reply_to, business=connection)
        return [str(sent)]

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        connection, chat_id = business_chat(customer.external_id)
        return await self._sender.edit(chat_id, int(message_id), message, business=connection)

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        connection, chat_id = business_chat(customer.external_id)
        answer = int(reply_to) if reply_to and reply_to.isdigit() else None
        return str(await self._new.words(chat_id, text, (), answer, business=connection))

    async def send_screen(
        self, customer: Customer, screen: Screen, in_place_of: str | None = None
    ) -> str:
        """As for bot customers: a pressed screen is edited in place where it can be."""
        connection, chat_id = business_chat(customer.external_id)
        sealer = self._seal.for_screen(customer_key(self.platform, customer.external_id))
        buttons = keyboard(screen, sealer)
        return await self._sender.show_screen(
            chat_id, screen.text, buttons, in_place_of, business=connection
        )

    async def mark_read(self, customer: Customer, message_id: str) -> None:
        """The customer sees their messages read, up to this one."""
        connection, chat_id = business_chat(customer.external_id)
        await call(
            lambda: self._bot.read_business_message(
                business_connection_id=connection, chat_id=chat_id, message_id=int(message_id)
            )
        )
