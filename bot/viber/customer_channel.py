"""Viber customers as the core's `CustomerChannel`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.viber.api import ViberApi
from bot.viber.outgoing import ViberMessageBuilder
from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import Customer, IncomingMessage, Platform, Reply

# Viber's commercial model: a message the bot starts more than 24 h after the customer's last
# message is a paid one.
FREE_WINDOW = timedelta(hours=24)


class ViberCustomerChannel:
    platform = Platform.VIBER
    receipts = True  # Viber reports delivered/seen later
    free_window: timedelta | None = FREE_WINDOW

    def __init__(self, api: ViberApi, builder: ViberMessageBuilder) -> None:
        self._api = api
        self._builder = builder

    async def deliver(
        self, customer: Customer, messages: Sequence[IncomingMessage], reply: Reply | None
    ) -> list[str]:
        tokens: list[str] = []
        for index, message in enumerate(messages):
            parts = await self._builder.build(customer, message, reply if index == 0 else None)
            if not parts:
                raise DeliveryFailed(FailureReason.UNSUPPORTED, "nothing to send")
            sent = [await self._api.send(customer.external_id, part) for part in parts]
            tokens.append(sent[0])
        return tokens

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        return False  # Viber cannot edit: the core sends a marked correction instead

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        parts = self._builder.texts(text)
        tokens = [await self._api.send(customer.external_id, part) for part in parts]
        return tokens[0]
