"""Sending a message again as new content, by the file ids the bot already has.

Where a copy is not possible, the message is rebuilt: a Telegram Business chat is not a chat
the bot is in, so `copyMessage` finds nothing there, and the Bot API has no copy on behalf of
a business account either (`copyMessage` takes no `business_connection_id`). Every kind keeps
its form (a photo stays a photo, a voice note a voice note); `business` sends on behalf of
the connected account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import Bot
from aiogram.types import (
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    ReplyParameters,
)

from bot.telegram.calls import call
from bot.telegram.mappers import to_entities
from bridge.errors import DeliveryFailed, FailureReason
from bridge.formatting import split_text
from bridge.model import ContentKind, IncomingMessage, TextEntity

TEXT_LIMIT = 4096  # characters in one Telegram message
# kind → (method name, the file's parameter); captions go with all but these
_FILES: dict[ContentKind, tuple[str, str]] = {
    ContentKind.PHOTO: ("send_photo", "photo"),
    ContentKind.VIDEO: ("send_video", "video"),
    ContentKind.ANIMATION: ("send_animation", "animation"),
    ContentKind.DOCUMENT: ("send_document", "document"),
    ContentKind.AUDIO: ("send_audio", "audio"),
    ContentKind.VOICE: ("send_voice", "voice"),
    ContentKind.VIDEO_NOTE: ("send_video_note", "video_note"),
    ContentKind.STICKER: ("send_sticker", "sticker"),
}

AlbumItem = InputMediaPhoto | InputMediaVideo | InputMediaDocument | InputMediaAudio
_ALBUM_TYPES: dict[ContentKind, type[AlbumItem]] = {
    ContentKind.PHOTO: InputMediaPhoto,
    ContentKind.VIDEO: InputMediaVideo,
    ContentKind.DOCUMENT: InputMediaDocument,
    ContentKind.AUDIO: InputMediaAudio,
}


def reply_parameters(message_id: int | None) -> ReplyParameters | None:
    """Reply if the target still exists; never fail a relay because the original is gone."""
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def album_item(message: IncomingMessage) -> AlbumItem:
    media_type = _ALBUM_TYPES.get(message.kind)
    if media_type is None or not message.attachments or not message.attachments[0].file_id:
        raise DeliveryFailed(FailureReason.UNSUPPORTED, f"{message.kind} in an album")
    return media_type(
        media=message.attachments[0].file_id,
        caption=message.text,
        caption_entities=to_entities(message.entities),
    )


def _where(
    chat_id: int, reply_to: int | None, thread_id: int | None, business: str | None
) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "message_thread_id": thread_id,
        "business_connection_id": business,
        "reply_parameters": reply_parameters(reply_to),
    }


class NewContent:
    """Rebuilds messages in a chat (a topic, or a business chat) from their parts."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(
        self,
        chat_id: int,
        message: IncomingMessage,
        reply_to: int | None,
        *,
        thread_id: int | None = None,
        business: str | None = None,
        files_as_documents: bool = False,
    ) -> int:
        """One message; a text longer than Telegram takes goes in parts (the first is mapped).
        `files_as_documents`: every file as a document (Telegram refused it as itself)."""
        where = _where(chat_id, reply_to, thread_id, business)
        kind, payload = message.kind, message.payload
        file_id = message.attachments[0].file_id if message.attachments else None
        if file_id and (kind in _FILES or files_as_documents):
            method, field = ("send_document", "document") if files_as_documents else _FILES[kind]
            words: dict[str, Any] = {}
            if field not in ("video_note", "sticker") and message.text:
                words = {"caption": message.text, "caption_entities": to_entities(message.entities)}
            send = getattr(self._bot, method)
            sent = await call(lambda: send(**where, **words, **{field: file_id}))
            return int(sent.message_id)
        shown = await self.place_or_contact(
            chat_id, message, reply_to, thread_id=thread_id, business=business
        )
        if shown is not None:
            return shown
        text, entities = message.text, message.entities
        if kind is ContentKind.POLL and payload.get("question"):
            options = "\n".join(f"• {o.get('text', '')}" for o in payload.get("options", []))
            text, entities = f"📊 {payload['question']}\n{options}".strip(), ()
        if text:
            return await self.words(
                chat_id, text, entities, reply_to, thread_id=thread_id, business=business
            )
        raise DeliveryFailed(FailureReason.UNSUPPORTED, f"{kind.value} cannot be sent again")

    async def place_or_contact(
        self,
        chat_id: int,
        message: IncomingMessage,
        reply_to: int | None,
        *,
        thread_id: int | None = None,
        business: str | None = None,
    ) -> int | None:
        """A location, venue or contact as itself; None when the message is none of them (or
        lacks what Telegram needs to show it)."""
        where = _where(chat_id, reply_to, thread_id, business)
        kind, payload = message.kind, message.payload
        if kind in (ContentKind.LOCATION, ContentKind.VENUE):
            place = payload.get("location", payload)
            if "latitude" not in place:
                return None
            point: dict[str, Any] = {
                "latitude": float(place["latitude"]),
                "longitude": float(place["longitude"]),
            }
            if kind is ContentKind.VENUE and payload.get("title"):
                venue: dict[str, Any] = {
                    "title": str(payload["title"]),
                    "address": str(payload.get("address", "")),
                }
                sent = await call(lambda: self._bot.send_venue(**where, **point, **venue))
            else:
                sent = await call(lambda: self._bot.send_location(**where, **point))
            return int(sent.message_id)
        if kind is ContentKind.CONTACT and payload.get("phone_number"):
            contact: dict[str, Any] = {
                "phone_number": str(payload["phone_number"]),
                "first_name": str(payload.get("first_name") or "Contact"),
                "last_name": payload.get("last_name"),
            }
            sent = await call(lambda: self._bot.send_contact(**where, **contact))
            return int(sent.message_id)
        return None

    async def words(
        self,
        chat_id: int,
        text: str,
        entities: Sequence[TextEntity],
        reply_to: int | None,
        *,
        thread_id: int | None = None,
        business: str | None = None,
    ) -> int:
        """A text with its formatting; in parts (without it) when longer than Telegram takes."""
        if entities and len(text) <= TEXT_LIMIT:
            parts = [text]  # as written: the formatting's offsets count from its first character
        else:
            parts = split_text(text, TEXT_LIMIT) or [text]  # trimmed, as Telegram shows it
        ids = []
        for index, part in enumerate(parts):
            sent = await call(
                lambda part=part, index=index: self._bot.send_message(  # type: ignore[misc]
                    chat_id=chat_id,
                    message_thread_id=thread_id,
                    business_connection_id=business,
                    text=part,
                    entities=to_entities(tuple(entities)) if len(parts) == 1 else None,
                    reply_parameters=reply_parameters(reply_to) if index == 0 else None,
                )
            )
            ids.append(sent.message_id)
        return int(ids[0])

    async def album(
        self,
        chat_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        *,
        thread_id: int | None = None,
        business: str | None = None,
    ) -> list[int]:
        """An album stays an album: one media group of the same files."""
        media = [album_item(m) for m in messages]
        sent = await call(
            lambda: self._bot.send_media_group(
                chat_id=chat_id,
                media=list(media),
                message_thread_id=thread_id,
                business_connection_id=business,
                reply_parameters=reply_parameters(reply_to),
            )
        )
        return [m.message_id for m in sent]
