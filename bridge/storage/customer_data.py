"""One customer's rows in every table: read for an export, deleted for an erasure.

Rows are found by what ties them to the customer: their id (customer, conversations, message
links and tallies, media links, held messages, deliveries), their lane (the stored commands of
their chat and of their topic, deliveries ordered with them) and their destination (deliveries
to them). Never commits: an erasure is one transaction, all or nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.business import business_chat
from bridge.model import (
    Customer,
    CustomerRecord,
    Erasure,
    HeldMessage,
    MediaLink,
    Platform,
    StoredMessage,
)
from bridge.pacing.postgres import PACING_SENDS
from bridge.storage.advisory_locks import lock_key
from bridge.storage.repositories import conversation_from_row
from bridge.storage.tables import (
    ConversationRow,
    CustomerRow,
    FormerTopicRow,
    HeldMessageRow,
    InboxRow,
    MediaLinkRow,
    MessageLinkRow,
    MessageTallyRow,
    OutboxRow,
)

# Waits for the replica that works the lane (its session lock on the same key) to let go, and
# keeps replicas off the lane until this transaction ends.
_HOLD_LANE = text("SELECT pg_advisory_xact_lock(:key)")


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _texts(payload: dict[str, Any]) -> tuple[str, ...]:
    return tuple(m["text"] for m in payload.get("messages", ()) if m.get("text"))


class SqlCustomerData:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_lane(self, lane: str) -> None:
        # SQLite serves one process, whose lanes are in its memory: nothing to wait for.
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(_HOLD_LANE, {"key": lock_key(lane)})

    async def record(self, customer: Customer) -> CustomerRecord:
        conversations = await self._session.scalars(
            select(ConversationRow)
            .where(ConversationRow.customer_id == customer.id)
            .order_by(ConversationRow.id)
        )
        links = await self._session.scalars(
            select(MessageLinkRow)
            .where(MessageLinkRow.customer_id == customer.id)
            .order_by(MessageLinkRow.created_at, MessageLinkRow.id)
        )
        media = await self._session.scalars(
            select(MediaLinkRow)
            .where(MediaLinkRow.customer_id == customer.id)
            .order_by(MediaLinkRow.expires_at)
        )
        held = await self._session.scalars(
            select(HeldMessageRow)
            .where(HeldMessageRow.customer_id == customer.id)
            .order_by(HeldMessageRow.id)
        )
        return CustomerRecord(
            customer=customer,
            conversations=tuple(conversation_from_row(row) for row in conversations),
            messages=tuple(
                StoredMessage(
                    row.conversation_id,
                    row.from_customer,
                    row.created_at,
                    row.snippet,
                    row.customer_message_id,
                )
                for row in links
            ),
            media=tuple(
                MediaLink(
                    row.token,
                    row.customer_id,
                    row.file_id,
                    row.file_name,
                    row.mime_type,
                    row.size,
                    row.expires_at,
                )
                for row in media
            ),
            held=tuple(HeldMessage(row.created_at, _texts(dict(row.payload))) for row in held),
        )

    async def erase(self, customer: Customer, lane: str, destination: str) -> Erasure:
        session, customer_id = self._session, customer.id
        theirs = select(ConversationRow.id).where(ConversationRow.customer_id == customer_id)
        ratings = await session.scalar(
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.customer_id == customer_id, ConversationRow.rating.is_not(None))
        )
        await session.execute(
            delete(MessageTallyRow).where(MessageTallyRow.conversation_id.in_(theirs))
        )
        messages = await session.execute(
            delete(MessageLinkRow).where(MessageLinkRow.customer_id == customer_id)
        )
        conversations = await session.execute(
            delete(ConversationRow).where(ConversationRow.customer_id == customer_id)
        )
        media = await session.execute(
            delete(MediaLinkRow).where(MediaLinkRow.customer_id == customer_id)
        )
        held = await session.execute(
            delete(HeldMessageRow).where(HeldMessageRow.customer_id == customer_id)
        )
        deliveries = await session.execute(
            delete(OutboxRow).where(
                or_(
                    OutboxRow.customer_id == customer_id,
                    OutboxRow.lane == lane,
                    OutboxRow.destination == destination,
                )
            )
        )
        updates = await session.execute(delete(InboxRow).where(InboxRow.lane == lane))
        chat = _telegram_chat(customer)
        if chat is not None:  # pacing moments of their private chat (or the account's with them)
            suffix = f":chat:{chat}"
            await session.execute(
                delete(PACING_SENDS).where(PACING_SENDS.c.key.endswith(suffix, autoescape=True))
            )
        await session.execute(
            delete(FormerTopicRow).where(FormerTopicRow.customer_id == customer_id)
        )
        await session.execute(delete(CustomerRow).where(CustomerRow.id == customer_id))
        return Erasure(
            conversations=_count(conversations),
            ratings=int(ratings or 0),
            messages=_count(messages),
            updates=_count(updates),
            deliveries=_count(deliveries),
            media_links=_count(media),
            held_messages=_count(held),
            topic_id=customer.topic_id,
            group_id=customer.group_id,
        )


def _telegram_chat(customer: Customer) -> str | None:
    if customer.platform is Platform.TELEGRAM:
        return customer.external_id
    if customer.platform is Platform.TELEGRAM_BUSINESS:
        return str(business_chat(customer.external_id)[1])
    return None
