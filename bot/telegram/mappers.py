"""aiogram objects → core types. The only place that knows Telegram's message shapes."""

from __future__ import annotations

from typing import Any

from aiogram.types import BusinessConnection, Chat, Message, MessageEntity, User

from bridge.business import BusinessAccount, business_external_id
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


def business_profile(connection_id: str, chat: Chat, user: User | None = None) -> CustomerProfile:
    """A customer of a Telegram Business account: keyed by the connection and their chat.
    `user`: the customer themselves when they wrote (their language), not the owner."""
    names = " ".join(n for n in (chat.first_name, chat.last_name) if n)
    return CustomerProfile(
        platform=Platform.TELEGRAM_BUSINESS,
        external_id=business_external_id(connection_id, chat.id),
        full_name=names or (user.full_name if user else "") or f"Customer {chat.id}",
        username=chat.username,
        language=user.language_code if user else None,
        profile_url=f"tg://user?id={chat.id}",
    )


def business_account(connection: BusinessConnection) -> BusinessAccount:
    """A `BusinessConnection` as the core keeps it; rights from Bot API 9.0's `rights`, else
    the older `can_reply`."""
    rights = connection.rights
    can_reply = rights.can_reply if rights is not None else connection.can_reply
    owner: User = connection.user
    return BusinessAccount(
        connection_id=connection.id,
        owner_id=owner.id,
        owner_name=owner.full_name,
        owner_username=owner.username,
        enabled=connection.is_enabled,
        can_reply=bool(can_reply),
        can_read=bool(rights.can_read_messages) if rights is not None else False,
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


def incoming(message: Message, platform: Platform = Platform.TELEGRAM) -> IncomingMessage:
    content_type = message.content_type
    kind = _KINDS.get(getattr(content_type, "value", content_type), ContentKind.OTHER)
    if message.animation is not None:
        kind = ContentKind.ANIMATION  # Telegram also fills `document` for animations
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    return IncomingMessage(
        ref=MessageRef(platform, str(message.chat.id), str(message.message_id)),
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
