"""Viber customers as the core's `CustomerChannel`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from bot.viber.api import ViberApi
from bot.viber.keyboards import keyboard
from bot.viber.outgoing import ViberMessageBuilder
from bridge.button_seal import ButtonSeal, customer_key
from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import Customer, IncomingMessage, Platform, Reply
from bridge.screens import Screen

# Viber's commercial model: a message the bot starts more than 24 h after the customer's last
# message is a paid one.
FREE_WINDOW = timedelta(hours=24)


class ViberCustomerChannel:
    platform = Platform.VIBER
    receipts = True  # Viber reports delivered/seen later
    free_window: timedelta | None = FREE_WINDOW

    def __init__(
        self,
        api: ViberApi,
        builder: ViberMessageBuilder,
        menu: Callable[[str | None], Screen],
        seal: ButtonSeal,
    ) -> None:
        self._api = api
        self._builder = builder
        self._menu = menu
        self._seal = seal

    def _keyboard(self, customer: Customer, screen: Screen) -> dict[str, Any]:
        sealer = self._seal.for_screen(customer_key(self.platform, customer.external_id))
        return keyboard(screen, sealer)

    async def _send(self, customer: Customer, message: dict[str, Any]) -> str:
        """Every message carries the main menu, so the customer never loses the keyboard."""
        with_menu = {**message, "keyboard": self._keyboard(customer, self._menu(customer.language))}
        return await self._api.send(customer.external_id, with_menu)

    async def deliver(
        self, customer: Customer, messages: Sequence[IncomingMessage], reply: Reply | None
    ) -> list[str]:
        tokens: list[str] = []
        for index, message in enumerate(messages):
            parts = await self._builder.build(customer, message, reply if index == 0 else None)
            if not parts:
                raise DeliveryFailed(FailureReason.UNSUPPORTED, "nothing to send")
            sent = [await self._send(customer, part) for part in parts]
            tokens.append(sent[0])
        return tokens

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        return False  # Viber cannot edit: the core sends a marked correction instead

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        parts = self._builder.texts(text)
        tokens = [await self._send(customer, part) for part in parts]
        return tokens[0]

    async def send_screen(
        self, customer: Customer, screen: Screen, in_place_of: str | None = None
    ) -> str:
        """Viber edits nothing: a screen is always a new message, with its keyboard."""
        parts = self._builder.texts(screen.text)
        tokens = [await self._send(customer, part) for part in parts[:-1]]
        last = {
            **parts[-1],
            "keyboard": self._keyboard(
                customer, screen if screen.rows else self._menu(customer.language)
            ),
        }
        tokens.append(await self._api.send(customer.external_id, last))
        return tokens[0]
