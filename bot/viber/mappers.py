"""viberbot requests → core types. The only place that knows Viber's callback shapes."""

from __future__ import annotations

from typing import Any

from viberbot.api.messages import (
    ContactMessage,
    FileMessage,
    LocationMessage,
    PictureMessage,
    StickerMessage,
    TextMessage,
    URLMessage,
    VideoMessage,
)
from viberbot.api.user_profile import UserProfile

from bridge.model import (
    Attachment,
    ContentKind,
    CustomerProfile,
    IncomingMessage,
    MessageRef,
    Platform,
)


def profile_of(user: UserProfile) -> CustomerProfile:
    details = {"country": user.country, "API version": user.api_version, "avatar": user.avatar}
    return CustomerProfile(
        platform=Platform.VIBER,
        external_id=str(user.id),
        full_name=str(user.name or "Viber user"),
        language=user.language,
        details={key: str(value) for key, value in details.items() if value},
    )


def incoming(user_id: str, token: int | str, message: Any, raw: dict[str, Any]) -> IncomingMessage:
    """One Viber message; `raw` is the callback's `message` object for fields viberbot drops."""
    ref = MessageRef(Platform.VIBER, user_id, str(token))

    def media(kind: ContentKind, default_name: str, mime: str | None = None) -> Attachment:
        return Attachment(
            kind=kind,
            url=raw.get("media"),
            file_name=raw.get("file_name") or default_name,
            mime_type=mime,
            size=_int(raw.get("size")),
        )

    if isinstance(message, TextMessage):
        return IncomingMessage(ref, ContentKind.TEXT, text=message.text)
    if isinstance(message, PictureMessage):
        attachment = media(ContentKind.PHOTO, "photo.jpg")
        return IncomingMessage(
            ref, ContentKind.PHOTO, message.text or None, attachments=(attachment,)
        )
    if isinstance(message, VideoMessage):
        attachment = media(ContentKind.VIDEO, "video.mp4")
        return IncomingMessage(ref, ContentKind.VIDEO, raw.get("text"), attachments=(attachment,))
    if isinstance(message, FileMessage):
        attachment = media(ContentKind.DOCUMENT, "file")
        return IncomingMessage(ref, ContentKind.DOCUMENT, attachments=(attachment,))
    if isinstance(message, StickerMessage):
        attachments = (media(ContentKind.STICKER, "sticker.png"),) if raw.get("media") else ()
        text = None if attachments else f"[sticker {message.sticker_id}]"
        return IncomingMessage(ref, ContentKind.STICKER, text, attachments=attachments)
    if isinstance(message, LocationMessage) and message.location is not None:
        where = {"latitude": message.location.latitude, "longitude": message.location.longitude}
        return IncomingMessage(ref, ContentKind.LOCATION, payload=where)
    if isinstance(message, ContactMessage) and message.contact is not None:
        contact = {"phone_number": message.contact.phone_number, "first_name": message.contact.name}
        return IncomingMessage(ref, ContentKind.CONTACT, payload=contact)
    if isinstance(message, URLMessage):
        return IncomingMessage(ref, ContentKind.URL, text=message.media)
    return IncomingMessage(ref, ContentKind.OTHER, text=f"[{raw.get('type', 'unknown')} message]")


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return None
