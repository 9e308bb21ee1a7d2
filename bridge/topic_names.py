"""Topic names: a state marker plus the customer's name, safe for Telegram's 128-char limit."""

from __future__ import annotations

import unicodedata

from bridge.model import Conversation, Customer, TopicState

MAX_TOPIC_NAME = 128

STATE_MARKERS: dict[TopicState, str] = {
    TopicState.NEW: "🆕",
    TopicState.WAITING: "🔴",
    TopicState.ANSWERED: "🟢",
    TopicState.CLOSED: "✅",
}


def clean_name(raw: str, limit: int = 64) -> str:
    """Drop control and bidi-override characters and squeeze spaces.

    Customer names are hostile input: a right-to-left override or a newline must not
    scramble the operators' topic list.
    """
    kept = [ch for ch in raw if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"}]
    text = " ".join("".join(kept).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


OFFLINE_MARKER = "🌙"


LATE_MARKER = "⏰"


def topic_name(
    customer: Customer, state: TopicState, offline: bool = False, late: bool = False
) -> str:
    """`🆕 Olena Kovalenko`: the state; 🌙 begun after hours; ⏰ waiting past the SLA."""
    name = clean_name(customer.full_name) or f"Customer {customer.id}"
    suffix = "" if customer.platform.value == "telegram" else f" · {customer.platform.display_name}"
    marks = (f"{LATE_MARKER} " if late else "") + (f"{OFFLINE_MARKER} " if offline else "")
    return f"{STATE_MARKERS[state]} {marks}{name}{suffix}"[:MAX_TOPIC_NAME]


def topic_name_for(customer: Customer, conversation: Conversation | None) -> str:
    """The name a customer's topic should show for their latest conversation: its state, 🌙
    when it began after hours, ⏰ while a reminder for this waiting period stands."""
    if conversation is None:
        return topic_name(customer, TopicState.NEW)
    late = conversation.sla_alerted_at is not None and conversation.state in (
        TopicState.NEW,
        TopicState.WAITING,
    )
    return topic_name(customer, conversation.state, conversation.opened_offline, late)
