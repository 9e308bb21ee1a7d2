"""The schema. Portable column types only, so SQLite and PostgreSQL run the same migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Words(TypeDecorator[str]):
    """Text from the outside world: PostgreSQL refuses NUL characters in text (SQLite keeps
    them), so they are dropped on the way in rather than failing the write for ever."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql" or "\x00" not in value:
            return value
        return value.replace("\x00", "")


class LongWords(Words):
    impl = Text
    cache_ok = True


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_customers_platform_external_id"),
        UniqueConstraint("group_id", "topic_id", name="uq_customers_group_id_topic_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(Words(16))
    external_id: Mapped[str] = mapped_column(Words(64))
    full_name: Mapped[str] = mapped_column(Words(256))
    username: Mapped[str | None] = mapped_column(Words(64))
    language: Mapped[str | None] = mapped_column(Words(16))
    profile_url: Mapped[str | None] = mapped_column(Words(512))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    # the operator group the topic is in (a thread id is unique within its group only)
    group_id: Mapped[int | None] = mapped_column(BigInteger)
    department: Mapped[str | None] = mapped_column(Words(20))
    last_category: Mapped[str | None] = mapped_column(Words(20))  # FAQ browsed last
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[str | None] = mapped_column(Words(32))
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    # what the topic shows, so a cosmetic that changes nothing costs no call
    topic_name: Mapped[str | None] = mapped_column(Words(128))
    topic_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # the words posted under the card in its message (to redraw the card around them)
    card_body: Mapped[str | None] = mapped_column(LongWords)
    card_in_caption: Mapped[bool] = mapped_column(Boolean, default=False)
    # when the card (and the words under it) was posted: retention clears the words by it
    card_posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_customer_opened", "customer_id", "opened_at"),
        Index("ix_conversations_state_closed", "state", "closed_at"),
        Index("ix_conversations_opened_at", "opened_at"),
        Index("ix_conversations_owner_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    state: Mapped[str] = mapped_column(Words(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_operator_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_customer_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_operator_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    opened_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_reply_for: Mapped[datetime | None] = mapped_column(UtcDateTime())
    faq_offered: Mapped[str | None] = mapped_column(Words(64))
    faq_helped: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Words(500))
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sla_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # who owns it: written only by its own statements (`set_owner`), never by `save`
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_name: Mapped[str | None] = mapped_column(Words(128))


class FormerTopicRow(Base):
    """A topic a customer had in another group before a transfer: what operators write or edit
    there still reaches them."""

    __tablename__ = "former_topics"

    group_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    left_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OperatorRow(Base):
    """An operator seen writing in the group: `/assign @username` finds them by username."""

    __tablename__ = "operators"
    __table_args__ = (Index("ix_operators_username", "username"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Words(128))
    username: Mapped[str | None] = mapped_column(Words(64))  # lower case, without the @
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MessageLinkRow(Base):
    """One relayed message: its id on the customer's side and in the operator group."""

    __tablename__ = "message_links"
    __table_args__ = (
        Index("ix_message_links_customer_message", "customer_id", "customer_message_id"),
        Index("ix_message_links_group_message", "group_message_id"),
        Index("ix_message_links_conversation_created", "conversation_id", "created_at"),
        Index("ix_message_links_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_message_id: Mapped[str] = mapped_column(Words(64))
    group_message_id: Mapped[int] = mapped_column(BigInteger)
    group_id: Mapped[int | None] = mapped_column(BigInteger)  # the group it was shown in
    from_customer: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    snippet: Mapped[str | None] = mapped_column(Words(200))
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    operator_name: Mapped[str | None] = mapped_column(Words(128))
    composed: Mapped[bool] = mapped_column(Boolean, default=False)  # not a copy: no edits in place


class MessageTallyRow(Base):
    """What `/stats` counts of message links that retention deleted: per conversation, how many
    messages came from the customer or from one operator, and when the first of them came.

    Several rows may share a key (links are deleted in batches); readers add them up.
    """

    __tablename__ = "message_tallies"
    __table_args__ = (Index("ix_message_tallies_conversation_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    from_customer: Mapped[bool] = mapped_column(Boolean)
    operator_name: Mapped[str | None] = mapped_column(Words(128))
    messages: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InboxRow(Base):
    """Every incoming update, committed before the platform hears 200.

    Its unique key (`telegram:<update_id>`, `viber:message:<token>`) makes a redelivery a no-op;
    `pending` rows are processed in id order per lane, and resumed after a restart.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_state_id", "state", "id"),
        Index("ix_inbox_state_lane_id", "state", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(Words(160), unique=True)
    lane: Mapped[str] = mapped_column(Words(160))
    platform: Mapped[str] = mapped_column(Words(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(Words(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Words(500))
    command: Mapped[str | None] = mapped_column(Words(48))  # None: a raw update (before 0010)


class OutboxRow(Base):
    """A delivery the core decided, waiting for its destination chat's worker.

    Pending rows of one destination are sent in `id` order per `lane` (a conversation), the
    group's by `priority` first; a cosmetic row with the same `coalesce` key as a newer one is
    dropped. `not_before` holds a row back (an album collecting its items, a backoff).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_destination_id", "state", "destination", "id"),
        Index("ix_outbox_state_not_before", "state", "not_before"),
        Index("ix_outbox_state_lane_id", "state", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lane: Mapped[str] = mapped_column(Words(160))
    destination: Mapped[str] = mapped_column(Words(80))
    priority: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Words(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    coalesce: Mapped[str | None] = mapped_column(Words(96))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Words(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Words(500))
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class NoticeRow(Base):
    """A problem already told to the team once (e.g. the Viber account's balance), until solved."""

    __tablename__ = "notices"

    key: Mapped[str] = mapped_column(Words(96), primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MediaLinkRow(Base):
    """A file an operator sent to a customer, served at `PUBLIC_URL/media/<token>` until expiry."""

    __tablename__ = "media_links"

    token: Mapped[str] = mapped_column(Words(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    file_id: Mapped[str] = mapped_column(Words(256))
    file_name: Mapped[str | None] = mapped_column(Words(256))
    mime_type: Mapped[str | None] = mapped_column(Words(128))
    size: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HeldMessageRow(Base):
    """An operator's message held for confirmation (a paid message outside Viber's 24 h window)."""

    __tablename__ = "held_messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    topic_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LeaseRow(Base):
    """A role one process holds at a time, until it lets go or stops renewing."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(Words(64), primary_key=True)
    holder: Mapped[str] = mapped_column(Words(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BusinessAccountRow(Base):
    """A Telegram Business connection as Telegram last reported it (survives restarts)."""

    __tablename__ = "business_accounts"

    connection_id: Mapped[str] = mapped_column(Words(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    owner_name: Mapped[str] = mapped_column(Words(256))
    owner_username: Mapped[str | None] = mapped_column(Words(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    can_reply: Mapped[bool] = mapped_column(Boolean)
    can_read: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SnippetRow(Base):
    """An operators' saved reply in one language, saved from a topic (`/save <name>`)."""

    __tablename__ = "snippets"

    name: Mapped[str] = mapped_column(Words(32), primary_key=True)
    language: Mapped[str] = mapped_column(Words(8), primary_key=True)
    text: Mapped[str] = mapped_column(LongWords())
    saved_by: Mapped[str] = mapped_column(Words(128))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime())
