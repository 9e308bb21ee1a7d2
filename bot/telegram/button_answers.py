"""Acknowledging button presses (`answerCallbackQuery`): the core's `ButtonAnswers`."""

from __future__ import annotations

from aiogram import Bot

from bot.telegram.calls import call


class TelegramButtonAnswers:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def answer(self, callback_id: str, text: str) -> None:
        await call(lambda: self._bot.answer_callback_query(callback_id, text or None))
