"""Showing messages from other platforms (Viber) in a topic: media are downloaded from the
platform and uploaded to Telegram as files, because Telegram often fails to fetch foreign URLs."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, ReplyParameters

from bot.http_fetch import MediaFetcher, TooLarge
from bot.telegram.calls import call
from bot.telegram.new_content import reply_parameters
from bridge.cards import quote
from bridge.formatting import split_text
from bridge.model import ContentKind, IncomingMessage

TEXT_LIMIT = 4096  # characters in one Telegram message
CAPTION_LIMIT = 1024
# Bot API upload limits: photos 10 MB, other files 50 MB.
PHOTO_LIMIT = 10 * 1024 * 1024
FILE_LIMIT = 50 * 1024 * 1024
_DEFAULT_NAMES = {
    ContentKind.PHOTO: "photo.jpg",
    ContentKind.STICKER: "sticker.png",
    ContentKind.VIDEO: "video.mp4",
    ContentKind.DOCUMENT: "file",
}


class ForeignUploader:
    def __init__(self, bot: Bot, fetcher: MediaFetcher | None) -> None:
        self._bot = bot
        self._fetcher = fetcher

    async def send(
        self, chat_id: int, thread_id: int | None, message: IncomingMessage, reply_to: int | None
    ) -> int:
        reply = reply_parameters(reply_to)
        payload = message.payload
        if message.kind is ContentKind.LOCATION and "latitude" in payload:
            sent = await call(
                lambda: self._bot.send_location(
                    chat_id=chat_id,
                    message_thread_id=thread_id,
                    latitude=float(payload["latitude"]),
                    longitude=float(payload["longitude"]),
                    reply_parameters=reply,
                )
            )
            return sent.message_id
        if message.kind is ContentKind.CONTACT and payload.get("phone_number"):
            sent = await call(
                lambda: self._bot.send_contact(
                    chat_id=chat_id,
                    message_thread_id=thread_id,
                    phone_number=str(payload["phone_number"]),
                    first_name=str(payload.get("first_name") or "Contact"),
                    reply_parameters=reply,
                )
            )
            return sent.message_id
        if message.attachments and message.attachments[0].url:
            return await self._send_file(chat_id, thread_id, message, reply_to)
        return await self._send_texts(
            chat_id, thread_id, message.text or f"[{message.kind}]", reply
        )

    async def _send_texts(
        self, chat_id: int, thread_id: int | None, text: str, reply: ReplyParameters | None
    ) -> int:
        """Telegram refuses texts over 4096 characters: send them in parts; the first is mapped."""
        ids = []
        for index, part in enumerate(split_text(text, TEXT_LIMIT)):
            answer = reply if index == 0 else None
            sent = await call(
                lambda part=part, answer=answer: self._bot.send_message(  # type: ignore[misc]
                    chat_id=chat_id, message_thread_id=thread_id, text=part, reply_parameters=answer
                )
            )
            ids.append(sent.message_id)
        return int(ids[0])

    async def _send_file(
        self, chat_id: int, thread_id: int | None, message: IncomingMessage, reply_to: int | None
    ) -> int:
        attachment = message.attachments[0]
        url = attachment.url or ""
        as_photo = message.kind in (ContentKind.PHOTO, ContentKind.STICKER)
        limit = PHOTO_LIMIT if as_photo else FILE_LIMIT
        name = attachment.file_name or _DEFAULT_NAMES.get(message.kind, "file")
        fetched = None
        too_large = attachment.size is not None and attachment.size > limit
        if not too_large and self._fetcher is not None:
            try:
                fetched = await self._fetcher.fetch(url, limit)
            except TooLarge:
                too_large = True
        reply = reply_parameters(reply_to)
        if fetched is None:
            why = "too large for Telegram" if too_large else "could not be downloaded"
            size = f" ({attachment.size / 1_048_576:.1f} MB)" if attachment.size else ""
            note = (
                f"📎 The customer sent a {escape(message.kind.value)}{size} that is {why}: "
                f'<a href="{escape(url)}">{escape(name)}</a>'
            )
            if message.text:
                note += f"\n{quote(message.text, limit=3000)}"
            sent = await call(
                lambda: self._bot.send_message(
                    chat_id=chat_id,
                    message_thread_id=thread_id,
                    text=note,
                    parse_mode="HTML",
                    reply_parameters=reply,
                )
            )
            return sent.message_id
        upload = BufferedInputFile(fetched.data, filename=name)
        caption = message.text or None
        rest: str | None = None
        if caption and len(caption) > CAPTION_LIMIT:  # media first, then the text on its own
            caption, rest = None, caption
        if as_photo:
            method: Any = self._bot.send_photo
            field = "photo"
        elif message.kind is ContentKind.VIDEO:
            method, field = self._bot.send_video, "video"
        else:
            method, field = self._bot.send_document, "document"
        sent = await call(
            lambda: method(
                chat_id=chat_id,
                message_thread_id=thread_id,
                caption=caption,
                reply_parameters=reply,
                **{field: upload},
            )
        )
        if rest:
            await self._send_texts(chat_id, thread_id, rest, reply_parameters(sent.message_id))
        return int(sent.message_id)
