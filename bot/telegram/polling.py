"""Long polling for when there is no public URL: fetch updates, hand them to the intake.

The loop outlives its failures. Telegram confirms an update only when a later getUpdates asks
for an offset past it, so an update is safe at Telegram until the inbox has committed it: when
storing fails (a locked SQLite file, a full disk, a dropped connection), the loop waits and
stores the same updates again, and the offset moves on only past what is stored. The inbox
ignores an update it already has (key `telegram:<update_id>`), so none is stored twice. When
getUpdates fails (Telegram's 5xx, an HTML error page, the network) it waits and asks again.
Waits back off up to 30 s. Only a token that Telegram no longer accepts ends the loop: no
wait fixes that (see `fatal`).
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import Update

from bot.backoff import Backoff
from bot.intake_health import IntakeHealth
from bot.reasons import reason
from bot.telegram.intake import TelegramIntake
from bridge.errors import RetryLater
from bridge.storage.outages import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

SOURCE = "telegram"  # the name intake health knows it by
STORE_FAILURES: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, RetryLater)


async def poll(
    bot: Bot,
    intake: TelegramIntake,
    allowed_updates: list[str],
    wait_seconds: int,
    health: IntakeHealth | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Run until cancelled; each batch is stored in order, then the offset moves on."""
    health = health or IntakeHealth()
    backoff = backoff or Backoff(first=0.5, most=30.0)
    offset: int | None = None
    try:
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=wait_seconds,
                    allowed_updates=allowed_updates,
                    request_timeout=wait_seconds + 10,
                )
            except TelegramUnauthorizedError:
                raise
            except (AiogramError, OSError) as error:  # ClientDecodeError: an HTML error page
                health.failed(SOURCE, f"getUpdates: {reason(error)}")
                asked = error.retry_after if isinstance(error, TelegramRetryAfter) else 0
                delay = backoff.next(asked)
                log.warning("getUpdates failed (%s); again in %.1fs", reason(error), delay)
                await asyncio.sleep(delay)
                continue
            health.succeeded(SOURCE)
            backoff.reset()
            for update in updates:
                await _store(intake, update, health, backoff)
                offset = update.update_id + 1  # confirmed to Telegram by the next getUpdates
    except Exception as error:  # not cancellation: the supervisor logs it and starts again
        health.failed(SOURCE, f"polling stopped: {reason(error)}")
        raise


async def _store(
    intake: TelegramIntake, update: Update, health: IntakeHealth, backoff: Backoff
) -> None:
    """Commit one update to the inbox, trying again until it is stored."""
    while True:
        try:
            with health.storing(SOURCE):
                await intake.submit(update)
        except STORE_FAILURES as error:
            asked = error.seconds if isinstance(error, RetryLater) else 0.0
            delay = backoff.next(asked)
            log.warning(
                "update %d not stored (%s); again in %.1fs", update.update_id, reason(error), delay
            )
            await asyncio.sleep(delay)
            continue
        backoff.reset()
        return


def fatal(error: BaseException) -> str | None:
    """The sentence to stop the bridge with, for a failure no retry can fix; None otherwise."""
    if isinstance(error, TelegramUnauthorizedError):
        return (
            "Telegram no longer accepts TELEGRAM_BOT_TOKEN (401 Unauthorized): the token was "
            "revoked or replaced; put the bot's current token from @BotFather into "
            "TELEGRAM_BOT_TOKEN and start again."
        )
    return None
