"""Customers' button values that no one can forge or use for another customer.

A Telegram client can send any callback data for a message in its chat, and a Viber button is
only a text the customer's app sends back, so anyone can type one. Each value carries a MAC
over the customer it was shown to, the screen (a random nonce its buttons share) and the
action; a value that does not check out is not a button (on Viber it is relayed as text).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

SEPARATOR = "~"
NONCE_LENGTH = 4  # base64url characters: 24 random bits per screen
MAC_LENGTH = 10  # 60 bits: room for the longest FAQ action in Telegram's 64-byte callback data

Sealer = Callable[[str], str]


class ButtonSeal:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_secret(cls, secret: str) -> ButtonSeal:
        """A key of its own, derived from a secret the bridge already has (the bot token)."""
        return cls(hashlib.sha256(b"support-bridge buttons\0" + secret.encode()).digest())

    def for_screen(self, customer: str) -> Sealer:
        """Seals the buttons of one screen shown to `customer` (`platform:external id`)."""
        nonce = secrets.token_urlsafe(3)[:NONCE_LENGTH]
        return lambda action: f"{action}{SEPARATOR}{nonce}{self._mac(customer, nonce, action)}"

    def open(self, customer: str, value: str) -> str | None:
        """The action of a value sealed for `customer`, else None."""
        action, separator, tail = value.rpartition(SEPARATOR)
        if not separator or len(tail) != NONCE_LENGTH + MAC_LENGTH:
            return None
        nonce, mac = tail[:NONCE_LENGTH], tail[NONCE_LENGTH:]
        expected = self._mac(customer, nonce, action)
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        return action

    def _mac(self, customer: str, nonce: str, action: str) -> str:
        message = f"{customer}\0{nonce}\0{action}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:MAC_LENGTH]


def customer_key(platform: str, external_id: str) -> str:
    return f"{platform}:{external_id}"
