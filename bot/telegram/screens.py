"""Core screens as Telegram messages with inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bridge.screens import Screen

HELP_PREFIX = "h:"  # customer buttons; the rest of the callback data is the core's action


def keyboard(screen: Screen, prefix: str = HELP_PREFIX) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(text=b.label, callback_data=f"{prefix}{b.action}")
                for b in row
            ]
            for row in screen.rows
        ]
    )
