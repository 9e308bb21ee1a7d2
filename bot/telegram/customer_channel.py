"""Telegram customers' private chats as the core's `CustomerChannel`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.telegram.calls import unless_unmodified
from bot.telegram.screens import keyboard
from bot.telegram.sending import FINAL, TelegramSender
from bridge.button_seal import ButtonSeal, customer_key
from bridge.errors import DeliveryFailed
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
        """A pressed screen is edited in place (FAQ navigation); one too old to edit, or a
        new screen, is sent as a new message."""
        chat_id = int(customer.external_id)
        buttons = keyboard(screen, self._seal.for_screen(customer_key(self.platform, str(chat_id))))
        if in_place_of is not None and in_place_of.isdigit():
            try:
                await unless_unmodified(
                    lambda: self._sender.bot.edit_message_text(
                        chat_id=chat_id,
                        message_id=int(in_place_of),
                        text=screen.text,
                        reply_markup=buttons,
                    )
                )
                return in_place_of
            except DeliveryFailed as error:
                if error.reason in FINAL:
                    raise
        sent = await self._sender.send_text(chat_id, screen.text, keyboard=buttons)
        return str(sent)

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        sent = await self._sender.send_text(
            int(customer.external_id), text, int(reply_to) if reply_to else None
        )
        return str(sent)
