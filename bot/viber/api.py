"""Viber REST API over the shared aiohttp session.

viberbot's own sender uses blocking `requests` without a timeout, so it must not run on the event
loop: we build messages with viberbot's classes and post them ourselves. Viber reports failures
with HTTP 200 and a non-zero `status`; `call` reads it and speaks the core's errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import aiohttp

from bridge.errors import ConfigError, DeliveryFailed, FailureReason, RetryLater

log = logging.getLogger(__name__)

# https://developers.viber.com/docs/api/rest-bot-api/#error-codes
NOT_REGISTERED, NOT_SUBSCRIBED, ACCOUNT_BLOCKED, TOO_MANY_REQUESTS = 5, 6, 7, 12
FREE_MESSAGES_EXCEEDED, NO_BALANCE = 23, 24
STATUS_REASONS = {
    NOT_REGISTERED: FailureReason.NOT_REGISTERED,
    NOT_SUBSCRIBED: FailureReason.NOT_SUBSCRIBED,
    ACCOUNT_BLOCKED: FailureReason.ACCOUNT_BLOCKED,  # the bot's account, not the customer
    FREE_MESSAGES_EXCEEDED: FailureReason.QUOTA_USED_UP,  # the company's plan, not the customer
    NO_BALANCE: FailureReason.NO_BALANCE,
}
REQUEST_LIMIT = 30 * 1024  # Viber refuses requests over 30 KB
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]


class ViberApi:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth_token: str,
        sender: dict[str, str],
        attempts: int = 4,
        first_delay: float = 0.5,
        on_flood: Callable[[], None] | None = None,
    ) -> None:
        self._first_delay = first_delay
        self._on_flood = on_flood
        self._session = session
        self._base = base_url
        self._headers = {"X-Viber-Auth-Token": auth_token}
        self.sender = sender
        self._attempts = attempts
        self._timeout = aiohttp.ClientTimeout(total=30)

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one API method; retry 5xx, timeouts and status 12 with backoff and jitter."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        if len(body) > REQUEST_LIMIT:
            raise DeliveryFailed(FailureReason.TOO_LONG, f"{len(body)} bytes > 30 KB")
        for attempt in range(1, self._attempts + 1):
            backoff = self._first_delay * 2 ** (attempt - 1)
            delay = min(backoff, 10.0) * (0.5 + random.random())  # noqa: S311 - jitter
            try:
                async with self._session.post(
                    f"{self._base}/{method}",
                    data=body,
                    headers={**self._headers, "Content-Type": "application/json"},
                    timeout=self._timeout,
                ) as response:
                    if response.status >= 500:
                        raise aiohttp.ClientResponseError(
                            response.request_info, (), status=response.status
                        )
                    answer: dict[str, Any] = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                if attempt == self._attempts:
                    raise RetryLater(
                        delay, f"Viber unavailable: {error.__class__.__name__}"
                    ) from None
                log.warning("Viber %s failed (%s); retrying", method, error.__class__.__name__)
                await asyncio.sleep(delay)
                continue
            status = int(answer.get("status", -1))
            if status == 0:
                return answer
            if status == TOO_MANY_REQUESTS and self._on_flood is not None:
                self._on_flood()
            if status == TOO_MANY_REQUESTS and attempt < self._attempts:
                log.warning("Viber asked to slow down; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            if status == TOO_MANY_REQUESTS:
                raise RetryLater(delay, "Viber: too many requests")
            message = str(answer.get("status_message") or "unknown error")
            reason = STATUS_REASONS.get(status, FailureReason.UNKNOWN)
            raise DeliveryFailed(reason, f"Viber status {status}: {message}")
        raise AssertionError("unreachable")

    async def send(self, receiver: str, message: dict[str, Any]) -> str:
        """Send one message; returns its message_token."""
        payload = {"receiver": receiver, "sender": self.sender, **message}
        answer = await self.call("send_message", payload)
        return str(answer["message_token"])

    async def set_webhook(self, url: str) -> None:
        try:
            await self.call(
                "set_webhook",
                {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": True},
            )
        except (DeliveryFailed, RetryLater) as error:
            raise ConfigError(
                f"Viber refused the webhook {url} ({error}): check VIBER_AUTH_TOKEN and that "
                "PUBLIC_URL reaches this server over HTTPS."
            ) from None
