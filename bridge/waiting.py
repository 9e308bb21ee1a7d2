"""Nobody waits unseen: the queue of customers waiting for an answer, and the SLA reminder.

A customer who has waited longer than `SLA_FIRST_RESPONSE_SECONDS` of working time gets their
topic marked (⏰) and one reminder posted in it (optionally also in the General topic, with a
link); the mark clears when an operator answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bridge.clock import Clock
from bridge.decisions import Decisions
from bridge.deliveries import PostGeneral, PostNote, ShowTopicState
from bridge.handlers.context import Context
from bridge.model import Conversation, Customer
from bridge.ports import UnitOfWorkFactory
from bridge.stats import duration
from bridge.working_hours import Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    customer: Customer
    conversation: Conversation
    since: datetime
    waited_seconds: float  # working time, when working hours are set


class WaitingWatch:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        decisions: Decisions,
        clock: Clock,
        schedule: Schedule | None,
        sla: timedelta,
        topic_link: str | None,
        alert_general: bool,
    ) -> None:
        self._uow = uow
        self._decisions = decisions
        self._clock = clock
        self._schedule = schedule
        self._sla = sla.total_seconds()
        self._link = topic_link  # e.g. https://t.me/c/1234567890/{topic}
        self._alert_general = alert_general

    async def queue(self) -> list[Waiting]:
        """Everyone waiting for an answer, longest first."""
        now = self._clock.now()
        async with self._uow() as tx:
            found = await tx.conversations.waiting()
            customers = await tx.customers.many({c.customer_id for c, _ in found})
        queue = []
        for conversation, since in found:
            customer = customers.get(conversation.customer_id)
            if customer is None or customer.topic_id is None or customer.banned:
                continue
            waited = (
                self._schedule.working_seconds(since, now)
                if self._schedule is not None
                else (now - since).total_seconds()
            )
            queue.append(Waiting(customer, conversation, since, waited))
        return sorted(queue, key=lambda w: w.since)

    def render_queue(self, queue: list[Waiting]) -> str:
        if not queue:
            return "✅ Nobody is waiting for an answer."
        now = self._clock.now()
        lines = [f"⏳ <b>Waiting for an answer: {len(queue)}</b>"]
        for number, item in enumerate(queue, start=1):
            name = escape(item.customer.full_name[:40])
            if self._link and item.customer.topic_id is not None:
                name = f'<a href="{self._link.format(topic=item.customer.topic_id)}">{name}</a>'
            waited = duration((now - item.since).total_seconds())
            lines.append(f"{number}. {name} · {item.customer.platform.display_name} · {waited}")
        return "\n".join(lines)

    async def remind(self) -> int:
        """Post one reminder per waiting period that went over the SLA; returns how many."""
        if self._schedule is not None and not self._schedule.is_open(self._clock.now()):
            return 0
        reminded = 0
        for item in await self.queue():
            alerted = item.conversation.sla_alerted_at
            if item.waited_seconds <= self._sla or (alerted is not None and alerted >= item.since):
                continue
            if await self._decisions.run(lambda ctx, item=item: self._remind(ctx, item)):  # type: ignore[misc]
                reminded += 1
        return reminded

    async def _remind(self, ctx: Context, item: Waiting) -> bool:
        """The note, the ⏰ mark on the topic, a line in General when asked for; once per
        waiting period, even with several replicas checking at once."""
        tx, now = ctx.tx, ctx.now
        fresh = await tx.conversations.get(item.conversation.id)  # an answer may have come
        if not still_waiting(fresh, item.since):
            return False
        assert fresh is not None
        if not await tx.conversations.mark_sla_alerted(fresh.id, now, item.since):
            return False  # another replica reminded first
        customer = item.customer
        waited = duration(item.waited_seconds)
        note = f"⏰ <b>The customer has been waiting {waited}</b> for an answer."
        ctx.to_topic(customer, PostNote(customer.id, note))
        ctx.to_topic(customer, ShowTopicState(customer.id))
        if self._alert_general and self._link and customer.topic_id is not None:
            link = self._link.format(topic=customer.topic_id)
            name = escape(customer.full_name[:40])
            ctx.to_general(
                PostGeneral(
                    f'⏰ <a href="{link}">{name}</a> has been waiting {waited} for an answer.'
                ),
                about=customer,
            )
        return True


def still_waiting(conversation: Conversation | None, since: datetime) -> bool:
    """Open, unanswered, and not yet reminded about in this waiting period."""
    if conversation is None or not conversation.is_open:
        return False
    if conversation.state.value not in ("new", "waiting"):
        return False
    alerted = conversation.sla_alerted_at
    return alerted is None or alerted < since
