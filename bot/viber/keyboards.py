"""Core screens as Viber keyboards: a button sends `bridge:<sealed action>` back as text (see
`bridge.button_seal`), or opens a URL.

Viber shows a keyboard only while the latest message carries one, so every message to a
customer carries either its screen's buttons or the main menu.
"""

from __future__ import annotations

from typing import Any

from bridge.button_seal import Sealer
from bridge.screens import Screen

ACTION_PREFIX = "bridge:"
COLUMNS = 6  # a Viber keyboard row is 6 columns wide


def keyboard(screen: Screen, seal: Sealer) -> dict[str, Any]:
    buttons = []
    for row in screen.rows:
        width = max(1, COLUMNS // len(row))
        for button in row:
            buttons.append(
                {
                    "Columns": width,
                    "Rows": 1,
                    "ActionType": "open-url" if button.url else "reply",
                    "ActionBody": button.url or f"{ACTION_PREFIX}{seal(button.action or '')}",
                    "Text": button.label,
                    "TextSize": "regular",
                    "BgColor": "#F2F2F7",
                }
            )
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}
