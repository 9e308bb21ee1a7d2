"""Nobody waits unseen: the queue of customers waiting for an answer, and the SLA reminder.

A customer who has waited longer than `SLA_FIRST_RESPONSE_SECONDS` of working time gets their
topic marked (⏰) and one reminder posted in it (optionally also in the General topic, with a
link); the mark clears when an operator answers. The reminder names the conversation's owner
(a mention: Telegram notifies them); when the owner still has not answered
`SLA_REASSIGN_MINUTES` of working time later, the conversation is freed and the team is told,
in the topic and in General, that it is free to take.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bridge import notes
from bridge.clock import Clock
from bridge.decisions import Decisions
from bridge.deliveries import PostGeneral, PostNote, RefreshCard, ShowTopicState
from bridge.departments import MAIN, topic_link
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
        reassign: timedelta = timedelta(minutes=15),
        default_department: str = MAIN,
    ) -> None:
        self._default = default_department  # a customer with none is in it
        self._uow = uow
        self._decisions = decisions
        self._clock = clock
        self._schedule = schedule
        self._sla = sla.total_seconds()
        self._link = topic_link  # e.g. https://t.me/c/1234567890/{topic}
        self._alert_general = alert_general
        self._reassign = reassign.total_seconds()

    def _link_of(self, customer: Customer) -> str | None:
        """A link to the customer's topic, in whichever group it is."""
        if customer.topic_id is None:
            return None
        if customer.group_id is not None:
            return topic_link(customer.group_id, customer.topic_id)
        return self._link.format(topic=customer.topic_id) if self._link else None

    async def queue(self, departments: Collection[str] | None = None) -> list[Waiting]:
        """Everyone waiting for an answer, longest first (of `departments`: None, all)."""
        now = self._clock.now()
        async with self._uow() as tx:
            found = await tx.conversations.waiting()
            customers = await tx.customers.many({c.customer_id for c, _ in found})
        queue = []
        for conversation, since in found:
            customer = customers.get(conversation.customer_id)
            if customer is None or customer.topic_id is None or customer.banned:
                continue
            if departments is not None and (customer.department or self._default) not in (
                departments
            ):
                continue
            waited = (
                self._schedule.working_seconds(since, now)
                if self._schedule is not None
                else (now - since).total_seconds()
            )
            queue.append(Waiting(customer, conversation, since, waited))
        return sorted(queue, key=lambda w: w.since)

    def render_queue(self, queue: list[Waiting], of: str = "") -> str:
        """`of`: whose queue it is (the departments' names), when not everyone's."""
        whose = f" ({escape(of)})" if of else ""
        if not queue:
            return f"✅ Nobody is waiting for an answer{whose}."
        now = self._clock.now()
        lines = [f"⏳ <b>Waiting for an answer{whose}: {len(queue)}</b>"]
        for number, item in enumerate(queue, start=1):
            name = escape(item.customer.full_name[:40])
            if link := self._link_of(item.customer):
                name = f'<a href="{link}">{name}</a>'
            waited = duration((now - item.since).total_seconds())
            lines.append(f"{number}. {name} · {item.customer.platform.display_name} · {waited}")
        return "\n".join(lines)

    async def mine(self, operator_id: int) -> list[Waiting]:
        """The operator's open conversations: those waiting for an answer first (longest
        first), then the answered ones (oldest first)."""
        async with self._uow() as tx:
            owned = await tx.conversations.owned_by(operator_id)
            customers = await tx.customers.many({c.customer_id for c in owned})
        waiting = {w.conversation.id: w for w in await self.queue()}
        first, then = [], []
        for conversation in owned:
            customer = customers.get(conversation.customer_id)
            if customer is None or customer.topic_id is None:
                continue
            if conversation.id in waiting:
                first.append(waiting[conversation.id])
            else:
                since = conversation.last_operator_message_at or conversation.opened_at
                then.append(Waiting(customer, conversation, since, 0.0))
        return sorted(first, key=lambda w: w.since) + then

    def render_mine(self, mine: list[Waiting]) -> str:
        if not mine:
            return "🙋 You own no open conversations."
        now = self._clock.now()
        waiting = {
            m.conversation.id for m in mine if m.conversation.state.value in ("new", "waiting")
        }
        lines = [f"🙋 <b>Your open conversations: {len(mine)}</b>, waiting {len(waiting)}"]
        for number, item in enumerate(mine, start=1):
            name = escape(item.customer.full_name[:40])
            if link := self._link_of(item.customer):
                name = f'<a href="{link}">{name}</a>'
            platform = item.customer.platform.display_name
            if item.conversation.id in waiting:
                waited = duration((now - item.since).total_seconds())
                lines.append(f"{number}. 🔴 {name} · {platform} · waiting {waited}")
            else:
                lines.append(f"{number}. 🟢 {name} · {platform} · answered")
        return "\n".join(lines)

    async def remind(self) -> int:
        """Post one reminder per waiting period that went over the SLA, and free owned
        conversations whose owner let `reassign` more pass; returns how many posts."""
        now = self._clock.now()
        if self._schedule is not None and not self._schedule.is_open(now):
            return 0
        reminded = 0
        for item in await self.queue():
            alerted = item.conversation.sla_alerted_at
            if item.waited_seconds <= self._sla:
                continue
            if alerted is None or alerted < item.since:
                step = self._remind
            elif item.conversation.owner_id is not None and (
                self._worked(alerted, now) >= self._reassign
            ):
                step = self._free
            else:
                continue
            if await self._decisions.run(lambda ctx, item=item, step=step: step(ctx, item)):  # type: ignore[misc]
                reminded += 1
        return reminded

    def _worked(self, since: datetime, now: datetime) -> float:
        if self._schedule is not None:
            return self._schedule.working_seconds(since, now)
        return (now - since).total_seconds()

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
        note = notes.waiting_too_long(waited, fresh.owner_id, fresh.owner_name)
        ctx.to_topic(customer, PostNote(customer.id, note))
        ctx.to_topic(customer, ShowTopicState(customer.id))
        link = self._link_of(customer)
        if self._alert_general and link:
            name = escape(customer.full_name[:40])
            ctx.to_general(
                PostGeneral(
                    f'⏰ <a href="{link}">{name}</a> has been waiting {waited} for an answer.'
                ),
                about=customer,
            )
        return True

    async def _free(self, ctx: Context, item: Waiting) -> bool:
        """The owner was reminded and still has not answered: nobody owns the conversation
        now, and everyone is told (once: the release is conditional on that owner)."""
        tx = ctx.tx
        fresh = await tx.conversations.get(item.conversation.id)
        owner = item.conversation.owner_id
        if fresh is None or not fresh.is_open or fresh.state.value not in ("new", "waiting"):
            return False
        if owner is None or fresh.owner_id != owner:
            return False
        if not await tx.conversations.set_owner(fresh.id, None, unless_owner=owner):
            return False
        customer = item.customer
        waited = duration(item.waited_seconds)
        name = fresh.owner_name or f"Operator {owner}"
        ctx.to_topic(customer, PostNote(customer.id, notes.free_to_take(waited, name)))
        ctx.to_topic(customer, RefreshCard(customer.id))
        link = self._link_of(customer)
        if link:
            who = escape(customer.full_name[:40])
            ctx.to_general(
                PostGeneral(
                    f'⏰ <a href="{link}">{who}</a> has been waiting {waited}: {escape(name)} '
                    "has not answered, the conversation is free to take."
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
