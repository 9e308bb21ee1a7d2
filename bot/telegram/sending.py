"""Moving messages between Telegram chats: copies, albums and edits.

Both directions use it: customer chat → topic (the operator desk) and topic → customer chat
(the customer channel). Copying keeps every kind intact (polls, venues, stickers, formatting)
without downloading anything; albums go as one media group so they stay albums.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.calls import call, unless_unmodified
from bot.telegram.mappers import to_entities
from bot.telegram.new_content import NewContent, reply_parameters
from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import ContentKind, IncomingMessage, Platform, TextEntity

log = logging.getLogger(__name__)


CAPTION_LIMIT = 1024
# Refusals that no other way of sending changes: the chat itself cannot be written to.
FINAL = (FailureReason.BLOCKED, FailureReason.NOT_FOUND)


class TelegramSender:
    """Copies core messages that originate on Telegram into a chat (and topic)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.new = NewContent(bot)

    async def copy(
        self,
        chat_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        thread_id: int | None = None,
    ) -> list[int]:
        """Copy one message or an album; returns the new message ids in order.

        When Telegram refuses a copy (a quiz poll, a protected or oversized file, an album it
        will not take), each message is sent again as new content instead (`resend`).
        """
        if len(messages) == 1 and messages[0].composed:  # a saved reply: no original to copy
            composed = messages[0]
            text, entities = composed.text or "", composed.entities
            return [await self.send_formatted(chat_id, text, entities, reply_to, thread_id)]
        if all(m.ref.platform is Platform.TELEGRAM_BUSINESS for m in messages):
            return await self._rebuild(chat_id, messages, reply_to, thread_id)
        if any(m.ref.platform is not Platform.TELEGRAM for m in messages):
            raise DeliveryFailed(FailureReason.UNSUPPORTED, "message from another platform")
        try:
            return await self._copy(chat_id, messages, reply_to, thread_id)
        except DeliveryFailed as error:
            if error.reason in FINAL:
                raise
            log.info("copy refused (%s); sending as new content", error.detail[:80])
            ids = []
            for index, message in enumerate(messages):
                answer = reply_to if index == 0 else None
                ids.append(await self.resend(chat_id, message, answer, thread_id, error))
            return ids

    async def resend(
        self,
        chat_id: int,
        message: IncomingMessage,
        reply_to: int | None,
        thread_id: int | None,
        refused: DeliveryFailed,
    ) -> int:
        """The message as new content: by file id, a file as a document, a poll as text."""
        try:
            return await self.new.send(
                chat_id, message, reply_to, thread_id=thread_id, files_as_documents=True
            )
        except DeliveryFailed as error:
            if error.reason is FailureReason.UNSUPPORTED:
                raise refused from None  # nothing to send again: the first refusal says why
            raise

    async def send_formatted(
        self,
        chat_id: int,
        text: str,
        entities: Sequence[TextEntity],
        reply_to: int | None,
        thread_id: int | None,
    ) -> int:
        """A text with its formatting, in parts when it is longer than Telegram takes."""
        return await self.new.words(chat_id, text, entities, reply_to, thread_id=thread_id)

    async def _rebuild(
        self,
        chat_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        thread_id: int | None,
    ) -> list[int]:
        """Messages of a Telegram Business chat: the bot is not in that chat, so nothing
        there can be copied; they are sent again by their file ids (an album as one)."""
        if len(messages) > 1:
            return await self.new.album(chat_id, messages, reply_to, thread_id=thread_id)
        return [await self.new.send(chat_id, messages[0], reply_to, thread_id=thread_id)]

    async def _copy(
        self,
        chat_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        thread_id: int | None,
    ) -> list[int]:
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
        return await self.new.album(chat_id, messages, reply_to, thread_id=thread_id)

    async def edit(
        self, chat_id: int, message_id: int, message: IncomingMessage, business: str | None = None
    ) -> bool:
        """Apply new text or caption; False when Telegram cannot edit that message.
        `business`: a message sent on a Telegram Business account's behalf."""
        entities = to_entities(message.entities)
        try:
            if message.kind is ContentKind.TEXT:
                await call(
                    lambda: self.bot.edit_message_text(
                        business_connection_id=business,
                        chat_id=chat_id,
                        message_id=message_id,
                        text=message.text or "",
                        entities=entities,
                    )
                )
            else:
                await call(
                    lambda: self.bot.edit_message_caption(
                        business_connection_id=business,
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

    async def copy_with_caption(
        self,
        chat_id: int,
        message: IncomingMessage,
        caption_html: str,
        reply_to: int | None,
        thread_id: int | None,
        keyboard: InlineKeyboardMarkup | None,
    ) -> int:
        """A copy whose caption is ours (the card above the customer's caption)."""
        copied = await call(
            lambda: self.bot.copy_message(
                chat_id=chat_id,
                from_chat_id=int(message.ref.chat_id),
                message_id=int(message.ref.message_id),
                message_thread_id=thread_id,
                caption=caption_html,
                parse_mode="HTML",
                reply_markup=keyboard,
                reply_parameters=reply_parameters(reply_to),
            )
        )
        return copied.message_id

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
        business: str | None = None,
    ) -> int:
        sent = await call(
            lambda: self.bot.send_message(
                business_connection_id=business,
                chat_id=chat_id,
                text=text,
                reply_parameters=reply_parameters(reply_to),
                reply_markup=keyboard,
            )
        )
        return sent.message_id

    async def show_screen(
        self,
        chat_id: int,
        text: str,
        keyboard: InlineKeyboardMarkup | None,
        in_place_of: str | None,
        business: str | None = None,
    ) -> str:
        """A pressed screen is edited in place (FAQ navigation); one too old to edit, or a
        new screen, is sent as a new message."""
        if in_place_of is not None and in_place_of.isdigit():
            try:
                await unless_unmodified(
                    lambda: self.bot.edit_message_text(
                        business_connection_id=business,
                        chat_id=chat_id,
                        message_id=int(in_place_of),
                        text=text,
                        reply_markup=keyboard,
                    )
                )
                return in_place_of
            except DeliveryFailed as error:
                if error.reason in FINAL:
                    raise
        return str(await self.send_text(chat_id, text, keyboard=keyboard, business=business))
