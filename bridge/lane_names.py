"""Which lane an update belongs to: everything about one customer shares one lane.

A customer's messages and their operators' messages in the customer's topic go through the same
lane, so across replicas one process at a time works a customer: their topic is opened once,
their conversation row is never written from two places at once, and order holds both ways.
"""

from __future__ import annotations

from bridge.model import Platform
from bridge.ports import UnitOfWorkFactory

LANE_PREFIX = {Platform.TELEGRAM: "tg", Platform.VIBER: "viber", Platform.TELEGRAM_BUSINESS: "tgb"}
PLATFORM_OF_LANE = {prefix: platform for platform, prefix in LANE_PREFIX.items()}


def customer_lane(platform: Platform, external_id: str) -> str:
    return f"{LANE_PREFIX[platform]}:{external_id}"


def topic_lane(chat_id: int, topic_id: int) -> str:
    """The lane of a topic that belongs to no customer (General, or a replaced topic)."""
    return f"chat:{chat_id}:{topic_id}"


class TopicLanes:
    """Maps an operator's topic to its customer's lane; a topic never changes customer."""

    def __init__(self, uow: UnitOfWorkFactory, remember: int = 100_000) -> None:
        self._uow = uow
        self._known: dict[tuple[int, int], str] = {}
        self._remember = remember

    async def lane_of(self, chat_id: int, topic_id: int) -> str:
        known = self._known.get((chat_id, topic_id))
        if known is not None:
            return known
        if topic_id:
            async with self._uow() as tx:
                customer = await tx.customers.by_topic(chat_id, topic_id)
            if customer is not None:
                lane = customer_lane(customer.platform, customer.external_id)
                if len(self._known) >= self._remember:
                    self._known.clear()
                self._known[(chat_id, topic_id)] = lane
                return lane
        return topic_lane(chat_id, topic_id)
