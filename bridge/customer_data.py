"""A customer's data on request: everything the bridge holds about one customer, erased or
exported (the rights to erasure and of access).

Both work while the bridge runs, on the same database: an erasure is one transaction, and on
PostgreSQL it first takes the customer's lane, so no replica is halfway through one of their
messages meanwhile. What they write afterwards starts them anew, as a new customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.handlers.context import customer_destination
from bridge.lane_names import customer_lane
from bridge.model import CustomerRecord, Erasure, Platform
from bridge.ports import UnitOfWorkFactory

FORMAT = 1  # the export's layout version, written into it


async def erase_customer(
    uow: UnitOfWorkFactory, platform: Platform, external_id: str
) -> Erasure | None:
    """Delete the customer and every row about them; None when nobody has that id."""
    lane = customer_lane(platform, external_id)
    async with uow() as tx:
        await tx.customer_data.claim_lane(lane)
        customer = await tx.customers.find(platform, external_id)
        if customer is None:
            return None
        erased = await tx.customer_data.erase(customer, lane, customer_destination(customer))
        await tx.commit()
    return erased


async def export_customer(
    uow: UnitOfWorkFactory, platform: Platform, external_id: str, now: datetime
) -> dict[str, Any] | None:
    """The export document (plain JSON values); None when nobody has that id."""
    async with uow() as tx:
        customer = await tx.customers.find(platform, external_id)
        if customer is None:
            return None
        record = await tx.customer_data.record(customer)
    return export_document(record, now)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_document(record: CustomerRecord, now: datetime) -> dict[str, Any]:
    """What the bridge holds about a customer, in words a person can read.

    Messages are what the message map keeps (the first 200 characters of each); the words of
    handled updates, kept a few days more, are the same messages in full.
    """
    customer = record.customer
    numbers = {c.id: number for number, c in enumerate(record.conversations, start=1)}
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "customer": {
            "platform": customer.platform.value,
            "id": customer.external_id,
            "name": customer.full_name,
            "username": customer.username,
            "language": customer.language,
            "profile_url": customer.profile_url,
            "details": dict(customer.details),
            "first_contact": _time(customer.first_seen_at),
            "last_seen": _time(customer.last_seen_at),
            "banned": customer.banned,
            "unreachable": customer.unreachable,
            "topic_id": customer.topic_id,
            "words_under_card_html": customer.card_body,
        },
        "conversations": [
            {
                "number": numbers[c.id],
                "opened_at": _time(c.opened_at),
                "first_answer_at": _time(c.first_operator_reply_at),
                "closed_at": _time(c.closed_at),
                "state": c.state.value,
                "rating": c.rating,
                "rating_comment": c.rating_comment,
                "rated_at": _time(c.rated_at),
                "faq_answer_offered": c.faq_offered,
                "faq_answer_helped": c.faq_helped,
            }
            for c in record.conversations
        ],
        "messages": [
            {
                "conversation": numbers.get(m.conversation_id),
                "from": "customer" if m.from_customer else "operator",
                "at": _time(m.at),
                "text": m.text,
                "message_id": m.message_id,
            }
            for m in record.messages
        ],
        "media_links": [
            {
                "file_name": link.file_name,
                "mime_type": link.mime_type,
                "size": link.size,
                "expires_at": _time(link.expires_at),
            }
            for link in record.media
        ],
        "held_messages": [
            {"held_at": _time(held.held_at), "texts": list(held.texts)} for held in record.held
        ],
    }
