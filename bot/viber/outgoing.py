"""Operators' Telegram messages → Viber messages, built with viberbot's message classes.

Viber fetches media by URL, so each file is published at `PUBLIC_URL/media/<token>/<name>`
for this customer only. Viber has no edits, replies or albums: replies carry a short quote and
albums become one message per item.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from viberbot.api.messages import (
    ContactMessage,
    FileMessage,
    LocationMessage,
    PictureMessage,
    TextMessage,
    VideoMessage,
)
from viberbot.api.messages.data_types.contact import Contact
from viberbot.api.messages.data_types.location import Location

from bridge.errors import DeliveryFailed, FailureReason
from bridge.formatting import short_quote, split_text, viber_markup
from bridge.media_links import MediaLinks
from bridge.model import Attachment, ContentKind, Customer, IncomingMessage, Reply

TEXT_LIMIT = 7000  # characters in one Viber text message
TEXT_BYTES = 24_000  # keeps each request under Viber's 30 KB with room for the envelope
CAPTION_LIMIT = 120  # picture descriptions; longer captions follow as text
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB
VIDEO_LIMIT = 26 * 1024 * 1024
FILE_LIMIT = 50 * 1024 * 1024

Payload = dict[str, Any]


class ViberMessageBuilder:
    def __init__(self, media_links: MediaLinks, public_url: str) -> None:
        self._links = media_links
        self._public = public_url

    async def build(
        self, customer: Customer, message: IncomingMessage, reply: Reply | None
    ) -> list[Payload]:
        text = viber_markup(message.text or "", message.entities) if message.text else ""
        if reply is not None:
            text = f"↩️ «{short_quote(reply.snippet) or '…'}»\n{text}".rstrip()
        kind = message.kind
        attachment = message.attachments[0] if message.attachments else None
        if kind is ContentKind.TEXT:
            return self.texts(text)
        if kind in (ContentKind.LOCATION, ContentKind.VENUE):
            where = message.payload.get("location", message.payload)
            lat, lon = where.get("latitude"), where.get("longitude")
            location = LocationMessage(location=Location(lat=lat, lon=lon)).to_dict()
            venue = " — ".join(
                str(message.payload[k]) for k in ("title", "address") if message.payload.get(k)
            )
            return [location, *self.texts("\n".join(p for p in (text, venue) if p))]
        if kind is ContentKind.CONTACT:
            payload = message.payload
            name = " ".join(str(payload[k]) for k in ("first_name", "last_name") if payload.get(k))
            contact = Contact(name=name or "Contact", phone_number=payload.get("phone_number"))
            return [ContactMessage(contact=contact).to_dict(), *self.texts(text)]
        if kind is ContentKind.POLL:
            options = "\n".join(
                f"• {o.get('text', '')}" for o in message.payload.get("options", [])
            )
            question = message.payload.get("question", "")
            return self.texts(f"📊 {question}\n{options}")
        if kind is ContentKind.STICKER and attachment is not None:
            if message.payload.get("is_animated") or message.payload.get("is_video"):
                return self.texts(str(message.payload.get("emoji") or "🙂"))
            url = await self._publish(customer, attachment, "sticker.png", "image/png")
            return [PictureMessage(media=url, text="").to_dict()]
        if attachment is not None and attachment.file_id:
            return await self._media(customer, kind, attachment, text)
        if kind is ContentKind.OTHER and message.text is None:
            raise DeliveryFailed(FailureReason.UNSUPPORTED)
        return self.texts(text or message.text or "")

    async def _media(
        self, customer: Customer, kind: ContentKind, attachment: Attachment, text: str
    ) -> list[Payload]:
        size = attachment.size or 0
        if size > DOWNLOAD_LIMIT:
            raise DeliveryFailed(
                FailureReason.TOO_LONG, "files over 20 MB cannot be passed on from Telegram"
            )
        if kind is ContentKind.PHOTO:
            url = await self._publish(customer, attachment, "photo.jpg", "image/jpeg")
            if len(text) <= CAPTION_LIMIT:
                return [PictureMessage(media=url, text=text).to_dict()]
            return [PictureMessage(media=url, text="").to_dict(), *self.texts(text)]
        if kind in (ContentKind.VIDEO, ContentKind.ANIMATION, ContentKind.VIDEO_NOTE) and (
            size <= VIDEO_LIMIT
        ):
            url = await self._publish(customer, attachment, "video.mp4", "video/mp4")
            return [VideoMessage(media=url, size=size).to_dict(), *self.texts(text)]
        names = {ContentKind.VOICE: "voice.ogg", ContentKind.AUDIO: "audio.mp3"}
        name = attachment.file_name or names.get(kind, "file")
        url = await self._publish(customer, attachment, name, attachment.mime_type)
        file = FileMessage(media=url, size=size, file_name=name).to_dict()
        return [file, *self.texts(text)]

    async def _publish(
        self, customer: Customer, attachment: Attachment, name: str, mime: str | None
    ) -> str:
        if attachment.kind is ContentKind.DOCUMENT and attachment.file_name:
            name = attachment.file_name
        safe = name or "file"
        token = await self._links.publish(
            customer.id,
            Attachment(
                kind=attachment.kind,
                file_id=attachment.file_id,
                file_name=safe,
                mime_type=mime or attachment.mime_type,
                size=attachment.size,
            ),
            safe,
        )
        return f"{self._public}/media/{token}/{quote(safe)}"

    @staticmethod
    def texts(text: str) -> list[Payload]:
        if not text.strip():
            return []
        return [
            TextMessage(text=part).to_dict() for part in split_text(text, TEXT_LIMIT, TEXT_BYTES)
        ]
