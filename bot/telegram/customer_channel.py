"""Telegram customers' private chats as the core's `CustomerChannel`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.telegram.screens import keyboard
from bot.telegram.sending import TelegramSender
from bridge.button_seal import ButtonSeal, customer_key
from bridge.model import Customer, IncomingMessage, Platform, Reply
from bridge.screens import Screen


class TelegramCustomerChannel:
    platform = Platform.TELEGRAM
    receipts = False  # a sent message is a delivered one
    free_window: timedelta | None = None

    def __init__(self, sender: TelegramSender, seal: ButtonSeal) -> None:
        self._sender = sender
        self._seal = seal

    async def deliver(
        self, customer: Customer, messages: Sequence[IncomingMessage], reply: Reply | None
    ) -> list[str]:
        ids = await self._sender.copy(
            int(customer.external_id), messages, int(reply.message_id) if reply else None
        )
        return [str(i) for i in ids]

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        return await self._sender.edit(int(customer.external_id), int(message_id), message)

    async def send_screen(
        self, customer: Customer, screen: Screen, in_place_of: str | None = None
    ) -> str:
        chat_id = int(customer.external_id)
        buttons = keyboard(screen, self._seal.for_screen(customer_key(self.platform, str(chat_id))))
        return await self._sender.show_screen(chat_id, screen.text, buttons, in_place_of)

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        sent = await self._sender.send_text(
            int(customer.external_id), text, int(reply_to) if reply_to else None
        )
        return str(sent)
