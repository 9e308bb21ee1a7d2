"""Moving messages between Telegram chats: copies, albums and edits.

Both directions use it: customer chat → topic (the operator desk) and topic → customer chat
(the customer channel). Copying keeps every kind intact (polls, venues, stickers, formatting)
without downloading anything; albums go as one media group so they stay albums.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import (
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    ReplyParameters,
)

from bot.telegram.calls import call
from bot.telegram.mappers import to_entities
from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import ContentKind, IncomingMessage, Platform

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


def _album_item(message: IncomingMessage) -> AlbumItem:
    media_type = _ALBUM_TYPES.get(message.kind)
    if media_type is None or not message.attachments or not message.attachments[0].file_id:
        raise DeliveryFailed(FailureReason.UNSUPPORTED, f"{message.kind} in an album")
    return media_type(
        media=message.attachments[0].file_id,
        caption=message.text,
        caption_entities=to_entities(message.entities),
    )


class TelegramSender:
    """Copies core messages that originate on Telegram into a chat (and topic)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def copy(
        self,
        chat_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        thread_id: int | None = None,
    ) -> list[int]:
        """Copy one message or an album; returns the new message ids in order."""
        if any(m.ref.platform is not Platform.TELEGRAM for m in messages):
            raise DeliveryFailed(FailureReason.UNSUPPORTED, "message from another platform")
        if len(messages) == 1:
            source = messages[0]
            copied = await call(
                lambda: self.bot.copy_message(
                    chat_id=chat_id,
                    from_chat_id=int(source.ref.chat_id),
                    message_id=int(source.ref.message_id),
                    message_thread_id=thread_id,
                    reply_parameters=reply_parameters(reply_to),
                )
            )
            return [copied.message_id]
        media = [_album_item(m) for m in messages]
        sent = await call(
            lambda: self.bot.send_media_group(
                chat_id=chat_id,
                media=list(media),
                message_thread_id=thread_id,
                reply_parameters=reply_parameters(reply_to),
            )
        )
        return [m.message_id for m in sent]

    async def edit(self, chat_id: int, message_id: int, message: IncomingMessage) -> bool:
        """Apply new text or caption; False when Telegram cannot edit that message."""
        entities = to_entities(message.entities)
        try:
            if message.kind is ContentKind.TEXT:
                await call(
                    lambda: self.bot.edit_message_text(
                        chat_id=chat_id,
                        message_id=message_id,
                        text=message.text or "",
                        entities=entities,
                    )
                )
            else:
                await call(
                    lambda: self.bot.edit_message_caption(
                        chat_id=chat_id,
                        message_id=message_id,
                        caption=message.text,
                        caption_entities=entities,
                    )
                )
        except DeliveryFailed as error:
            if error.reason in (FailureReason.BLOCKED, FailureReason.NOT_FOUND):
                raise
            return "not modified" in error.detail.lower()
        return True

    async def send_html(
        self,
        chat_id: int,
        html: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> int:
        sent = await call(
            lambda: self.bot.send_message(
                chat_id=chat_id,
                text=html,
                parse_mode="HTML",
                message_thread_id=thread_id,
                reply_parameters=reply_parameters(reply_to),
                reply_markup=keyboard,
            )
        )
        return sent.message_id

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> int:
        sent = await call(
            lambda: self.bot.send_message(
                chat_id=chat_id,
                text=text,
                reply_parameters=reply_parameters(reply_to),
                reply_markup=keyboard,
            )
        )
        return sent.message_id
