"""The relay rules: customer ↔ topic, both ways, plus the operators' commands.

Transactions are kept short and never span a platform call: a slow Telegram answer must not
hold the database (SQLite has one writer). Per-customer locks keep each customer's work in order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from bridge import notes
from bridge.cards import customer_card
from bridge.clock import Clock
from bridge.errors import DeliveryFailed, FailureReason, RetryLater, TopicMissing
from bridge.locks import KeyedLocks
from bridge.model import (
    Conversation,
    Customer,
    CustomerProfile,
    DeliveryMark,
    IncomingMessage,
    Operator,
    Platform,
    Reply,
    TopicState,
)
from bridge.ports import CardButton, CustomerChannel, OperatorDesk, UnitOfWorkFactory
from bridge.serialization import message_from_json, message_to_json
from bridge.texts import Texts
from bridge.topic_names import topic_name

log = logging.getLogger(__name__)


HELD_ACTION = "send_held:"
UNREACHABLE = (FailureReason.BLOCKED, FailureReason.NOT_SUBSCRIBED)


class CardAction(StrEnum):
    """Buttons on the customer card and the matching slash commands."""

    CLOSE = "close"
    REOPEN = "reopen"
    BAN = "ban"
    UNBAN = "unban"


class Relay:
    """The use cases; adapters call these with core types only."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        desk: OperatorDesk,
        channels: Mapping[Platform, CustomerChannel],
        clock: Clock,
        texts: Texts,
        hold_outside_window: bool = False,
    ) -> None:
        self._hold_outside_window = hold_outside_window
        self._uow = uow
        self._desk = desk
        self._channels = channels
        self._clock = clock
        self._texts = texts
        self._locks = KeyedLocks()

    # ----- customer → operators -------------------------------------------------------------

    async def customer_wrote(
        self, profile: CustomerProfile, messages: Sequence[IncomingMessage]
    ) -> bool:
        """Relay a message (or an album) into the customer's topic; False when not relayed."""
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            now = self._clock.now()
            async with self._uow() as tx:
                customer = await tx.customers.upsert(profile, now)
                if customer.banned:
                    await tx.commit()
                    log.info("message from banned customer %s not relayed", customer.id)
                    return False
                previous = await tx.conversations.latest(customer.id)
                conversation = previous
                if conversation is None or not conversation.is_open:
                    conversation = await tx.conversations.start(customer.id, now)
                shown_before = previous.state if previous else None
                state = (
                    TopicState.NEW
                    if conversation.first_operator_reply_at is None
                    else (TopicState.WAITING)
                )
                conversation = replace(conversation, state=state, last_customer_message_at=now)
                await tx.conversations.save(conversation)
                number = await tx.conversations.count(customer.id)
                reply_to = None
                if messages[0].reply_to_message_id:
                    reply_to = await tx.links.group_message_for(
                        customer.id, messages[0].reply_to_message_id
                    )
                came_back = customer.unreachable is not None
                if came_back:
                    await tx.customers.set_unreachable(customer.id, None)
                await tx.commit()

            topic_id = await self._prepare_topic(customer, conversation, shown_before, number)
            try:
                group_ids = await self._desk.relay(topic_id, messages, reply_to)
            except TopicMissing:
                log.warning(
                    "topic %s of customer %s is gone; making another", topic_id, customer.id
                )
                customer = replace(customer, topic_id=None)
                topic_id = await self._prepare_topic(customer, conversation, None, number)
                group_ids = await self._desk.relay(topic_id, messages, None)
            if came_back:
                await self._desk.post_note(topic_id, notes.customer_back())
            async with self._uow() as tx:
                for message, group_id in zip(messages, group_ids, strict=False):
                    await tx.links.add(
                        customer.id,
                        conversation.id,
                        message.ref.message_id,
                        group_id,
                        True,
                        now,
                        message.text,
                    )
                await tx.commit()
            return True

    async def _prepare_topic(
        self,
        customer: Customer,
        conversation: Conversation,
        shown_before: TopicState | None,
        number: int,
    ) -> int:
        """Make sure the customer has an open topic showing the conversation's state."""
        name = topic_name(customer, conversation.state)
        if customer.topic_id is None:
            topic_id = await self._desk.open_topic(name)
            card_id = await self._desk.post_card(topic_id, customer_card(customer, number - 1))
            async with self._uow() as tx:
                await tx.customers.set_topic(customer.id, topic_id, card_id)
                await tx.commit()
            return topic_id
        topic_id = customer.topic_id
        if shown_before is TopicState.CLOSED:
            await self._desk.reopen_topic(topic_id)
        if conversation.opened_at == conversation.last_customer_message_at and number > 1:
            await self._desk.post_note(topic_id, notes.new_conversation(number))
            if customer.card_message_id is not None:
                await self._desk.update_card(
                    customer.card_message_id, customer_card(customer, number - 1)
                )
        if shown_before is not conversation.state:
            await self._desk.rename_topic(topic_id, name)
        return topic_id

    async def customer_edited(self, profile: CustomerProfile, message: IncomingMessage) -> None:
        """Apply a customer's edit to the copy in the topic, or post a marked correction."""
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            async with self._uow() as tx:
                customer = await tx.customers.upsert(profile, self._clock.now())
                group_id = await tx.links.group_message_for(customer.id, message.ref.message_id)
                await tx.commit()
            if group_id is None or customer.topic_id is None or customer.banned:
                return
            if not await self._desk.apply_edit(group_id, message):
                await self._desk.post_note(
                    customer.topic_id, notes.customer_edit(message.text or ""), reply_to=group_id
                )

    # ----- operators → customer -------------------------------------------------------------

    async def operator_wrote(
        self, topic_id: int, operator: Operator, messages: Sequence[IncomingMessage]
    ) -> None:
        """Deliver an operator's message (or album) to the customer of this topic."""
        if messages[0].is_internal_note:
            return
        customer = await self._customer_of(topic_id)
        if customer is None:
            return
        first = int(messages[0].ref.message_id)
        channel = self._channels.get(customer.platform)
        if channel is None:
            await self._desk.post_note(topic_id, notes.channel_missing(customer.platform), first)
            return
        async with self._locks.hold(customer.key):
            if customer.unreachable:
                failure = DeliveryFailed(FailureReason(customer.unreachable))
                await self._desk.post_note(
                    topic_id, notes.not_delivered(failure, customer.platform), first
                )
                return
            window = channel.free_window
            now = self._clock.now()
            outside = window is not None and (
                customer.last_seen_at is None or now - customer.last_seen_at > window
            )
            hours = int(window.total_seconds() // 3600) if window else 0
            if outside and self._hold_outside_window:
                async with self._uow() as tx:
                    held_id = await tx.held.hold(
                        customer.id,
                        topic_id,
                        {"messages": [message_to_json(m) for m in messages]},
                        now,
                    )
                    await tx.commit()
                button = CardButton("📨 Send anyway", f"{HELD_ACTION}{held_id}")
                await self._desk.post_note(
                    topic_id,
                    notes.outside_free_window(customer.platform, hours, held=True),
                    first,
                    buttons=(button,),
                )
                return
            if await self._deliver(customer, channel, topic_id, messages) and outside:
                await self._desk.post_note(
                    topic_id, notes.outside_free_window(customer.platform, hours, held=False), first
                )

    async def release_held(self, topic_id: int, held_id: int, operator: Operator) -> str:
        """`Send anyway` on a held message: deliver it now."""
        customer = await self._customer_of(topic_id)
        channel = self._channels.get(customer.platform) if customer else None
        if customer is None or channel is None:
            return "This topic does not belong to a customer."
        async with self._locks.hold(customer.key):
            async with self._uow() as tx:
                held = await tx.held.release(held_id)
                await tx.commit()
            if held is None or held[0] != customer.id:
                return "That message was already sent."
            messages = [message_from_json(m) for m in held[2]["messages"]]
            if await self._deliver(customer, channel, topic_id, messages):
                await self._desk.post_note(topic_id, notes.held_released(operator.name))
                return "Sent."
            return "Not delivered; see the note in the topic."

    async def _deliver(
        self,
        customer: Customer,
        channel: CustomerChannel,
        topic_id: int,
        messages: Sequence[IncomingMessage],
    ) -> bool:
        """Send to the customer, record the map and the conversation, mark or explain."""
        now = self._clock.now()
        first = int(messages[0].ref.message_id)
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
            if conversation is None:
                conversation = await tx.conversations.start(customer.id, now)
            reply = None
            if messages[0].reply_to_message_id:
                link = await tx.links.by_group_message(int(messages[0].reply_to_message_id))
                if link and link.customer_id == customer.id:
                    reply = Reply(link.customer_message_id, link.snippet)
            await tx.commit()
        try:
            customer_ids = await channel.deliver(customer, messages, reply)
        except (DeliveryFailed, RetryLater) as error:
            failure = (
                error
                if isinstance(error, DeliveryFailed)
                else DeliveryFailed(
                    FailureReason.UNKNOWN, f"{customer.platform.display_name} asked to wait"
                )
            )
            if failure.reason in UNREACHABLE:
                async with self._uow() as tx:
                    await tx.customers.set_unreachable(customer.id, failure.reason.value)
                    await tx.commit()
            await self._desk.post_note(
                topic_id, notes.not_delivered(failure, customer.platform), first
            )
            return False
        reopened = not conversation.is_open
        shown_before = conversation.state
        conversation = replace(
            conversation,
            closed_at=None,
            state=TopicState.ANSWERED,
            first_operator_reply_at=conversation.first_operator_reply_at or now,
            last_operator_message_at=now,
        )
        async with self._uow() as tx:
            for message, customer_message_id in zip(messages, customer_ids, strict=False):
                await tx.links.add(
                    customer.id,
                    conversation.id,
                    customer_message_id,
                    int(message.ref.message_id),
                    False,
                    now,
                    message.text,
                )
            await tx.conversations.save(conversation)
            await tx.commit()
        mark = DeliveryMark.SENT if channel.receipts else DeliveryMark.DELIVERED
        for message in messages:
            await self._desk.mark(int(message.ref.message_id), mark)
        if reopened:
            await self._desk.reopen_topic(topic_id)
        if shown_before is not conversation.state:
            await self._desk.rename_topic(topic_id, topic_name(customer, conversation.state))
        return True

    # ----- what platforms report about customers and deliveries ---------------------------

    async def customer_reachability(
        self, platform: Platform, external_id: str, reason: FailureReason | None
    ) -> None:
        """A customer blocked/unsubscribed (`reason`) or came back (None): record and show."""
        async with self._locks.hold(f"{platform}:{external_id}"):
            async with self._uow() as tx:
                customer = await tx.customers.find(platform, external_id)
                if customer is None or customer.unreachable == (reason.value if reason else None):
                    return
                await tx.customers.set_unreachable(customer.id, reason.value if reason else None)
                await tx.commit()
            if customer.topic_id is not None:
                note = notes.customer_gone(reason) if reason else notes.customer_back()
                await self._desk.post_note(customer.topic_id, note)

    async def delivery_receipt(
        self,
        platform: Platform,
        external_id: str,
        customer_message_id: str,
        mark: DeliveryMark | None,
        failure: str | None = None,
    ) -> None:
        """The platform reports an operator's message delivered, seen, or failed."""
        async with self._uow() as tx:
            customer = await tx.customers.find(platform, external_id)
            if customer is None:
                return
            group_id = await tx.links.group_message_for(customer.id, customer_message_id)
        if group_id is None or customer.topic_id is None:
            return
        if mark is not None:
            await self._desk.mark(group_id, mark)
        else:
            await self._desk.post_note(
                customer.topic_id, notes.delivery_failed_later(failure or ""), group_id
            )

    async def operator_edited(self, topic_id: int, message: IncomingMessage) -> None:
        """Apply an operator's edit for the customer, or send a marked correction."""
        if message.is_internal_note:
            return
        customer = await self._customer_of(topic_id)
        channel = self._channels.get(customer.platform) if customer else None
        if customer is None or channel is None:
            return
        async with self._locks.hold(customer.key):
            async with self._uow() as tx:
                link = await tx.links.by_group_message(int(message.ref.message_id))
            if link is None or link.customer_id != customer.id:
                return
            target = link.customer_message_id
            try:
                if await channel.apply_edit(customer, target, message):
                    return
                correction = self._texts.get("correction", customer.language)
                await channel.send_text(customer, f"{correction} {message.text or ''}", target)
            except (DeliveryFailed, RetryLater) as error:
                failure = (
                    error
                    if isinstance(error, DeliveryFailed)
                    else DeliveryFailed(FailureReason.UNKNOWN, str(error))
                )
                await self._desk.post_note(
                    topic_id,
                    notes.not_delivered(failure, customer.platform),
                    int(message.ref.message_id),
                )

    # ----- commands -------------------------------------------------------------------------

    async def card_action(self, topic_id: int, action: CardAction, operator: Operator) -> str:
        """Run /close, /reopen, /ban, /unban (or a card button); return a short answer."""
        customer = await self._customer_of(topic_id)
        if customer is None:
            return "This topic does not belong to a customer."
        async with self._locks.hold(customer.key):
            if action in (CardAction.BAN, CardAction.UNBAN):
                return await self._set_banned(customer, action is CardAction.BAN, operator)
            if action is CardAction.CLOSE:
                return await self._close(customer, operator)
            return await self._reopen(customer, operator)

    async def _close(self, customer: Customer, operator: Operator) -> str:
        assert customer.topic_id is not None
        now = self._clock.now()
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
            if conversation is None or not conversation.is_open:
                return "The conversation is already closed."
            closed = replace(conversation, closed_at=now, state=TopicState.CLOSED)
            await tx.conversations.save(closed)
            await tx.commit()
        await self._desk.post_note(customer.topic_id, notes.closed(operator.name))
        await self._desk.rename_topic(customer.topic_id, topic_name(customer, TopicState.CLOSED))
        await self._desk.close_topic(customer.topic_id)
        channel = self._channels.get(customer.platform)
        if channel is not None:
            try:
                await channel.send_text(customer, self._texts.get("closed", customer.language))
            except (DeliveryFailed, RetryLater) as error:
                log.info("closing message to customer %s not delivered: %s", customer.id, error)
        return "Conversation closed."

    async def _reopen(self, customer: Customer, operator: Operator) -> str:
        assert customer.topic_id is not None
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
            if conversation is None or conversation.is_open:
                return "The conversation is already open."
            state = conversation.open_state
            await tx.conversations.save(replace(conversation, closed_at=None, state=state))
            await tx.commit()
        await self._desk.reopen_topic(customer.topic_id)
        await self._desk.rename_topic(customer.topic_id, topic_name(customer, state))
        await self._desk.post_note(customer.topic_id, notes.reopened(operator.name))
        return "Conversation reopened."

    async def _set_banned(self, customer: Customer, banned: bool, operator: Operator) -> str:
        topic_id = customer.topic_id
        assert topic_id is not None
        if customer.banned == banned:
            return "The customer is already banned." if banned else "The customer is not banned."
        async with self._uow() as tx:
            await tx.customers.set_banned(customer.id, banned)
            earlier = await tx.conversations.count(customer.id)
            await tx.commit()
        customer = replace(customer, banned=banned)
        if customer.card_message_id is not None:
            await self._desk.update_card(
                customer.card_message_id, customer_card(customer, max(earlier - 1, 0))
            )
        note = notes.banned(operator.name) if banned else notes.unbanned(operator.name)
        await self._desk.post_note(topic_id, note)
        return "Customer banned." if banned else "Customer unbanned."

    async def _customer_of(self, topic_id: int) -> Customer | None:
        async with self._uow() as tx:
            return await tx.customers.by_topic(topic_id)

    async def claim_update(self, key: str) -> bool:
        """Record a platform update id; False when it was already handled."""
        async with self._uow() as tx:
            fresh = await tx.updates.claim(key, self._clock.now())
            await tx.commit()
            return fresh
