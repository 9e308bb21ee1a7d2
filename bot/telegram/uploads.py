"""Showing messages from other platforms (Viber) in a topic: media are downloaded from the
platform and uploaded to Telegram as files, because Telegram often fails to fetch foreign URLs."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.http_fetch import MediaFetcher, TooLarge
from bot.telegram.calls import call
from bot.telegram.new_content import NewContent, reply_parameters
from bridge.cards import quote
from bridge.model import ContentKind, IncomingMessage

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
        self._new = NewContent(bot)
        self._fetcher = fetcher

    async def send(
        self, chat_id: int, thread_id: int | None, message: IncomingMessage, reply_to: int | None
    ) -> int:
        shown = await self._new.place_or_contact(chat_id, message, reply_to, thread_id=thread_id)
        if shown is not None:
            return shown
        if message.attachments and message.attachments[0].url:
            return await self._send_file(chat_id, thread_id, message, reply_to)
        text = message.text or f"[{message.kind}]"
        return await self._new.words(chat_id, text, (), reply_to, thread_id=thread_id)

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
            await self._new.words(chat_id, rest, (), sent.message_id, thread_id=thread_id)
        return int(sent.message_id)
