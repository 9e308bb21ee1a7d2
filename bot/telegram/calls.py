"""Calling the Bot API: honour 429s, retry brief outages, translate errors into the core's."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from bridge.errors import DeliveryFailed, FailureReason, RetryLater, TopicMissing

T = TypeVar("T")
log = logging.getLogger(__name__)

# Texts Telegram uses for a topic that is gone (deleted by an admin, or never existed).
TOPIC_GONE = ("message thread not found", "topic_deleted", "topic_id_invalid")
NOT_MODIFIED = ("not modified", "topic_not_modified")
# Telegram Business: the connection is gone or off, or may not reply (checked before the
# ordinary Forbidden, which means a blocked bot)
BUSINESS_OFF = (
    "business_connection_invalid",
    "business connection not found",
    "bot_access_forbidden",
)
# ... and the 24 hours since the customer's last message have passed
# (https://core.telegram.org/api/bots/connected-business-bots)
REPLY_WINDOW = ("business_peer_usage_missing",)


def is_not_modified(error: DeliveryFailed) -> bool:
    """Telegram refuses a no-op edit; for us that is success."""
    return any(text in error.detail.lower() for text in NOT_MODIFIED)


async def unless_unmodified(make: Callable[[], Awaitable[object]]) -> None:
    """Run an idempotent change (rename, close, reopen) and accept "already so"."""
    try:
        await call(make)
    except DeliveryFailed as error:
        if not is_not_modified(error):
            raise


def translate(error: TelegramBadRequest | TelegramForbiddenError | TelegramNotFound) -> Exception:
    """Map a final Bot API refusal to the core's words."""
    text = error.message.lower()
    if any(off in text for off in BUSINESS_OFF):
        return DeliveryFailed(FailureReason.BUSINESS_OFF, error.message)
    if any(closed in text for closed in REPLY_WINDOW):
        return DeliveryFailed(FailureReason.REPLY_WINDOW, error.message)
    if isinstance(error, TelegramForbiddenError):
        reason = FailureReason.BLOCKED if "blocked" in text else FailureReason.NOT_FOUND
        return DeliveryFailed(reason, error.message)
    if any(gone in text for gone in TOPIC_GONE):
        return TopicMissing(error.message)
    if "too long" in text or "message_too_long" in text:
        return DeliveryFailed(FailureReason.TOO_LONG, error.message)
    if "chat not found" in text or "user is deactivated" in text:
        return DeliveryFailed(FailureReason.NOT_FOUND, error.message)
    if "can't be copied" in text or "wrong file" in text:
        return DeliveryFailed(FailureReason.UNSUPPORTED, error.message)
    return DeliveryFailed(FailureReason.UNKNOWN, error.message)


class RetryPolicy:
    """How hard one Bot API call is retried; set once by the composition root."""

    attempts = 5
    first_delay = 0.4
    on_flood: Callable[[], None] | None = None  # counts 429s for /metrics


def configure(
    attempts: int, first_delay: float = 0.4, on_flood: Callable[[], None] | None = None
) -> None:
    RetryPolicy.attempts, RetryPolicy.first_delay = attempts, first_delay
    RetryPolicy.on_flood = on_flood


async def call(make: Callable[[], Awaitable[T]], *, attempts: int | None = None) -> T:
    """Run one Bot API call; back off briefly on 5xx, timeouts and answers that do not decode
    (Telegram's front answers its HTML error page during incidents), then say `RetryLater`.

    A 429 is not waited out here: the caller's worker pauses the whole chat for exactly
    `retry_after` and sends something else meanwhile.
    """
    attempts = attempts or RetryPolicy.attempts
    for attempt in range(1, attempts + 1):
        try:
            return await make()
        except TelegramRetryAfter as error:
            if RetryPolicy.on_flood is not None:
                RetryPolicy.on_flood()
            log.warning("Telegram asked to wait %ss", error.retry_after)
            raise RetryLater(error.retry_after, "Telegram flood control") from None
        except ClientDecodeError:
            if attempt == attempts:
                raise RetryLater(1.0, "Telegram answered something that is not JSON") from None
            backoff = RetryPolicy.first_delay * 2 ** (attempt - 1)
            delay = min(backoff, 10.0) * (0.5 + random.random())  # noqa: S311 - jitter
            log.warning("Telegram's answer did not decode; retrying in %.1fs", delay)
            await asyncio.sleep(delay)
        except (TelegramServerError, TelegramNetworkError) as error:
            if attempt == attempts:
                raise RetryLater(1.0, f"Telegram unavailable: {error.message}") from None
            backoff = RetryPolicy.first_delay * 2 ** (attempt - 1)
            delay = min(backoff, 10.0) * (0.5 + random.random())  # noqa: S311 - jitter
            log.warning("Telegram call failed (%s); retrying in %.1fs", error.message, delay)
            await asyncio.sleep(delay)
        except (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound) as error:
            raise translate(error) from None
    raise AssertionError("unreachable")
