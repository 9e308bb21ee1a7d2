"""Plain types the core speaks in: frozen dataclasses with no platform objects inside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    """Where a customer lives."""

    TELEGRAM = "telegram"
    VIBER = "viber"
    # the company's own Telegram account, with the bot connected to it (Telegram Business)
    TELEGRAM_BUSINESS = "business"

    @property
    def display_name(self) -> str:
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES = {
    Platform.TELEGRAM: "Telegram",
    Platform.VIBER: "Viber",
    Platform.TELEGRAM_BUSINESS: "Telegram Business",
}


class ContentKind(StrEnum):
    """What a message carries; one value per kind the bridge relays."""

    TEXT = "text"
    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"
    DOCUMENT = "document"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO_NOTE = "video_note"
    STICKER = "sticker"
    LOCATION = "location"
    VENUE = "venue"
    CONTACT = "contact"
    POLL = "poll"
    URL = "url"
    OTHER = "other"


class TopicState(StrEnum):
    """The state a topic shows at a glance."""

    NEW = "new"
    WAITING = "waiting"
    ANSWERED = "answered"
    CLOSED = "closed"


class DeliveryMark(StrEnum):
    """How far an operator's message got: shown on it in the topic."""

    SENT = "sent"  # accepted by the platform, not yet confirmed on the customer's device
    DELIVERED = "delivered"
    SEEN = "seen"


@dataclass(frozen=True)
class TextEntity:
    """Formatting of a span of text, in Telegram's terms (UTF-16 offsets)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file carried by a message; `file_id` is the platform's handle, `url` a download link."""

    kind: ContentKind
    file_id: str | None = None
    url: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives on its platform: enough to copy, reply to or edit it."""

    platform: Platform
    chat_id: str
    message_id: str


@dataclass(frozen=True)
class IncomingMessage:
    """One message from a customer or an operator, platform-neutral.

    `ref` points at the original so a same-platform adapter may copy it verbatim;
    the other fields let any adapter rebuild it elsewhere.
    """

    ref: MessageRef
    kind: ContentKind
    text: str | None = None
    entities: tuple[TextEntity, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reply_to_message_id: str | None = None
    album_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    # The bridge wrote these words (a saved reply): `ref` is the operator's command (or the
    # list whose button was pressed), not a message to copy, so adapters send `text` itself.
    composed: bool = False

    @property
    def is_internal_note(self) -> bool:
        """Operators start a message with `!` to keep it inside the team."""
        return self.kind is ContentKind.TEXT and (self.text or "").lstrip().startswith("!")


@dataclass(frozen=True)
class CustomerProfile:
    """What a platform tells us about a customer at the moment they write."""

    platform: Platform
    external_id: str
    full_name: str
    username: str | None = None
    language: str | None = None
    profile_url: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operator:
    """A member of the operator group acting in a topic.

    `id` is the Telegram user id; an anonymous admin posts as the group (a negative id) and
    is nobody in particular: such an operator never owns a conversation.
    """

    id: int
    name: str
    username: str | None = None

    @property
    def is_person(self) -> bool:
        return self.id > 0


@dataclass(frozen=True)
class Customer:
    """A stored customer with their topic."""

    id: int
    platform: Platform
    external_id: str
    full_name: str
    username: str | None
    language: str | None
    profile_url: str | None
    details: Mapping[str, str]
    first_seen_at: datetime
    topic_id: int | None
    card_message_id: int | None
    banned: bool
    last_seen_at: datetime | None = None
    unreachable: str | None = None  # a FailureReason value while the customer cannot be reached
    language_chosen: bool = False  # set with /language: the platform's language no longer applies
    topic_name: str | None = None  # the name the topic shows
    topic_closed: bool = False  # the topic is shown closed
    card_body: str | None = None  # the words posted under the card in its message (HTML)
    card_in_caption: bool = False  # the card is that message's caption (a photo, a file)
    group_id: int | None = None  # the operator group their topic is in
    department: str | None = None  # the department their conversations go to
    last_category: str | None = None  # the FAQ category they browsed last

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.external_id}"

    def seen_as(self, profile: CustomerProfile, now: datetime) -> Customer:
        """This customer as the profile they just wrote with shows them (what `upsert` stores)."""
        language = self.language
        if profile.language and not self.language_chosen:
            language = profile.language[:16]
        return replace(
            self,
            full_name=profile.full_name[:256],
            username=profile.username[:64] if profile.username else None,
            language=language,
            profile_url=profile.profile_url,
            details=dict(profile.details),
            last_seen_at=now,
        )


@dataclass(frozen=True)
class Conversation:
    """One question from opening to closing; a customer has many, one open at a time."""

    id: int
    customer_id: int
    opened_at: datetime
    state: TopicState
    first_operator_reply_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    last_operator_message_at: datetime | None = None
    closed_at: datetime | None = None
    opened_offline: bool = False
    offline_reply_for: datetime | None = None  # the opening that ends the period we replied in
    faq_offered: str | None = None  # "category/entry" of an FAQ answer the bot offered
    faq_helped: bool | None = None
    rating: int | None = None  # 1–5 stars from the customer after closing
    rating_comment: str | None = None
    rated_at: datetime | None = None
    sla_alerted_at: datetime | None = None  # when the "waiting too long" reminder was posted
    owner_id: int | None = None  # the operator who owns it (taken, assigned or first to answer)
    owner_name: str | None = None

    @property
    def owner(self) -> Operator | None:
        if self.owner_id is None:
            return None
        return Operator(self.owner_id, self.owner_name or f"Operator {self.owner_id}")

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def open_state(self) -> TopicState:
        """What an open conversation shows: nobody answered yet, customer waits, or answered."""
        if self.first_operator_reply_at is None or self.last_operator_message_at is None:
            return TopicState.NEW
        if (self.last_customer_message_at or self.opened_at) >= self.last_operator_message_at:
            return TopicState.WAITING
        return TopicState.ANSWERED


@dataclass(frozen=True)
class Reply:
    """The customer's message an operator answers: its id there and a snippet for quoting."""

    message_id: str
    snippet: str | None = None


@dataclass(frozen=True)
class Link:
    """One relayed message as the message map knows it."""

    customer_id: int
    customer_message_id: str
    group_message_id: int
    snippet: str | None = None
    composed: bool = False  # the group message is not a copy: edits are shown as notes


@dataclass(frozen=True)
class SavedSnippet:
    """An operator's saved reply in one language, as `/save` stored it (a template: it may
    hold `{first_name}`, `{operator}`, `{department}`)."""

    name: str
    language: str
    text: str
    saved_by: str
    saved_at: datetime


@dataclass(frozen=True)
class MediaLink:
    """A file published for one customer at an unguessable URL, until it expires."""

    token: str
    customer_id: int
    file_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    expires_at: datetime


@dataclass(frozen=True)
class NewUpdate:
    """An update as it arrives, before the inbox has given it an id."""

    key: str
    lane: str
    platform: str
    payload: Mapping[str, Any]
    received_at: datetime
    command: str | None = None  # the command's name; None: a raw platform update (before 0010)


@dataclass(frozen=True)
class InboxItem:
    """An incoming update waiting to be (or being) processed."""

    id: int
    key: str
    lane: str
    platform: str
    payload: Mapping[str, Any]
    attempts: int
    command: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    """A delivery as a handler decided it, before the outbox has given it an id."""

    lane: str
    destination: str
    priority: int
    kind: str
    payload: Mapping[str, Any]
    customer_id: int | None
    not_before: datetime
    coalesce: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A delivery waiting in the outbox (or being sent)."""

    id: int
    lane: str
    destination: str
    priority: int
    kind: str
    payload: Mapping[str, Any]
    customer_id: int | None
    created_at: datetime
    not_before: datetime
    attempts: int = 0
    coalesce: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A relayed message as the message map keeps it: its words are a snippet (200 chars)."""

    conversation_id: int
    from_customer: bool
    at: datetime
    text: str | None
    message_id: str  # its id on the customer's platform


@dataclass(frozen=True)
class HeldMessage:
    """An operator's message to a customer held back (a paid Viber message, an account problem)."""

    held_at: datetime
    texts: tuple[str, ...]


@dataclass(frozen=True)
class CustomerRecord:
    """Everything the bridge stores about one customer, for an export."""

    customer: Customer
    conversations: tuple[Conversation, ...]
    messages: tuple[StoredMessage, ...]
    media: tuple[MediaLink, ...]
    held: tuple[HeldMessage, ...]


@dataclass(frozen=True)
class Erasure:
    """What erasing one customer deleted, by kind; `topic_id`: the topic they had, if any."""

    conversations: int
    ratings: int
    messages: int
    updates: int
    deliveries: int
    media_links: int
    held_messages: int
    topic_id: int | None
    group_id: int | None = None  # the group the topic is in (None: OPERATOR_CHAT_ID's)
