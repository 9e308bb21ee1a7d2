"""Customers' buttons as the fakes see them: sealed values (bridge.button_seal), read back."""

from __future__ import annotations

from bridge.button_seal import SEPARATOR, ButtonSeal, customer_key
from tests.harness import JSON, TOKEN

TELEGRAM_PREFIX = "h:"
VIBER_PREFIX = "bridge:"


def action_of(value: str) -> str:
    """The core's action in a button's value, its prefix and seal taken off."""
    for prefix in (TELEGRAM_PREFIX, VIBER_PREFIX):
        value = value.removeprefix(prefix)
    return value.rpartition(SEPARATOR)[0] or value


def telegram_data(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def viber_bodies(keyboard: JSON) -> list[str]:
    return [b["ActionBody"] for b in keyboard.get("Buttons", []) if b.get("ActionType") == "reply"]


def pick(values: list[str], action: str) -> str:
    """The value of the button that means `action`; fails when none does."""
    found = [v for v in values if action_of(v) == action]
    assert found, f"no button {action!r} among {[action_of(v) for v in values]}"
    return found[0]


def sealed(platform: str, user_id: object, action: str, prefix: str) -> str:
    """A genuine value for `action`, as the bridge would have shown it to that customer
    (for buttons shown long ago, e.g. before the FAQ changed)."""
    seal = ButtonSeal.from_secret(TOKEN).for_screen(customer_key(platform, str(user_id)))
    return f"{prefix}{seal(action)}"


def stars(message: JSON, count: int) -> str | None:
    """The callback data of a Telegram message's button that gives `count` stars, if any."""
    for data in telegram_data(message):
        action = action_of(data)
        if action.startswith("rate:") and action.endswith(f":{count}"):
            return data
    return None
