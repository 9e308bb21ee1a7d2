"""IncomingMessage ↔ JSON, for messages the bridge must keep for later (held messages)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bridge.model import (
    Attachment,
    ContentKind,
    IncomingMessage,
    MessageRef,
    Platform,
    TextEntity,
)


def message_to_json(message: IncomingMessage) -> dict[str, Any]:
    data = asdict(message)
    data["payload"] = dict(message.payload)
    return data


def message_from_json(data: dict[str, Any]) -> IncomingMessage:
    ref = data["ref"]
    return IncomingMessage(
        ref=MessageRef(Platform(ref["platform"]), ref["chat_id"], ref["message_id"]),
        kind=ContentKind(data["kind"]),
        text=data.get("text"),
        entities=tuple(TextEntity(**e) for e in data.get("entities", ())),
        attachments=tuple(
            Attachment(**{**a, "kind": ContentKind(a["kind"])}) for a in data.get("attachments", ())
        ),
        reply_to_message_id=data.get("reply_to_message_id"),
        album_id=data.get("album_id"),
        payload=data.get("payload") or {},
        composed=bool(data.get("composed", False)),
    )
