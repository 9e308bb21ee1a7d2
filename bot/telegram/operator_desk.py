"""The operators' forum supergroup as the core's `OperatorDesk`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReactionTypeEmoji

from bot.telegram.calls import call, unless_unmodified
from bot.telegram.new_content import TEXT_LIMIT
from bot.telegram.sending import CAPTION_LIMIT, TelegramSender
from bot.telegram.uploads import ForeignUploader
from bridge.cards import SEPARATOR
from bridge.errors import BridgeError, DeliveryFailed
from bridge.formatting import html_of, plain_length
from bridge.model import ContentKind, DeliveryMark, IncomingMessage, Platform
from bridge.ports import Card, CardButton, Header, Posted

log = logging.getLogger(__name__)
TELEGRAMS = (Platform.TELEGRAM, Platform.TELEGRAM_BUSINESS)

# A bot may set one reaction per message; only Telegram's standard emoji are allowed.
MARKS = {DeliveryMark.SENT: "🕊", DeliveryMark.DELIVERED: "👍", DeliveryMark.SEEN: "👀"}
CARD_CALLBACK_PREFIX = "card:"
# Kinds whose copy can carry our caption (the card above the customer's own caption).
CAPTIONED = frozenset(
    {
        ContentKind.PHOTO,
        ContentKind.VIDEO,
        ContentKind.ANIMATION,
        ContentKind.DOCUMENT,
        ContentKind.AUDIO,
        ContentKind.VOICE,
    }
)


def _one_album(messages: Sequence[IncomingMessage]) -> bool:
    albums = {m.album_id for m in messages}
    return len(albums) == 1 and None not in albums


def button_row(buttons: tuple[CardButton, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.label, callback_data=CARD_CALLBACK_PREFIX + b.action)
                for b in buttons
            ]
        ]
    )


def button_column(buttons: tuple[CardButton, ...]) -> InlineKeyboardMarkup:
    """One button per row: a list to pick from (saved replies)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=CARD_CALLBACK_PREFIX + b.action)]
            for b in buttons
        ]
    )


def card_keyboard(card: Card) -> InlineKeyboardMarkup:
    return button_row(card.buttons)


class TelegramOperatorDesk:
    def __init__(
        self, sender: TelegramSender, chat_id: int, uploader: ForeignUploader | None = None
    ) -> None:
        self._sender = sender
        self._bot = sender.bot
        self._uploader = uploader or ForeignUploader(sender.bot, None)
        self.chat_id = chat_id

    async def open_topic(self, name: str) -> int:
        topic = await call(lambda: self._bot.create_forum_topic(chat_id=self.chat_id, name=name))
        return topic.message_thread_id

    async def rename_topic(self, topic_id: int, name: str) -> None:
        await unless_unmodified(
            lambda: self._bot.edit_forum_topic(
                chat_id=self.chat_id, message_thread_id=topic_id, name=name
            )
        )

    async def close_topic(self, topic_id: int) -> None:
        await unless_unmodified(
            lambda: self._bot.close_forum_topic(chat_id=self.chat_id, message_thread_id=topic_id)
        )

    async def reopen_topic(self, topic_id: int) -> None:
        await unless_unmodified(
            lambda: self._bot.reopen_forum_topic(chat_id=self.chat_id, message_thread_id=topic_id)
        )

    async def post_card(self, topic_id: int, card: Card) -> int:
        sent = await call(
            lambda: self._bot.send_message(
                chat_id=self.chat_id,
                message_thread_id=topic_id,
                text=card.html,
                parse_mode="HTML",
                reply_markup=card_keyboard(card),
            )
        )
        return sent.message_id

    async def update_card(
        self, message_id: int, card: Card, body: str | None = None, in_caption: bool = False
    ) -> None:
        html = f"{card.html}{SEPARATOR}{body}" if body else card.html
        try:
            if in_caption:
                await unless_unmodified(
                    lambda: self._bot.edit_message_caption(
                        chat_id=self.chat_id,
                        message_id=message_id,
                        caption=html,
                        parse_mode="HTML",
                        reply_markup=card_keyboard(card),
                    )
                )
                return
            await unless_unmodified(
                lambda: self._bot.edit_message_text(
                    chat_id=self.chat_id,
                    message_id=message_id,
                    text=html,
                    parse_mode="HTML",
                    reply_markup=card_keyboard(card),
                )
            )
        except DeliveryFailed as error:  # an old card that cannot be edited is not worth failing
            log.info("customer card %s not updated: %s", message_id, error)

    async def post_words(
        self,
        topic_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        header: Header | None = None,
    ) -> Posted:
        """Copies where they can be; a header (the card) and texts composed into one post;
        a header as the caption of a single copied file when it fits."""
        telegram = all(m.ref.platform is Platform.TELEGRAM for m in messages)
        # Telegram's (copied) or a Telegram Business chat's (sent again by file id): either
        # way an album stays an album
        telegrams = all(m.ref.platform in TELEGRAMS for m in messages)
        texts = all(m.kind is ContentKind.TEXT and m.text for m in messages)
        if header is None and telegrams and (len(messages) == 1 or _one_album(messages)):
            ids = await self._sender.copy(self.chat_id, messages, reply_to, thread_id=topic_id)
            return Posted(tuple(ids))
        keyboard = button_row(header.buttons) if header and header.buttons else None
        if texts:
            body = "\n\n".join(html_of(m.text or "", m.entities) for m in messages)
            html = f"{header.html}{SEPARATOR}{body}" if header else body
            if plain_length(html) <= TEXT_LIMIT:
                sent = await self._sender.send_html(
                    self.chat_id, html, thread_id=topic_id, reply_to=reply_to, keyboard=keyboard
                )
                header_id = sent if header else None
                return Posted((sent,) * len(messages), header_id, composed=True, body=body)
        if header is not None and telegram and len(messages) == 1:
            message = messages[0]
            caption = html_of(message.text or "", message.entities) if message.text else ""
            html = f"{header.html}{SEPARATOR}{caption}" if caption else header.html
            if message.kind in CAPTIONED and plain_length(html) <= CAPTION_LIMIT:
                sent = await self._sender.copy_with_caption(
                    self.chat_id, message, html, reply_to, topic_id, keyboard
                )
                return Posted((sent,), sent, composed=True, body=caption or None, in_caption=True)
        header_id = None
        if header is not None:
            header_id = await self._sender.send_html(
                self.chat_id, header.html, thread_id=topic_id, keyboard=keyboard
            )
        if telegrams and (len(messages) == 1 or _one_album(messages)):
            ids = await self._sender.copy(self.chat_id, messages, reply_to, thread_id=topic_id)
        else:
            ids = []  # other platforms have no albums to keep: one message each
            for message in messages:
                ids.append(await self._post_one(topic_id, message, reply_to))
        return Posted(tuple(ids), header_id)

    async def _post_one(self, topic_id: int, message: IncomingMessage, reply_to: int | None) -> int:
        if message.ref.platform in TELEGRAMS:
            copied = await self._sender.copy(self.chat_id, [message], reply_to, thread_id=topic_id)
            return copied[0]
        return await self._uploader.send(self.chat_id, topic_id, message, reply_to)

    async def apply_edit(self, message_id: int, message: IncomingMessage) -> bool:
        return await self._sender.edit(self.chat_id, message_id, message)

    async def post_note(
        self,
        topic_id: int,
        html: str,
        reply_to: int | None = None,
        buttons: tuple[CardButton, ...] = (),
        column: bool = False,
    ) -> int:
        keyboard = (button_column(buttons) if column else button_row(buttons)) if buttons else None
        return await self._sender.send_html(
            self.chat_id, html, thread_id=topic_id, reply_to=reply_to, keyboard=keyboard
        )

    async def post_general(self, html: str) -> int:
        return await self._sender.send_html(self.chat_id, html)

    async def mark(self, message_id: int, mark: DeliveryMark) -> None:
        try:
            await call(
                lambda: self._bot.set_message_reaction(
                    chat_id=self.chat_id,
                    message_id=message_id,
                    reaction=[ReactionTypeEmoji(emoji=MARKS[mark])],
                )
            )
        except BridgeError as error:  # the message was delivered; a missing mark is cosmetic
            log.info("delivery mark on %s not set: %s", message_id, error)
