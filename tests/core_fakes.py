"""Fakes of the core's ports (operator desk, customer channel, clock) for core-rule tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bridge.errors import DeliveryFailed, TopicMissing
from bridge.model import Customer, DeliveryMark, IncomingMessage, Platform, Reply
from bridge.ports import Card, CardButton, Header, Posted
from bridge.screens import Screen


class FixedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class FakeTopic:
    name: str
    closed: bool = False
    deleted: bool = False
    posts: list[tuple[str, object]] = field(default_factory=list)


class FakeDesk:
    """An operator desk in memory: topics with what was posted into each."""

    def __init__(self) -> None:
        self.topics: dict[int, FakeTopic] = {}
        self.cards: dict[int, Card] = {}
        self.delivered: list[int] = []
        self.marks: list[tuple[int, DeliveryMark]] = []
        self.buttons: list[CardButton] = []
        self.general: list[str] = []
        self._next_id = 100

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _topic(self, topic_id: int) -> FakeTopic:
        topic = self.topics.get(topic_id)
        if topic is None or topic.deleted:
            raise TopicMissing("message thread not found")
        return topic

    async def open_topic(self, name: str) -> int:
        topic_id = self._id()
        self.topics[topic_id] = FakeTopic(name)
        return topic_id

    async def rename_topic(self, topic_id: int, name: str) -> None:
        self._topic(topic_id).name = name

    async def close_topic(self, topic_id: int) -> None:
        self._topic(topic_id).closed = True

    async def reopen_topic(self, topic_id: int) -> None:
        self._topic(topic_id).closed = False

    async def post_card(self, topic_id: int, card: Card) -> int:
        message_id = self._id()
        self._topic(topic_id).posts.append(("card", card))
        self.cards[message_id] = card
        return message_id

    async def update_card(
        self, message_id: int, card: Card, body: str | None = None, in_caption: bool = False
    ) -> None:
        self.cards[message_id] = card

    async def post_words(
        self,
        topic_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        header: Header | None = None,
    ) -> Posted:
        """Like Telegram's desk: a header (the card) rides on the first words' post."""
        topic = self._topic(topic_id)
        header_id = None
        if header is not None:
            header_id = self._id()
            if header.buttons:
                self.cards[header_id] = Card(header.html, header.buttons)
            topic.posts.append(("card" if header.buttons else "note", header.html))
        ids = []
        for message in messages:
            topic.posts.append(("relay", (message.text, reply_to)))
            ids.append(header_id if header_id is not None and not ids else self._id())
        return Posted(tuple(ids), header_id, composed=header_id is not None)

    async def apply_edit(self, message_id: int, message: IncomingMessage) -> bool:
        return False

    async def post_note(
        self,
        topic_id: int,
        html: str,
        reply_to: int | None = None,
        buttons: tuple[CardButton, ...] = (),
        column: bool = False,
    ) -> int:
        self._topic(topic_id).posts.append(("note", html))
        self.buttons.extend(buttons)
        return self._id()

    async def post_general(self, html: str) -> int:
        self.general.append(html)
        return self._id()

    async def mark(self, message_id: int, mark: DeliveryMark) -> None:
        self.marks.append((message_id, mark))
        if mark is DeliveryMark.DELIVERED:
            self.delivered.append(message_id)

    def notes(self, topic_id: int) -> list[str]:
        return [str(body) for kind, body in self.topics[topic_id].posts if kind == "note"]


class FakeChannel:
    """Customers on one platform, in memory; `refuse` makes the next sends fail."""

    platform = Platform.TELEGRAM
    receipts = False
    free_window: timedelta | None = None

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, str | None]] = []
        self.refuse: DeliveryFailed | None = None
        self.screens: list[Screen] = []
        self._next_id = 1000  # apart from the ids tests give customers' own messages

    async def deliver(
        self, customer: Customer, messages: Sequence[IncomingMessage], reply: Reply | None
    ) -> list[str]:
        if self.refuse:
            raise self.refuse
        ids = []
        for message in messages:
            self._next_id += 1
            self.sent.append((customer.external_id, message.text, reply and reply.message_id))
            ids.append(str(self._next_id))
        return ids

    @property
    def last_id(self) -> str:
        return str(self._next_id)

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        return False

    async def send_screen(
        self, customer: Customer, screen: Screen, in_place_of: str | None = None
    ) -> str:
        if self.refuse:
            raise self.refuse
        self.screens.append(screen)
        return await self.send_text(customer, screen.text)

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        if self.refuse:
            raise self.refuse
        self._next_id += 1
        self.sent.append((customer.external_id, text, reply_to))
        return str(self._next_id)


class FakeAnswers:
    """Button acknowledgements, as the one who pressed sees them."""

    def __init__(self) -> None:
        self.given: dict[str, str] = {}

    async def answer(self, callback_id: str, text: str) -> None:
        self.given[callback_id] = text
