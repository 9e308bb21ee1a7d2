"""Ports: what the core needs from the outside world, as protocols adapters implement.

Every method raises only `bridge.errors` exceptions: `DeliveryFailed` for a final refusal,
`TopicMissing` when a topic is gone, `RetryLater` when the platform asks to wait.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from bridge.business import BusinessAccount
from bridge.model import (
    Conversation,
    Customer,
    CustomerProfile,
    CustomerRecord,
    DeliveryMark,
    Erasure,
    InboxItem,
    IncomingMessage,
    Link,
    MediaLink,
    NewDelivery,
    NewUpdate,
    Operator,
    OutboxItem,
    Platform,
    Reply,
    SavedSnippet,
)
from bridge.screens import Screen


@dataclass(frozen=True)
class CardButton:
    """A button under the customer card; `action` is handled by `Relay.card_action`."""

    label: str
    action: str


@dataclass(frozen=True)
class Card:
    """The customer card at the top of a topic, as HTML the core has already escaped."""

    html: str
    buttons: tuple[CardButton, ...]


@dataclass(frozen=True)
class Header:
    """What goes above a customer's words in the same post when it fits: the card (with its
    buttons) in a new topic, or a note (a new conversation began)."""

    html: str
    buttons: tuple[CardButton, ...] = ()


@dataclass(frozen=True)
class Posted:
    """Where a customer's words went in the topic.

    `ids`: one group message per customer message (several may share one composed post);
    `header_id`: the message that shows the header; `composed`: the words were written anew
    (not copied), so their edits are shown as notes; `body`/`in_caption`: the words' HTML under
    the header in the header's message, to redraw it later.
    """

    ids: tuple[int, ...]
    header_id: int | None = None
    composed: bool = False
    body: str | None = None
    in_caption: bool = False


class OperatorDesk(Protocol):
    """The operators' forum group: one topic per customer."""

    async def open_topic(self, name: str) -> int:
        """Create a topic, return its thread id."""
        ...

    async def rename_topic(self, topic_id: int, name: str) -> None: ...

    async def close_topic(self, topic_id: int) -> None: ...

    async def reopen_topic(self, topic_id: int) -> None: ...

    async def post_card(self, topic_id: int, card: Card) -> int:
        """Post the card, return its message id."""
        ...

    async def update_card(
        self, message_id: int, card: Card, body: str | None = None, in_caption: bool = False
    ) -> None:
        """Redraw the card; `body`: the words posted under it in the same message."""
        ...

    async def post_words(
        self,
        topic_id: int,
        messages: Sequence[IncomingMessage],
        reply_to: int | None,
        header: Header | None = None,
    ) -> Posted:
        """Show a customer's messages (an album, or several texts) in the topic, with the
        header in the same post where the platform allows."""
        ...

    async def apply_edit(self, message_id: int, message: IncomingMessage) -> bool:
        """Apply a customer's edit to the relayed copy; False when the platform cannot."""
        ...

    async def post_note(
        self,
        topic_id: int,
        html: str,
        reply_to: int | None = None,
        buttons: tuple[CardButton, ...] = (),
        column: bool = False,
    ) -> int:
        """Post the bridge's own note (already escaped HTML) into the topic; its buttons in a
        row, or one under another (`column`: a list to pick from)."""
        ...

    async def post_general(self, html: str) -> int:
        """Post into the General topic (alerts that concern the whole team)."""
        ...

    async def mark(self, message_id: int, mark: DeliveryMark) -> None:
        """Show on an operator's message how far it got (sent, delivered, seen)."""
        ...


class CustomerChannel(Protocol):
    """Sending to customers on one platform.

    `receipts`: the platform reports delivered/seen later, so a send is only "sent".
    `free_window`: messages a bot starts after this long since the customer's last message
    are paid (Viber's commercial model); None where sending is always free.
    """

    platform: Platform
    receipts: bool
    free_window: timedelta | None

    async def deliver(
        self,
        customer: Customer,
        messages: Sequence[IncomingMessage],
        reply: Reply | None,
    ) -> list[str]:
        """Send an operator's message (or album); one platform message id per item."""
        ...

    async def apply_edit(
        self, customer: Customer, message_id: str, message: IncomingMessage
    ) -> bool:
        """Apply an operator's edit; False when the platform cannot edit that message."""
        ...

    async def send_text(self, customer: Customer, text: str, reply_to: str | None = None) -> str:
        """Send the bridge's own plain text (greeting, closing, corrections)."""
        ...

    async def send_screen(
        self, customer: Customer, screen: Screen, in_place_of: str | None = None
    ) -> str:
        """Send a text with buttons (FAQ answers, auto-replies); `in_place_of`: the screen
        whose button was pressed, edited instead where the platform can."""
        ...


@runtime_checkable
class MarksRead(Protocol):
    """A channel that can show the customer their messages read (Telegram Business)."""

    async def mark_read(self, customer: Customer, message_id: str) -> None: ...


class ButtonAnswers(Protocol):
    """Acknowledging a button press (Telegram shows the text to whoever pressed it)."""

    async def answer(self, callback_id: str, text: str) -> None: ...


class CustomerRepository(Protocol):
    async def upsert(self, profile: CustomerProfile, now: datetime) -> Customer: ...

    async def get(self, customer_id: int) -> Customer | None: ...

    async def many(self, customer_ids: Collection[int]) -> dict[int, Customer]: ...

    async def by_topic(self, group_id: int, topic_id: int) -> Customer | None: ...

    async def adopt_topics(self, group_id: int) -> int: ...

    async def leave_topic(self, customer: Customer, now: datetime) -> None: ...

    async def set_department(self, customer_id: int, department: str, group_id: int) -> None: ...

    async def browsed(self, customer_id: int, category_id: str) -> None: ...

    async def set_topic(
        self,
        customer_id: int,
        topic_id: int | None,
        name: str | None = None,
        group_id: int | None = None,
    ) -> None:
        """A new topic (or none: it was deleted); its card is still to be posted."""
        ...

    async def set_card(
        self,
        customer_id: int,
        message_id: int,
        body: str | None,
        in_caption: bool,
        posted_at: datetime,
    ) -> None:
        """The card's message, and the words under it in that message (dated for retention)."""
        ...

    async def set_topic_shown(
        self, customer_id: int, *, name: str | None = None, closed: bool | None = None
    ) -> None: ...

    async def set_banned(self, customer_id: int, banned: bool) -> None: ...

    async def set_unreachable(self, customer_id: int, reason: str | None) -> None: ...

    async def choose_language(self, customer_id: int, language: str) -> None: ...

    async def find(self, platform: Platform, external_id: str) -> Customer | None: ...

    async def find_with_latest(
        self, platform: Platform, external_id: str
    ) -> tuple[Customer, Conversation | None] | None:
        """A known customer and their latest conversation, in one query."""
        ...

    async def record_activity(self, before: Customer, after: Customer) -> None:
        """Write what changed between two versions of a customer (at least `last_seen_at`)."""
        ...


class ConversationRepository(Protocol):
    async def latest(self, customer_id: int) -> Conversation | None: ...

    async def get(self, conversation_id: int) -> Conversation | None: ...

    async def start(
        self, customer_id: int, now: datetime, offline: bool = False
    ) -> Conversation: ...

    async def recent_first_responses(self, since: datetime, limit: int) -> list[Conversation]: ...

    async def mark_sla_alerted(
        self, conversation_id: int, when: datetime, waiting_since: datetime
    ) -> bool:
        """Mark the reminder unless one was already marked in this waiting period."""
        ...

    async def waiting(self) -> list[tuple[Conversation, datetime]]:
        """Open conversations whose customer waits for an operator, with since when."""
        ...

    async def count(self, customer_id: int, up_to: int | None = None) -> int: ...

    async def save(self, conversation: Conversation) -> None:
        """Every column but the SLA mark (see `mark_sla_alerted`, `clear_sla_alert`)."""
        ...

    async def clear_sla_alert(self, conversation_id: int) -> None: ...

    async def set_owner(
        self, conversation_id: int, owner: Operator | None, unless_owner: int | None = None
    ) -> bool:
        """Give it an owner, or none; `unless_owner`: only if that operator still owns it.
        True when it changed."""
        ...

    async def owned_by(self, operator_id: int) -> list[Conversation]:
        """The operator's open conversations, oldest first."""
        ...


class OperatorRepository(Protocol):
    """Operators seen writing in the group (their @username finds them for `/assign`)."""

    async def seen(self, operator: Operator, now: datetime) -> None: ...

    async def by_username(self, username: str) -> Operator | None: ...


class MessageLinkRepository(Protocol):
    async def add(
        self,
        customer_id: int,
        conversation_id: int,
        customer_message_id: str,
        group_message_id: int,
        from_customer: bool,
        now: datetime,
        snippet: str | None = None,
        operator: Operator | None = None,
        composed: bool = False,
        group_id: int | None = None,
    ) -> None: ...

    async def group_message_for(
        self, customer_id: int, customer_message_id: str, group_id: int, default_group: int
    ) -> int | None:
        """Where the customer's message was shown in `group_id`."""
        ...

    async def for_customer_message(
        self,
        customer_id: int,
        customer_message_id: str,
        group_id: int | None = None,
        default_group: int | None = None,
    ) -> Link | None:
        """The first group message it was shown in (in `group_id` only, when given)."""
        ...

    async def recent(self, customer_id: int, count: int) -> list[tuple[bool, str]]:
        """The last `count` messages with words, oldest first: (from the customer, words)."""
        ...

    async def latest_from_customer(self, customer_id: int) -> str | None:
        """The customer's newest message shown to operators (its id on their platform)."""
        ...

    async def by_group_message(self, group_message_id: int, customer_id: int) -> Link | None:
        """The link of a group message of this customer's (a message id is unique within its
        group only, and a customer moved to another department has topics in two)."""
        ...


class MediaLinkRepository(Protocol):
    async def add(self, link: MediaLink) -> None: ...

    async def get(self, token: str) -> MediaLink | None: ...


class HeldMessageRepository(Protocol):
    async def hold(
        self, customer_id: int, topic_id: int, payload: dict[str, Any], now: datetime
    ) -> int: ...

    async def release(self, held_id: int) -> tuple[int, int, dict[str, Any]] | None:
        """Remove a held message; (customer id, topic id, payload) or None if already gone."""
        ...


class InboxRepository(Protocol):
    async def add(
        self, key: str, lane: str, platform: str, payload: dict[str, Any], now: datetime
    ) -> int | None:
        """Store an incoming update; None when its key was seen before."""
        ...

    async def add_many(self, updates: Sequence[NewUpdate]) -> list[int | None]:
        """Store several in one statement: an id each, None for a key seen before (also
        earlier in the same list)."""
        ...

    async def pending(self, limit: int) -> list[InboxItem]: ...

    async def pending_in_lane(self, lane: str, limit: int) -> list[InboxItem]:
        """A lane's pending updates, oldest first."""
        ...

    async def lanes_pending(self, received_before: datetime, limit: int) -> list[str]:
        """Lanes that still have updates waiting since before a moment (for a sweep)."""
        ...

    async def record_attempt(self, item_id: int, error: str) -> None: ...

    async def finish(self, item_id: int, state: str, error: str | None = None) -> None: ...

    async def prune(self, before: datetime) -> int: ...


class OutboxRepository(Protocol):
    async def add(
        self, deliveries: Sequence[NewDelivery], now: datetime
    ) -> tuple[list[OutboxItem], list[int]]:
        """Store deliveries; a cosmetic replaces a pending one with the same key (the ids of
        the replaced rows are returned with what was stored)."""
        ...

    async def last_held(
        self, lane: str, destination: str, kind: str, held_after: datetime
    ) -> OutboxItem | None: ...

    async def extend_held(
        self, item_id: int, payload: dict[str, Any], not_before: datetime, held_after: datetime
    ) -> OutboxItem | None: ...

    async def pending(self, destination: str, limit: int) -> list[OutboxItem]: ...

    async def claim(self, item_ids: Sequence[int], now: datetime) -> list[OutboxItem]:
        """The deliveries as they are now, held no longer (nothing joins them after this)."""
        ...

    async def destinations_waiting(self, limit: int) -> list[str]: ...

    async def finish(
        self, item_ids: Sequence[int], state: str, error: str | None = None
    ) -> None: ...

    async def postpone(self, item_id: int, not_before: datetime, error: str) -> None: ...

    async def waiting_since(self, before: datetime) -> list[tuple[str, int, datetime]]: ...

    async def depth(self) -> list[tuple[str, int, datetime]]: ...

    async def prune(self, before: datetime) -> int: ...


class NoticeRepository(Protocol):
    async def show_once(self, key: str, now: datetime) -> bool: ...

    async def solved(self, key: str) -> None: ...


class RetentionRepository(Protocol):
    """Forgetting what is older than it may be kept (see `bridge.retention`)."""

    async def forget_links(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` message links made before `before`; what `/stats` counts of
        them is kept as tallies. Returns how many were deleted."""
        ...

    async def clear_texts(self, before: datetime) -> int:
        """Clear rating comments given and card words posted before `before`; how many."""
        ...

    async def forget_held(self, before: datetime) -> int:
        """Delete operators' messages held back since before `before`."""
        ...

    async def forget_expired_media(self, now: datetime) -> int: ...


class CustomerDataRepository(Protocol):
    """One customer's rows in every table: read for an export, deleted for an erasure."""

    async def claim_lane(self, lane: str) -> None:
        """Hold the customer's lane until the transaction ends, waiting for whoever works it
        (another replica), so no command of theirs is half handled while they are erased."""
        ...

    async def record(self, customer: Customer) -> CustomerRecord: ...

    async def erase(self, customer: Customer, lane: str, destination: str) -> Erasure:
        """Delete the customer and every row about them: by their id, their lane (the
        commands of their chat and their topic) and their destination (deliveries to them)."""
        ...


class SnippetRepository(Protocol):
    """Operators' saved replies (`/save`), shared by every replica."""

    async def all(self) -> list[SavedSnippet]: ...

    async def save(self, snippet: SavedSnippet) -> bool:
        """Store a text for its name and language; True when it replaced an earlier one."""
        ...


class BusinessAccountRepository(Protocol):
    async def get(self, connection_id: str) -> BusinessAccount | None: ...

    async def all(self) -> list[BusinessAccount]: ...

    async def save(self, account: BusinessAccount) -> None:
        """Store the connection as Telegram reports it now."""
        ...


class UnitOfWork(Protocol):
    """One transaction: rolled back on exit unless `commit` was called."""

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def links(self) -> MessageLinkRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def media(self) -> MediaLinkRepository: ...

    @property
    def held(self) -> HeldMessageRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def notices(self) -> NoticeRepository: ...

    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def retention(self) -> RetentionRepository: ...

    @property
    def customer_data(self) -> CustomerDataRepository: ...

    @property
    def snippets(self) -> SnippetRepository: ...

    @property
    def business(self) -> BusinessAccountRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class Metrics(Protocol):
    """What the core counts; the adapter decides how it is exported (Prometheus)."""

    def relayed(self, platform: Platform, direction: str, count: int = 1) -> None: ...

    def delivery_failed(self, reason: str) -> None: ...

    def first_response(self, seconds: float) -> None: ...


class NoMetrics:
    def relayed(self, platform: Platform, direction: str, count: int = 1) -> None:
        pass

    def delivery_failed(self, reason: str) -> None:
        pass

    def first_response(self, seconds: float) -> None:
        pass


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
