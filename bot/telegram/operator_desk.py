"""The operators' forum supergroup as the core's `OperatorDesk`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReactionTypeEmoji

from bot.telegram.calls import call, unless_unmodified
from bot.telegram.sending import TelegramSender
from bot.telegram.uploads import ForeignUploader
from bridge.errors import BridgeError
from bridge.model import DeliveryMark, IncomingMessage, Platform
from bridge.ports import Card, CardButton

log = logging.getLogger(__name__)

# A bot may set one reaction per message; only Telegram's standard emoji are allowed.
MARKS = {DeliveryMark.SENT: "🕊", DeliveryMark.DELIVERED: "👍", DeliveryMark.SEEN: "👀"}
CARD_CALLBACK_PREFIX = "card:"


def button_row(buttons: tuple[CardButton, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.label, callback_data=CARD_CALLBACK_PREFIX + b.action)
                for b in buttons
            ]
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

    async def update_card(self, message_id: int, card: Card) -> None:
        try:
            await unless_unmodified(
                lambda: self._bot.edit_message_text(
                    chat_id=self.chat_id,
                    message_id=message_id,
                    text=card.html,
                    parse_mode="HTML",
                    reply_markup=card_keyboard(card),
                )
            )
        except BridgeError as error:  # an old card that cannot be edited is not worth failing
            log.info("customer card %s not updated: %s", message_id, error)

    async def relay(
        self, topic_id: int, messages: Sequence[IncomingMessage], reply_to: int | None
    ) -> list[int]:
        if all(m.ref.platform is Platform.TELEGRAM for m in messages):
            return await self._sender.copy(self.chat_id, messages, reply_to, thread_id=topic_id)
        ids = []  # other platforms have no albums to keep: one message each
        for message in messages:
            ids.append(await self._uploader.send(self.chat_id, topic_id, message, reply_to))
        return ids

    async def apply_edit(self, message_id: int, message: IncomingMessage) -> bool:
        return await self._sender.edit(self.chat_id, message_id, message)

    async def post_note(
        self,
        topic_id: int,
        html: str,
        reply_to: int | None = None,
        buttons: tuple[CardButton, ...] = (),
    ) -> int:
        keyboard = button_row(buttons) if buttons else None
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
