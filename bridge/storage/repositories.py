"""Data-access objects: they read and write rows and return plain core types; never commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

from bridge.model import (
    Conversation,
    Customer,
    CustomerProfile,
    InboxItem,
    Link,
    MediaLink,
    NewDelivery,
    NewUpdate,
    Operator,
    OutboxItem,
    Platform,
    SavedSnippet,
    TopicState,
)
from bridge.storage.tables import (
    ConversationRow,
    CustomerRow,
    FormerTopicRow,
    HeldMessageRow,
    InboxRow,
    MediaLinkRow,
    MessageLinkRow,
    NoticeRow,
    OperatorRow,
    OutboxRow,
    SnippetRow,
)


def _aware(moment: datetime | str | None) -> datetime | None:
    """A raw aggregate bypasses UtcDateTime: SQLite hands it back naive (and as text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# The hot path (a customer's message relayed) runs these Core statements, built once: no ORM
# unit of work, no identity map, no per-call statement construction or coercion.
_CUSTOMERS: Table = CustomerRow.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = ConversationRow.__table__  # type: ignore[assignment]
_LINKS: Table = MessageLinkRow.__table__  # type: ignore[assignment]
_INBOX: Table = InboxRow.__table__  # type: ignore[assignment]
_CONVERSATION_PREFIX = "conversation_"
_LATEST_CONVERSATION_ID = (
    select(func.max(_CONVERSATIONS.c.id))
    .where(_CONVERSATIONS.c.customer_id == _CUSTOMERS.c.id)
    .correlate(_CUSTOMERS)
    .scalar_subquery()
)
_CUSTOMER_WITH_LATEST = (
    select(
        *_CUSTOMERS.c,
        *(column.label(_CONVERSATION_PREFIX + column.name) for column in _CONVERSATIONS.c),
    )
    .select_from(
        _CUSTOMERS.outerjoin(_CONVERSATIONS, _CONVERSATIONS.c.id == _LATEST_CONVERSATION_ID)
    )
    .where(
        _CUSTOMERS.c.platform == bindparam("platform"),
        _CUSTOMERS.c.external_id == bindparam("external_id"),
    )
)
_SAVE_CONVERSATION = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "state",
                "first_operator_reply_at",
                "last_customer_message_at",
                "last_operator_message_at",
                "closed_at",
                "offline_reply_for",
                "faq_offered",
                "faq_helped",
                "rating",
                "rating_comment",
                "rated_at",
            )
        }
    )
)
_ADD_LINK = insert(_LINKS)
# A customer writing several messages a minute needs `last_seen_at` written once a minute, not
# per message. The stored time then lags by under a minute, which only makes the one check
# that reads it (Viber's 24-hour free window) warn a little early, never late.
SEEN_GRANULARITY = timedelta(minutes=1)

_SEEN = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.id == bindparam("customer_id"))
    .values(last_seen_at=bindparam("seen_at"))
)
# a redelivered key inserts nothing and returns no id
_ADD_INBOX: dict[str, Executable] = {
    "sqlite": sqlite_insert(_INBOX)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_INBOX.c.key, _INBOX.c.id),
    "postgresql": postgresql_insert(_INBOX)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_INBOX.c.key, _INBOX.c.id),
}
_OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]
_OPERATORS: Table = OperatorRow.__table__  # type: ignore[assignment]


def _seen_operator(dialect: str) -> Executable:
    """Insert or refresh an operator in one statement (their name and username may change)."""
    insert_into = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert_into(_OPERATORS).values(
        id=bindparam("id"),
        name=bindparam("name"),
        username=bindparam("username"),
        seen_at=bindparam("seen_at"),
    )
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "name": statement.excluded.name,
            "username": statement.excluded.username,
            "seen_at": statement.excluded.seen_at,
        },
    )


_SEEN_OPERATOR: dict[str, Executable] = {
    "sqlite": _seen_operator("sqlite"),
    "postgresql": _seen_operator("postgresql"),
}
# ids in the order of the rows given (SQLAlchemy's insertmanyvalues keeps it with this flag)
_ADD_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)
_FINISH_INBOX = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("item_id"))
    .values(
        state=bindparam("state"),
        last_error=func.coalesce(bindparam("error", type_=String), _INBOX.c.last_error),
    )
)


def _inbox_item(row: InboxRow) -> InboxItem:
    return InboxItem(
        row.id, row.key, row.lane, row.platform, dict(row.payload), row.attempts, row.command
    )


def _outbox_item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        lane=row.lane,
        destination=row.destination,
        priority=row.priority,
        kind=row.kind,
        payload=dict(row.payload),
        customer_id=row.customer_id,
        created_at=row.created_at,
        not_before=row.not_before,
        attempts=row.attempts,
        coalesce=row.coalesce,
    )


def _customer(row: CustomerRow | Row[Any]) -> Customer:
    return Customer(
        id=row.id,
        platform=Platform(row.platform),
        external_id=row.external_id,
        full_name=row.full_name,
        username=row.username,
        language=row.language,
        profile_url=row.profile_url,
        details=dict(row.details or {}),
        first_seen_at=row.first_seen_at,
        topic_id=row.topic_id,
        card_message_id=row.card_message_id,
        banned=row.banned,
        last_seen_at=row.last_seen_at,
        unreachable=row.unreachable,
        language_chosen=row.language_chosen,
        topic_name=row.topic_name,
        topic_closed=bool(row.topic_closed),
        card_body=row.card_body,
        card_in_caption=bool(row.card_in_caption),
        group_id=row.group_id,
        department=row.department,
        last_category=row.last_category,
    )


def _conversation_from(column: Callable[[str], Any]) -> Conversation:
    """The core type from a row, by column name: its fields are the table's columns."""
    values = {field.name: column(field.name) for field in fields(Conversation)}
    return Conversation(**{**values, "state": TopicState(values["state"])})


def _conversation_of(row: Row[Any]) -> Conversation | None:
    """The conversation half of a `_CUSTOMER_WITH_LATEST` row; None when there is none."""
    values = row._mapping
    if values[_CONVERSATION_PREFIX + "id"] is None:
        return None
    return _conversation_from(lambda name: values[_CONVERSATION_PREFIX + name])


def conversation_from_row(row: ConversationRow) -> Conversation:
    return _conversation_from(lambda name: getattr(row, name))


class SqlCustomers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, profile: CustomerProfile, now: datetime) -> Customer:
        row = await self._session.scalar(
            select(CustomerRow).where(
                CustomerRow.platform == profile.platform.value,
                CustomerRow.external_id == profile.external_id,
            )
        )
        if row is None:
            row = CustomerRow(
                platform=profile.platform.value,
                external_id=profile.external_id,
                first_seen_at=now,
                banned=False,
                language_chosen=False,
                full_name="",
                details={},
            )
            self._session.add(row)
        seen = _customer(row).seen_as(profile, now)  # one rule for what a profile changes
        row.full_name, row.username, row.language = seen.full_name, seen.username, seen.language
        row.profile_url, row.details, row.last_seen_at = seen.profile_url, dict(seen.details), now
        await self._session.flush()
        return _customer(row)

    async def find_with_latest(
        self, platform: Platform, external_id: str
    ) -> tuple[Customer, Conversation | None] | None:
        """A known customer and their latest conversation, in one query."""
        row = (
            await self._session.execute(
                _CUSTOMER_WITH_LATEST, {"platform": platform.value, "external_id": external_id}
            )
        ).first()
        if row is None:
            return None
        return _customer(row), _conversation_of(row)

    async def record_activity(self, before: Customer, after: Customer) -> None:
        """Write what changed between two versions of a customer (at least `last_seen_at`)."""
        values: dict[str, Any] = {"last_seen_at": after.last_seen_at}
        for name in ("full_name", "username", "language", "profile_url"):
            if getattr(after, name) != getattr(before, name):
                values[name] = getattr(after, name)
        if dict(after.details) != dict(before.details):
            values["details"] = dict(after.details)
        if len(values) == 1:  # the usual case, with a statement built once
            if (
                before.last_seen_at is not None
                and after.last_seen_at is not None
                and after.last_seen_at - before.last_seen_at < SEEN_GRANULARITY
            ):
                return
            await self._session.execute(
                _SEEN, {"customer_id": after.id, "seen_at": after.last_seen_at}
            )
            return
        await self._session.execute(
            update(_CUSTOMERS).where(_CUSTOMERS.c.id == after.id).values(values)
        )

    async def get(self, customer_id: int) -> Customer | None:
        row = await self._session.get(CustomerRow, customer_id)
        return _customer(row) if row else None

    async def many(self, customer_ids: Collection[int]) -> dict[int, Customer]:
        if not customer_ids:
            return {}
        rows = await self._session.scalars(
            select(CustomerRow).where(CustomerRow.id.in_(customer_ids))
        )
        return {row.id: _customer(row) for row in rows}

    async def by_topic(self, group_id: int, topic_id: int) -> Customer | None:
        """Whose topic this is now, or was before they were transferred elsewhere."""
        query = select(CustomerRow).where(
            CustomerRow.group_id == group_id, CustomerRow.topic_id == topic_id
        )
        row = await self._session.scalar(query)
        if row is None:
            row = await self._session.scalar(
                select(CustomerRow)
                .join(FormerTopicRow, FormerTopicRow.customer_id == CustomerRow.id)
                .where(FormerTopicRow.group_id == group_id, FormerTopicRow.topic_id == topic_id)
            )
        return _customer(row) if row else None

    async def leave_topic(self, customer: Customer, now: datetime) -> None:
        """The customer moves to another group: their topic here stays theirs to answer in."""
        if customer.topic_id is None or customer.group_id is None:
            return
        self._session.add(
            FormerTopicRow(
                group_id=customer.group_id,
                topic_id=customer.topic_id,
                customer_id=customer.id,
                left_at=now,
            )
        )
        await self._session.flush()

    async def adopt_topics(self, group_id: int) -> int:
        """Topics made before departments are in OPERATOR_CHAT_ID's group: say so."""
        result = await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.group_id.is_(None), CustomerRow.topic_id.is_not(None))
            .values(group_id=group_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def set_department(self, customer_id: int, department: str, group_id: int) -> None:
        """Their conversations go to `department` now; a topic elsewhere is made anew."""
        await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(department=department, group_id=group_id)
        )

    async def browsed(self, customer_id: int, category_id: str) -> None:
        await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(last_category=category_id[:20])
        )

    async def set_topic(
        self,
        customer_id: int,
        topic_id: int | None,
        name: str | None = None,
        group_id: int | None = None,
    ) -> None:
        """A new topic (or none: it was deleted); its card is still to be posted."""
        values: dict[str, Any] = {} if group_id is None else {"group_id": group_id}
        await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(
                **values,
                topic_id=topic_id,
                card_message_id=None,
                card_body=None,
                card_in_caption=False,
                card_posted_at=None,
                topic_name=name,
                topic_closed=False,
            )
        )

    async def set_card(
        self,
        customer_id: int,
        message_id: int,
        body: str | None,
        in_caption: bool,
        posted_at: datetime,
    ) -> None:
        await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(
                card_message_id=message_id,
                card_body=body,
                card_in_caption=in_caption,
                card_posted_at=posted_at,
            )
        )

    async def set_topic_shown(
        self, customer_id: int, *, name: str | None = None, closed: bool | None = None
    ) -> None:
        values: dict[str, Any] = {}
        if name is not None:
            values["topic_name"] = name
        if closed is not None:
            values["topic_closed"] = closed
        if values:
            await self._session.execute(
                update(CustomerRow).where(CustomerRow.id == customer_id).values(values)
            )

    async def set_banned(self, customer_id: int, banned: bool) -> None:
        await self._session.execute(
            update(CustomerRow).where(CustomerRow.id == customer_id).values(banned=banned)
        )

    async def set_unreachable(self, customer_id: int, reason: str | None) -> None:
        await self._session.execute(
            update(CustomerRow).where(CustomerRow.id == customer_id).values(unreachable=reason)
        )

    async def choose_language(self, customer_id: int, language: str) -> None:
        await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(language=language, language_chosen=True)
        )

    async def find(self, platform: Platform, external_id: str) -> Customer | None:
        row = await self._session.scalar(
            select(CustomerRow).where(
                CustomerRow.platform == platform.value, CustomerRow.external_id == external_id
            )
        )
        return _customer(row) if row else None


class SqlConversations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def latest(self, customer_id: int) -> Conversation | None:
        row = await self._session.scalar(
            select(ConversationRow)
            .where(ConversationRow.customer_id == customer_id)
            .order_by(ConversationRow.id.desc())
            .limit(1)
        )
        return conversation_from_row(row) if row else None

    async def get(self, conversation_id: int) -> Conversation | None:
        row = await self._session.get(ConversationRow, conversation_id)
        return conversation_from_row(row) if row else None

    async def start(self, customer_id: int, now: datetime, offline: bool = False) -> Conversation:
        row = ConversationRow(
            customer_id=customer_id,
            state=TopicState.NEW.value,
            opened_at=now,
            opened_offline=offline,
        )
        self._session.add(row)
        await self._session.flush()
        return conversation_from_row(row)

    async def count(self, customer_id: int, up_to: int | None = None) -> int:
        """How many conversations the customer had (up to and including one, if given)."""
        query = (
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.customer_id == customer_id)
        )
        if up_to is not None:
            query = query.where(ConversationRow.id <= up_to)
        return int(await self._session.scalar(query) or 0)

    async def save(self, conversation: Conversation) -> None:
        await self._session.execute(
            _SAVE_CONVERSATION,
            {
                "conversation_id": conversation.id,
                "state": conversation.state.value,
                "first_operator_reply_at": conversation.first_operator_reply_at,
                "last_customer_message_at": conversation.last_customer_message_at,
                "last_operator_message_at": conversation.last_operator_message_at,
                "closed_at": conversation.closed_at,
                "offline_reply_for": conversation.offline_reply_for,
                "faq_offered": conversation.faq_offered,
                "faq_helped": conversation.faq_helped,
                "rating": conversation.rating,
                "rating_comment": conversation.rating_comment,
                "rated_at": conversation.rated_at,
            },
        )

    async def clear_sla_alert(self, conversation_id: int) -> None:
        """An operator answered: the ⏰ mark goes (the reminder's column has its own writes)."""
        await self._session.execute(
            update(ConversationRow)
            .where(
                ConversationRow.id == conversation_id, ConversationRow.sla_alerted_at.is_not(None)
            )
            .values(sla_alerted_at=None)
        )

    async def set_owner(
        self, conversation_id: int, owner: Operator | None, unless_owner: int | None = None
    ) -> bool:
        """Give the conversation an owner (None: nobody owns it). Its own columns, which `save`
        never writes, so an answer and a take on two replicas cannot undo each other.

        `unless_owner`: only if that operator still owns it (a release after the SLA must not
        free a conversation someone took meanwhile). True when it changed.
        """
        statement = update(ConversationRow).where(ConversationRow.id == conversation_id)
        if unless_owner is not None:
            statement = statement.where(ConversationRow.owner_id == unless_owner)
        if owner is not None:
            statement = statement.where(
                (ConversationRow.owner_id.is_(None))
                | (ConversationRow.owner_id != owner.id)
                | (ConversationRow.owner_name != owner.name[:128])
            )
        else:
            statement = statement.where(ConversationRow.owner_id.is_not(None))
        result = await self._session.execute(
            statement.values(
                owner_id=owner.id if owner else None,
                owner_name=owner.name[:128] if owner else None,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def owned_by(self, operator_id: int) -> list[Conversation]:
        """The operator's open conversations, oldest first."""
        rows = await self._session.scalars(
            select(ConversationRow)
            .where(ConversationRow.owner_id == operator_id, ConversationRow.closed_at.is_(None))
            .order_by(ConversationRow.opened_at, ConversationRow.id)
        )
        return [conversation_from_row(row) for row in rows]

    async def mark_sla_alerted(
        self, conversation_id: int, when: datetime, waiting_since: datetime
    ) -> bool:
        """Only this column, which `save` never writes: a reminder and a relayed message (or an
        answer) on two replicas cannot undo each other.

        Conditional, so of several replicas checking at once exactly one gets True and posts,
        and none marks a conversation that was answered in the meantime.
        """
        result = await self._session.execute(
            update(ConversationRow)
            .where(
                ConversationRow.id == conversation_id,
                ConversationRow.state.in_((TopicState.NEW.value, TopicState.WAITING.value)),
                (ConversationRow.sla_alerted_at.is_(None))
                | (ConversationRow.sla_alerted_at < waiting_since),
            )
            .values(sla_alerted_at=when)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def waiting(self) -> list[tuple[Conversation, datetime]]:
        """Open conversations whose customer waits for an operator, with since when.

        One query: the first customer message after the last operator reply comes from a
        correlated subquery, not a query per conversation.
        """
        first_unanswered = (
            select(func.min(MessageLinkRow.created_at))
            .where(
                MessageLinkRow.conversation_id == ConversationRow.id,
                MessageLinkRow.from_customer.is_(True),
                MessageLinkRow.created_at > ConversationRow.last_operator_message_at,
            )
            .scalar_subquery()
        )
        rows = (
            await self._session.execute(
                select(ConversationRow, first_unanswered).where(
                    ConversationRow.closed_at.is_(None),
                    ConversationRow.state.in_((TopicState.NEW.value, TopicState.WAITING.value)),
                )
            )
        ).all()
        result = []
        for row, unanswered in rows:
            since = row.opened_at
            if row.last_operator_message_at is not None:
                since = _aware(unanswered) or row.last_customer_message_at or row.opened_at
            result.append((conversation_from_row(row), since))
        return result

    async def recent_first_responses(self, since: datetime, limit: int) -> list[Conversation]:
        """Recently answered conversations, newest first, for the expected-wait estimate."""
        rows = await self._session.scalars(
            select(ConversationRow)
            .where(
                ConversationRow.opened_at >= since,
                ConversationRow.first_operator_reply_at.is_not(None),
            )
            .order_by(ConversationRow.opened_at.desc())
            .limit(limit)
        )
        return [conversation_from_row(row) for row in rows]


class SqlMessageLinks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

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
    ) -> None:
        await self._session.execute(
            _ADD_LINK,
            {
                "group_id": group_id,
                "composed": composed,
                "customer_id": customer_id,
                "conversation_id": conversation_id,
                "customer_message_id": customer_message_id,
                "group_message_id": group_message_id,
                "from_customer": from_customer,
                "created_at": now,
                "snippet": snippet[:200] if snippet else None,
                "operator_id": operator.id if operator else None,
                "operator_name": operator.name[:128] if operator else None,
            },
        )

    async def group_message_for(
        self, customer_id: int, customer_message_id: str, group_id: int, default_group: int
    ) -> int | None:
        link = await self.for_customer_message(
            customer_id, customer_message_id, group_id, default_group
        )
        return link.group_message_id if link is not None else None

    async def recent(self, customer_id: int, count: int) -> list[tuple[bool, str]]:
        """The last `count` messages with words, oldest first: (from the customer, words)."""
        rows = (
            await self._session.execute(
                select(MessageLinkRow.from_customer, MessageLinkRow.snippet)
                .where(
                    MessageLinkRow.customer_id == customer_id,
                    MessageLinkRow.snippet.is_not(None),
                )
                .order_by(MessageLinkRow.id.desc())
                .limit(count)
            )
        ).all()
        return [(bool(mine), str(words)) for mine, words in reversed(rows)]

    async def latest_from_customer(self, customer_id: int) -> str | None:
        """The customer's newest message shown to operators (its id on their platform)."""
        found = await self._session.scalar(
            select(MessageLinkRow.customer_message_id)
            .where(MessageLinkRow.customer_id == customer_id, MessageLinkRow.from_customer)
            .order_by(MessageLinkRow.id.desc())
            .limit(1)
        )
        return str(found) if found is not None else None

    async def by_group_message(self, group_message_id: int, customer_id: int) -> Link | None:
        return await self._first(
            MessageLinkRow.group_message_id == group_message_id,
            MessageLinkRow.customer_id == customer_id,
        )

    async def for_customer_message(
        self,
        customer_id: int,
        customer_message_id: str,
        group_id: int | None = None,
        default_group: int | None = None,
    ) -> Link | None:
        """The first group message a customer's message was shown in; with `group_id`, in
        that group only (links stored before groups were recorded are in `default_group`,
        OPERATOR_CHAT_ID's): a message id of one group means another message in the next."""
        conditions: list[Any] = [
            MessageLinkRow.customer_id == customer_id,
            MessageLinkRow.customer_message_id == customer_message_id,
        ]
        if group_id is not None:
            in_group = MessageLinkRow.group_id == group_id
            if group_id == default_group:
                in_group = or_(in_group, MessageLinkRow.group_id.is_(None))
            conditions.append(in_group)
        return await self._first(*conditions)

    async def _first(self, *conditions: Any) -> Link | None:
        row = await self._session.scalar(
            select(MessageLinkRow).where(*conditions).order_by(MessageLinkRow.id).limit(1)
        )
        if row is None:
            return None
        return Link(
            row.customer_id,
            row.customer_message_id,
            row.group_message_id,
            row.snippet,
            row.composed,
        )


class SqlInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, key: str, lane: str, platform: str, payload: dict[str, Any], now: datetime
    ) -> int | None:
        """Store an update; None when its key was seen before (a redelivery)."""
        return (await self.add_many([NewUpdate(key, lane, platform, payload, now)]))[0]

    async def add_many(self, updates: Sequence[NewUpdate]) -> list[int | None]:
        """One INSERT ... ON CONFLICT DO NOTHING for all; a key gets an id once."""
        rows: list[dict[str, Any]] = [
            {
                "key": u.key[:160],
                "lane": u.lane[:160],
                "platform": u.platform,
                "payload": dict(u.payload),
                "received_at": u.received_at,
                "state": "pending",
                "attempts": 0,
                "command": u.command,
            }
            for u in updates
        ]
        statement = _ADD_INBOX.get(self._session.get_bind().dialect.name)
        if statement is not None:  # one statement, no savepoint
            result = await self._session.execute(statement, rows)
            stored: dict[str, int | None] = {row.key: row.id for row in result}
            return [stored.pop(row["key"], None) for row in rows]  # a repeated key: the first
        return [await self._add_in_savepoint(row) for row in rows]

    async def _add_in_savepoint(self, values: dict[str, Any]) -> int | None:
        row = InboxRow(**values)
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            return None
        return row.id

    async def pending(self, limit: int) -> list[InboxItem]:
        rows = await self._session.scalars(
            select(InboxRow).where(InboxRow.state == "pending").order_by(InboxRow.id).limit(limit)
        )
        return [_inbox_item(r) for r in rows]

    async def pending_in_lane(self, lane: str, limit: int) -> list[InboxItem]:
        rows = await self._session.scalars(
            select(InboxRow)
            .where(InboxRow.state == "pending", InboxRow.lane == lane)
            .order_by(InboxRow.id)
            .limit(limit)
        )
        return [_inbox_item(r) for r in rows]

    async def lanes_pending(self, received_before: datetime, limit: int) -> list[str]:
        rows = await self._session.scalars(
            select(InboxRow.lane)
            .where(InboxRow.state == "pending", InboxRow.received_at < received_before)
            .group_by(InboxRow.lane)
            .order_by(func.min(InboxRow.id))
            .limit(limit)
        )
        return list(rows)

    async def record_attempt(self, item_id: int, error: str) -> None:
        await self._session.execute(
            update(InboxRow)
            .where(InboxRow.id == item_id)
            .values(attempts=InboxRow.attempts + 1, last_error=error[:500])
        )

    async def finish(self, item_id: int, state: str, error: str | None = None) -> None:
        await self._session.execute(
            _FINISH_INBOX,
            {"item_id": item_id, "state": state, "error": error[:500] if error else error},
        )

    async def prune(self, before: datetime) -> int:
        """Forget finished updates older than the redelivery window."""
        result = await self._session.execute(
            delete(InboxRow).where(InboxRow.state != "pending", InboxRow.received_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlMediaLinks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link: MediaLink) -> None:
        self._session.add(
            MediaLinkRow(
                token=link.token,
                customer_id=link.customer_id,
                file_id=link.file_id,
                file_name=link.file_name,
                mime_type=link.mime_type,
                size=link.size,
                expires_at=link.expires_at,
            )
        )

    async def get(self, token: str) -> MediaLink | None:
        row = await self._session.get(MediaLinkRow, token)
        if row is None:
            return None
        return MediaLink(
            row.token,
            row.customer_id,
            row.file_id,
            row.file_name,
            row.mime_type,
            row.size,
            row.expires_at,
        )


class SqlHeldMessages:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def hold(
        self, customer_id: int, topic_id: int, payload: dict[str, Any], now: datetime
    ) -> int:
        row = HeldMessageRow(
            customer_id=customer_id, topic_id=topic_id, payload=payload, created_at=now
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def release(self, held_id: int) -> tuple[int, int, dict[str, Any]] | None:
        row = await self._session.get(HeldMessageRow, held_id)
        if row is None:
            return None
        await self._session.delete(row)
        return row.customer_id, row.topic_id, dict(row.payload)


class SqlOutbox:
    """The outbox: deliveries by destination, in id order; cosmetics coalesced by key."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, deliveries: Sequence[NewDelivery], now: datetime
    ) -> tuple[list[OutboxItem], list[int]]:
        """Store deliveries; a cosmetic replaces a pending one with the same key.

        Returns what was stored and the ids of the rows it replaced (dropped)."""
        dropped: list[int] = []
        keys = [d.coalesce for d in deliveries if d.coalesce]
        if keys:
            rows = await self._session.scalars(
                select(OutboxRow.id).where(
                    OutboxRow.state == "pending", OutboxRow.coalesce.in_(keys)
                )
            )
            dropped = list(rows)
            if dropped:
                await self._session.execute(
                    update(OutboxRow).where(OutboxRow.id.in_(dropped)).values(state="dropped")
                )
        if not deliveries:
            return [], dropped
        values = [
            {
                "lane": d.lane[:160],
                "destination": d.destination[:80],
                "priority": d.priority,
                "kind": d.kind,
                "payload": dict(d.payload),
                "coalesce": d.coalesce,
                "customer_id": d.customer_id,
                "state": "pending",
                "created_at": now,
                "not_before": d.not_before,
                "attempts": 0,
                "alerted": False,
            }
            for d in deliveries
        ]
        result = await self._session.execute(_ADD_OUTBOX, values)
        ids = [row.id for row in result]
        return [
            OutboxItem(
                id=item_id,
                lane=d.lane[:160],
                destination=d.destination[:80],
                priority=d.priority,
                kind=d.kind,
                payload=dict(d.payload),
                customer_id=d.customer_id,
                created_at=now,
                not_before=d.not_before,
                coalesce=d.coalesce,
            )
            for item_id, d in zip(ids, deliveries, strict=True)
        ], dropped

    async def last_held(
        self, lane: str, destination: str, kind: str, held_after: datetime
    ) -> OutboxItem | None:
        """The lane's newest pending delivery of `kind` still held back past `held_after`."""
        row = await self._session.scalar(
            select(OutboxRow)
            .where(
                OutboxRow.state == "pending",
                OutboxRow.lane == lane,
                OutboxRow.destination == destination,
                OutboxRow.kind == kind,
            )
            .order_by(OutboxRow.id.desc())
            .limit(1)
        )
        if row is None or row.not_before <= held_after:
            return None
        return _outbox_item(row)

    async def extend_held(
        self, item_id: int, payload: dict[str, Any], not_before: datetime, held_after: datetime
    ) -> OutboxItem | None:
        """Change a delivery still held back; None when it is no longer (a worker may take it)."""
        result = await self._session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == item_id,
                OutboxRow.state == "pending",
                OutboxRow.not_before > held_after,
            )
            .values(payload=payload, not_before=not_before)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            return None
        row = await self._session.get(OutboxRow, item_id, populate_existing=True)
        return _outbox_item(row) if row is not None else None

    async def pending(self, destination: str, limit: int) -> list[OutboxItem]:
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.state == "pending", OutboxRow.destination == destination)
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [_outbox_item(r) for r in rows]

    async def claim(self, item_ids: Sequence[int], now: datetime) -> list[OutboxItem]:
        """These deliveries as they are now, if still pending (a held one may have grown),
        and held no longer: from here on `extend_held` leaves them alone, so nothing joins a
        delivery after it was read for sending (the joiner makes a delivery of its own).
        Under a concurrent extension this waits for it (the row's write lock) and reads it."""
        await self._session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id.in_(list(item_ids)),
                OutboxRow.state == "pending",
                OutboxRow.not_before > now,
            )
            .values(not_before=now)
        )
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.id.in_(list(item_ids)), OutboxRow.state == "pending")
            .order_by(OutboxRow.id)
        )
        return [_outbox_item(r) for r in rows]

    async def destinations_waiting(self, limit: int) -> list[str]:
        """Destinations with pending deliveries, the longest waiting first."""
        rows = await self._session.scalars(
            select(OutboxRow.destination)
            .where(OutboxRow.state == "pending")
            .group_by(OutboxRow.destination)
            .order_by(func.min(OutboxRow.id))
            .limit(limit)
        )
        return list(rows)

    async def finish(self, item_ids: Sequence[int], state: str, error: str | None = None) -> None:
        """Done, failed (refused for good, and said so) or dropped (superseded)."""
        if not item_ids:
            return
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(item_ids)), OutboxRow.state == "pending")
            .values(state=state, last_error=error[:500] if error else None)
        )

    async def postpone(self, item_id: int, not_before: datetime, error: str) -> None:
        """A transient failure: try again from `not_before`."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(not_before=not_before, attempts=OutboxRow.attempts + 1, last_error=error[:500])
        )

    async def waiting_since(self, before: datetime) -> list[tuple[str, int, datetime]]:
        """Per destination: deliveries pending since before `before` not yet reported, and the
        oldest; those are marked reported."""
        rows = (
            await self._session.execute(
                select(OutboxRow.destination, func.count(), func.min(OutboxRow.created_at))
                .where(
                    OutboxRow.state == "pending",
                    OutboxRow.created_at < before,
                    OutboxRow.alerted.is_(False),
                )
                .group_by(OutboxRow.destination)
            )
        ).all()
        if rows:
            await self._session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.state == "pending",
                    OutboxRow.created_at < before,
                    OutboxRow.alerted.is_(False),
                )
                .values(alerted=True)
            )
        return [(d, int(n), _aware(oldest) or before) for d, n, oldest in rows]

    async def depth(self) -> list[tuple[str, int, datetime]]:
        """Per destination: pending deliveries and the oldest one's creation."""
        rows = (
            await self._session.execute(
                select(OutboxRow.destination, func.count(), func.min(OutboxRow.created_at))
                .where(OutboxRow.state == "pending")
                .group_by(OutboxRow.destination)
            )
        ).all()
        return [(d, int(n), _aware(oldest) or datetime.now(UTC)) for d, n, oldest in rows]

    async def prune(self, before: datetime) -> int:
        result = await self._session.execute(
            delete(OutboxRow).where(OutboxRow.state != "pending", OutboxRow.created_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlNotices:
    """Problems told to the team once until solved (the Viber account's balance, say)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def show_once(self, key: str, now: datetime) -> bool:
        """True the first time (the caller tells the team); False while it stands."""
        if await self._session.get(NoticeRow, key) is not None:
            return False
        self._session.add(NoticeRow(key=key, shown_at=now))
        await self._session.flush()
        return True

    async def solved(self, key: str) -> None:
        await self._session.execute(delete(NoticeRow).where(NoticeRow.key == key))


_SNIPPETS: Table = SnippetRow.__table__  # type: ignore[assignment]
_SAVE_SNIPPET: dict[str, Any] = {
    "sqlite": sqlite_insert(_SNIPPETS),
    "postgresql": postgresql_insert(_SNIPPETS),
}


class SqlSnippets:
    """Saved replies by name and language; saving again replaces that language's text."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[SavedSnippet]:
        rows = await self._session.scalars(
            select(SnippetRow).order_by(SnippetRow.name, SnippetRow.language)
        )
        return [
            SavedSnippet(row.name, row.language, row.text, row.saved_by, row.saved_at)
            for row in rows
        ]

    async def save(self, snippet: SavedSnippet) -> bool:
        """Store the text; True when it replaced an earlier one (two replicas saving the same
        name at once: the later write wins, neither fails)."""
        earlier = await self._session.get(SnippetRow, (snippet.name, snippet.language))
        values = {"text": snippet.text, "saved_by": snippet.saved_by, "saved_at": snippet.saved_at}
        statement = _SAVE_SNIPPET[self._session.get_bind().dialect.name]
        await self._session.execute(
            statement.values(
                name=snippet.name, language=snippet.language, **values
            ).on_conflict_do_update(index_elements=["name", "language"], set_=values)
        )
        return earlier is not None


class SqlOperators:
    """Operators seen writing in the group, to find one by @username."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def seen(self, operator: Operator, now: datetime) -> None:
        if not operator.is_person:
            return
        dialect = self._session.get_bind().dialect.name
        await self._session.execute(
            _SEEN_OPERATOR[dialect],
            {
                "id": operator.id,
                "name": operator.name[:128],
                "username": operator.username.lower()[:64] if operator.username else None,
                "seen_at": now,
            },
        )

    async def by_username(self, username: str) -> Operator | None:
        """The operator last seen with that @username (with or without the @, any case)."""
        row = await self._session.scalar(
            select(OperatorRow)
            .where(OperatorRow.username == username.removeprefix("@").lower())
            .order_by(OperatorRow.seen_at.desc())
            .limit(1)
        )
        return Operator(row.id, row.name, row.username) if row is not None else None
