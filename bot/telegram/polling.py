"""Long polling for when there is no public URL: fetch updates, hand them to the intake."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot.telegram.intake import TelegramIntake

log = logging.getLogger(__name__)


async def poll(
    bot: Bot, intake: TelegramIntake, allowed_updates: list[str], wait_seconds: int
) -> None:
    """Run until cancelled; each batch is queued in order, then the offset moves on."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await bot.get_updates(
                offset=offset,
                timeout=wait_seconds,
                allowed_updates=allowed_updates,
                request_timeout=wait_seconds + 10,
            )
        except TelegramUnauthorizedError:
            log.error("Telegram no longer accepts the token; polling stopped")
            raise
        except TelegramAPIError as error:
            failures += 1
            delay = min(0.5 * 2**failures, 30.0)
            log.warning("getUpdates failed (%s); again in %.1fs", error.message, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        for update in updates:
            await intake.submit(update)  # committed before the offset confirms it to Telegram
            offset = update.update_id + 1
