"""Forgetting old rows: message links (tallied first), texts, held messages, expired media links.

Every statement is idempotent, so replicas may run it at the same moment: a row two of them
delete is deleted once, and a link is tallied by the transaction whose DELETE removed it (the
tally is built from the rows the DELETE returned), so it is never counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.storage.tables import (
    ConversationRow,
    CustomerRow,
    HeldMessageRow,
    MediaLinkRow,
    MessageLinkRow,
    MessageTallyRow,
)

_LINKS: Table = MessageLinkRow.__table__  # type: ignore[assignment]
_TALLIES: Table = MessageTallyRow.__table__  # type: ignore[assignment]


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SqlRetention:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def forget_links(self, before: datetime, limit: int) -> int:
        oldest = (
            select(_LINKS.c.id)
            .where(_LINKS.c.created_at < before)
            .order_by(_LINKS.c.id)
            .limit(limit)
            .scalar_subquery()
        )
        deleted = (
            await self._session.execute(
                delete(_LINKS)
                .where(_LINKS.c.id.in_(oldest))
                .returning(
                    _LINKS.c.conversation_id,
                    _LINKS.c.from_customer,
                    _LINKS.c.operator_name,
                    _LINKS.c.created_at,
                )
            )
        ).all()
        tallies: dict[tuple[int, bool, str | None], tuple[int, datetime]] = {}
        for conversation_id, from_customer, operator_name, created_at in deleted:
            key = (conversation_id, bool(from_customer), operator_name)
            count, first = tallies.get(key, (0, created_at))
            tallies[key] = (count + 1, min(first, created_at))
        if tallies:
            await self._session.execute(
                insert(_TALLIES),
                [
                    {
                        "conversation_id": conversation_id,
                        "from_customer": from_customer,
                        "operator_name": operator_name,
                        "messages": count,
                        "first_at": first,
                    }
                    for (conversation_id, from_customer, operator_name), (count, first) in sorted(
                        tallies.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
                    )
                ],
            )
        return len(deleted)

    async def clear_texts(self, before: datetime) -> int:
        comments = await self._session.execute(
            update(ConversationRow)
            .where(
                ConversationRow.rating_comment.is_not(None),
                ConversationRow.rating_comment != "",
                func.coalesce(ConversationRow.rated_at, ConversationRow.opened_at) < before,
            )
            .values(rating_comment=None)
        )
        cards = await self._session.execute(
            update(CustomerRow)
            .where(CustomerRow.card_body.is_not(None), CustomerRow.card_posted_at < before)
            .values(card_body=None)
        )
        return _count(comments) + _count(cards)

    async def forget_held(self, before: datetime) -> int:
        result = await self._session.execute(
            delete(HeldMessageRow).where(HeldMessageRow.created_at < before)
        )
        return _count(result)

    async def forget_expired_media(self, now: datetime) -> int:
        result = await self._session.execute(
            delete(MediaLinkRow).where(MediaLinkRow.expires_at <= now)
        )
        return _count(result)
