"""Viber keyboards: the bridge's own buttons send a reserved ActionBody back as text."""

from __future__ import annotations

from typing import Any

from bridge.texts import Texts

ACTION_PREFIX = "bridge:"
ASK = ACTION_PREFIX + "ask"


def main_keyboard(texts: Texts, language: str | None) -> dict[str, Any]:
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": ASK,
                "Text": texts.get("ask_button", language),
                "BgColor": "#F2F2F7",
            }
        ],
    }
