"""aiogram objects → core types. The only place that knows Telegram's message shapes."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message, MessageEntity, User

from bridge.model import (
    Attachment,
    ContentKind,
    CustomerProfile,
    IncomingMessage,
    MessageRef,
    Operator,
    Platform,
    TextEntity,
)

_KINDS: dict[str, ContentKind] = {kind.value: kind for kind in ContentKind}


def profile_of(user: User) -> CustomerProfile:
    return CustomerProfile(
        platform=Platform.TELEGRAM,
        external_id=str(user.id),
        full_name=user.full_name,
        username=user.username,
        language=user.language_code,
        profile_url=f"tg://user?id={user.id}",
    )


def operator_from(user: User) -> Operator:
    return Operator(id=user.id, name=user.full_name, username=user.username)


def operator_of(message: Message) -> Operator:
    if message.from_user and not message.from_user.is_bot:
        user = message.from_user
        return Operator(id=user.id, name=user.full_name, username=user.username)
    chat = message.sender_chat
    return Operator(id=chat.id if chat else 0, name=(chat.title if chat else None) or "an operator")


def _entities(items: list[MessageEntity] | None) -> tuple[TextEntity, ...]:
    return tuple(
        TextEntity(
            type=str(e.type),
            offset=e.offset,
            length=e.length,
            url=e.url,
            language=e.language,
            custom_emoji_id=e.custom_emoji_id,
        )
        for e in items or ()
    )


def _attachment(message: Message, kind: ContentKind) -> tuple[Attachment, ...]:
    media: Any = getattr(message, kind.value, None)
    if kind is ContentKind.PHOTO and message.photo:
        media = message.photo[-1]
        return (Attachment(kind, media.file_id, mime_type="image/jpeg", size=media.file_size),)
    if media is None or not hasattr(media, "file_id"):
        return ()
    return (
        Attachment(
            kind=kind,
            file_id=media.file_id,
            file_name=getattr(media, "file_name", None),
            mime_type=getattr(media, "mime_type", None),
            size=getattr(media, "file_size", None),
        ),
    )


def _payload(message: Message, kind: ContentKind) -> dict[str, Any]:
    value: Any = getattr(message, kind.value, None)
    if kind is ContentKind.STICKER and message.sticker is not None:
        sticker = message.sticker
        return {
            "emoji": sticker.emoji,
            "is_animated": sticker.is_animated,
            "is_video": sticker.is_video,
        }
    if kind in (ContentKind.LOCATION, ContentKind.VENUE, ContentKind.CONTACT, ContentKind.POLL):
        return dict(value.model_dump(exclude_none=True)) if value is not None else {}
    return {}


def reply_target(message: Message) -> str | None:
    """The message this one answers, ignoring Telegram's implicit reply to a topic's first post."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return None
    return str(reply.message_id)


def incoming(message: Message) -> IncomingMessage:
    content_type = message.content_type
    kind = _KINDS.get(getattr(content_type, "value", content_type), ContentKind.OTHER)
    if message.animation is not None:
        kind = ContentKind.ANIMATION  # Telegram also fills `document` for animations
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    return IncomingMessage(
        ref=MessageRef(Platform.TELEGRAM, str(message.chat.id), str(message.message_id)),
        kind=kind,
        text=text,
        entities=_entities(entities),
        attachments=_attachment(message, kind),
        reply_to_message_id=reply_target(message),
        album_id=message.media_group_id,
        payload=_payload(message, kind),
    )


def to_entities(items: tuple[TextEntity, ...]) -> list[MessageEntity] | None:
    if not items:
        return None
    return [
        MessageEntity(
            type=e.type,
            offset=e.offset,
            length=e.length,
            url=e.url,
            language=e.language,
            custom_emoji_id=e.custom_emoji_id,
        )
        for e in items
    ]
