"""What the core decided to deliver: the rows of the outbox, as plain values.

A handler decides; it never calls a platform. Each delivery waits in the outbox until a
worker for its destination chat has the budget to send it (`bridge.delivery`). Deliveries
carry ids, not platform objects: what they need from the database (the customer's topic, the
map of messages for a reply or an edit) is read when they are sent, so a delivery decided
before the topic existed still finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, ClassVar

from bridge.codec import from_json, to_json
from bridge.model import DeliveryMark, IncomingMessage, NewDelivery, Operator
from bridge.ports import CardButton
from bridge.screens import Screen


class Priority(IntEnum):
    """What a scarce slot of a chat's budget is spent on first."""

    WORDS = 0  # what customers and operators wrote
    NOTES = 1  # the bridge's notes, cards, a topic closed or reopened
    COSMETIC = 2  # topic names and reactions: coalesced, deferred, dropped when superseded


@dataclass(frozen=True)
class Delivery:
    kind: ClassVar[str]
    priority: ClassVar[Priority] = Priority.NOTES

    @property
    def coalesce_key(self) -> str | None:
        """Cosmetics with the same key replace each other: only the latest state is shown."""
        return None


# ----- into the customer's topic in the operator group ------------------------------------


@dataclass(frozen=True)
class PostWords(Delivery):
    """A customer's message (an album: its items) shown in their topic.

    `header`: a note shown with the words (a new conversation began, the customer is back).
    `at`: when the customer wrote (the message map and the waiting time count from then).
    """

    kind: ClassVar[str] = "post_words"
    priority: ClassVar[Priority] = Priority.WORDS
    customer_id: int
    conversation_id: int
    messages: tuple[IncomingMessage, ...]
    at: datetime
    header: str | None = None
    from_customer: bool = True  # False: the business account's owner wrote them by hand


@dataclass(frozen=True)
class PostNote(Delivery):
    """The bridge's own note (escaped HTML) in the customer's topic, maybe under a message.

    `reply_to_group`: a message of the topic; `reply_to_customer_message`: a customer's
    message, found in the map when the note is posted (its copy may not exist yet now).
    `topic_id` instead of a customer: a topic that belongs to nobody (an answer there).
    """

    kind: ClassVar[str] = "post_note"
    customer_id: int | None
    html: str
    reply_to_group: int | None = None
    reply_to_customer_message: str | None = None
    buttons: tuple[CardButton, ...] = ()
    topic_id: int | None = None
    buttons_in_column: bool = False  # a list to pick from, one button under another
    # a transfer: once this note is in the new topic, the former one (group, thread) gets a
    # link to it and is closed
    moved_from_group: int | None = None
    moved_from_topic: int | None = None


@dataclass(frozen=True)
class EditCopy(Delivery):
    """A customer edited a message: the copy in the topic follows, or a note shows the edit."""

    kind: ClassVar[str] = "edit_copy"
    priority: ClassVar[Priority] = Priority.WORDS
    customer_id: int
    customer_message_id: str
    message: IncomingMessage


@dataclass(frozen=True)
class SetTopicOpen(Delivery):
    """Close or reopen the customer's topic."""

    kind: ClassVar[str] = "set_topic_open"
    customer_id: int
    open: bool


@dataclass(frozen=True)
class CloseFormerTopic(Delivery):
    """Close a topic a customer left for another department's group."""

    kind: ClassVar[str] = "close_former_topic"
    topic_id: int


@dataclass(frozen=True)
class RefreshCard(Delivery):
    """Redraw the customer card (banned or not)."""

    kind: ClassVar[str] = "refresh_card"
    customer_id: int


@dataclass(frozen=True)
class ShowTopicState(Delivery):
    """Bring the topic's name in line with the conversation's state, as it is when sent."""

    kind: ClassVar[str] = "show_topic_state"
    priority: ClassVar[Priority] = Priority.COSMETIC
    customer_id: int

    @property
    def coalesce_key(self) -> str | None:
        return f"look:{self.customer_id}"


@dataclass(frozen=True)
class MarkMessage(Delivery):
    """How far an operator's message got, as a reaction on it; the latest one in a topic
    stands for the earlier ones."""

    kind: ClassVar[str] = "mark_message"
    priority: ClassVar[Priority] = Priority.COSMETIC
    customer_id: int
    group_message_id: int
    mark: DeliveryMark

    @property
    def coalesce_key(self) -> str | None:
        return f"mark:{self.customer_id}"


@dataclass(frozen=True)
class PostGeneral(Delivery):
    """A line for the whole team in the General topic."""

    kind: ClassVar[str] = "post_general"
    html: str


# ----- to the customer -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliverWords(Delivery):
    """An operator's message (an album: its items) sent to the customer.

    `warn_paid`: once sent, tell the operators it started a paid conversation (Viber).
    """

    kind: ClassVar[str] = "deliver_words"
    priority: ClassVar[Priority] = Priority.WORDS
    customer_id: int
    conversation_id: int
    messages: tuple[IncomingMessage, ...]
    operator: Operator
    at: datetime
    reply_to_group: int | None = None
    warn_paid: bool = False
    first_reply_after: float | None = None  # seconds since the conversation opened, if first


@dataclass(frozen=True)
class SendScreen(Delivery):
    """The bridge's own text (with buttons) to the customer.

    `in_place_of`: the screen message whose button was pressed; where the platform can, it is
    edited instead of a new message being sent. `failure_note`: say so in the topic when it
    cannot be delivered (an operator asked for it: /wait, an FAQ answer).
    """

    kind: ClassVar[str] = "send_screen"
    customer_id: int
    screen: Screen
    in_place_of: str | None = None
    failure_note: bool = False


@dataclass(frozen=True)
class EditDelivered(Delivery):
    """An operator edited a message: the customer's copy follows, or a correction is sent."""

    kind: ClassVar[str] = "edit_delivered"
    priority: ClassVar[Priority] = Priority.WORDS
    customer_id: int
    group_message_id: int
    message: IncomingMessage


# ----- to whoever pressed a button -----------------------------------------------------------


@dataclass(frozen=True)
class AnswerButton(Delivery):
    """Acknowledge a button press, with a short text shown to the one who pressed it."""

    kind: ClassVar[str] = "answer_button"
    callback_id: str
    text: str = ""


KINDS: dict[str, type[Delivery]] = {
    kind.kind: kind
    for kind in (
        PostWords,
        PostNote,
        EditCopy,
        SetTopicOpen,
        CloseFormerTopic,
        RefreshCard,
        ShowTopicState,
        MarkMessage,
        PostGeneral,
        DeliverWords,
        SendScreen,
        EditDelivered,
        AnswerButton,
    )
}


def encode(delivery: Delivery) -> dict[str, Any]:
    data: dict[str, Any] = to_json(delivery)
    return data


def decode(kind: str, data: dict[str, Any]) -> Delivery:
    return from_json(KINDS[kind], data)


@dataclass(frozen=True)
class Planned:
    """A delivery with where it goes: a destination chat, and the lane that orders it.

    `hold_until`: not before then (an album or a new customer's first words wait a moment
    for what follows, which joins them).
    """

    delivery: Delivery
    destination: str
    lane: str
    customer_id: int | None = None
    hold_until: datetime | None = None


def as_new(planned: Planned, now: datetime) -> NewDelivery:
    """A planned delivery as the outbox stores it."""
    delivery = planned.delivery
    return NewDelivery(
        lane=planned.lane,
        destination=planned.destination,
        priority=int(delivery.priority),
        kind=delivery.kind,
        payload=encode(delivery),
        customer_id=planned.customer_id,
        not_before=planned.hold_until or now,
        coalesce=delivery.coalesce_key,
    )
