"""The bridge's own notes in the operators' topics (HTML, customer text escaped)."""

from __future__ import annotations

from html import escape

from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import Platform

_FAILURES = {
    FailureReason.BLOCKED: "the customer blocked the bot",
    FailureReason.NOT_SUBSCRIBED: "the customer is not subscribed to the bot",
    FailureReason.TOO_LONG: "the message is too long for {platform}; please split it",
    FailureReason.NOT_FOUND: "the customer's chat or message was not found",
    FailureReason.UNSUPPORTED: "{platform} cannot show this kind of message",
    FailureReason.UNKNOWN: "{platform} refused it",
}


def not_delivered(error: DeliveryFailed, platform: Platform) -> str:
    why = _FAILURES[error.reason].format(platform=platform.display_name)
    unknown = error.reason is FailureReason.UNKNOWN
    detail = f" ({escape(error.detail)})" if error.detail and unknown else ""
    return f"⚠️ <b>Not delivered</b>: {why}{detail}."


def customer_edit(text: str) -> str:
    return f"✏️ <b>The customer edited this message:</b>\n{escape(text)}"


def channel_missing(platform: Platform) -> str:
    return f"⚠️ <b>Not delivered</b>: the {platform.display_name} channel is not enabled."


def new_conversation(number: int) -> str:
    return f"🆕 <b>Conversation #{number}</b> started."


def closed(by: str) -> str:
    return f"🔒 Conversation closed by {escape(by)}."


def reopened(by: str) -> str:
    return f"🔓 Conversation reopened by {escape(by)}."


def banned(by: str) -> str:
    return f"⛔ Customer banned by {escape(by)}: their messages are no longer relayed."


def unbanned(by: str) -> str:
    return f"✅ Customer unbanned by {escape(by)}: their messages are relayed again."
