"""Telegram Business: the company's own Telegram account with the bot connected to it.

A customer who writes to the account is keyed by the connection and their chat together
(`<connection>:<chat>`): the same person writing to two connected accounts is two customers,
each answered from the account they wrote to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bridge.model import Customer, Platform


@dataclass(frozen=True)
class BusinessAccount:
    """A business connection as Telegram last reported it."""

    connection_id: str
    owner_id: int
    owner_name: str
    owner_username: str | None
    enabled: bool
    can_reply: bool
    can_read: bool
    updated_at: datetime | None = None

    @property
    def label(self) -> str:
        """How operators recognise the account: its owner's name and username."""
        handle = f" (@{self.owner_username})" if self.owner_username else ""
        return f"{self.owner_name}{handle}"

    @property
    def state(self) -> ConnectionState:
        if not self.enabled:
            return ConnectionState.OFF
        if not self.can_reply:
            return ConnectionState.CANNOT_REPLY
        return ConnectionState.WORKING


class ConnectionState(StrEnum):
    """What the team needs to know about a connection: it works, or what to change."""

    WORKING = "working"
    CANNOT_REPLY = "cannot_reply"
    OFF = "off"


def business_external_id(connection_id: str, chat_id: int | str) -> str:
    return f"{connection_id}:{chat_id}"


def business_chat(external_id: str) -> tuple[str, int]:
    """(connection, chat) of a business customer's external id."""
    connection_id, _, chat = external_id.rpartition(":")
    return connection_id, int(chat)


def connection_of(customer: Customer) -> str | None:
    if customer.platform is not Platform.TELEGRAM_BUSINESS:
        return None
    return business_chat(customer.external_id)[0]
