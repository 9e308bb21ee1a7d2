"""Core screens as Telegram messages with inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bridge.button_seal import Sealer
from bridge.screens import Screen

HELP_PREFIX = "h:"  # customer buttons; the rest is the core's action, sealed (bridge.button_seal)


def keyboard(screen: Screen, seal: Sealer) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    prefix = HELP_PREFIX
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(
                    text=b.label, callback_data=f"{prefix}{seal(b.action or '')}"
                )
                for b in row
            ]
            for row in screen.rows
        ]
    )
