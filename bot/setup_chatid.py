"""`support-bridge chatid`: before OPERATOR_CHAT_ID is known, tell it to whoever asks."""

from __future__ import annotations

import asyncio

from aiogram import Dispatcher

from bot.app import telegram_bot
from bot.config import TelegramAccess
from bot.telegram.operator_router import setup_router
from bot.telegram.startup_checks import check_token


async def answer_chatid(access: TelegramAccess) -> None:
    bot = telegram_bot(access)
    try:
        me = await check_token(bot, access.telegram_api_url)
        print(f"Send /chatid in the operators' group where @{me.username} is; Ctrl+C stops.")
        await bot.delete_webhook(drop_pending_updates=False)
        dispatcher = Dispatcher()
        dispatcher.include_router(setup_router())
        await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=False)
    except asyncio.CancelledError:
        pass
    finally:
        await bot.session.close()
