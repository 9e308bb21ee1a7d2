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
    IncomingMessage,
    Operator,
    Platform,
    TopicState,
)
from bridge.ports import CustomerChannel, OperatorDesk, UnitOfWorkFactory
from bridge.texts import Texts
from bridge.topic_names import topic_name

log = logging.getLogger(__name__)


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
    ) -> None:
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
            async with self._uow() as tx:
                for message, group_id in zip(messages, group_ids, strict=False):
                    await tx.links.add(
                        customer.id, conversation.id, message.ref.message_id, group_id, True, now
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
        async with self._locks.hold(customer.key):
            now = self._clock.now()
            async with self._uow() as tx:
                conversation = await tx.conversations.latest(customer.id)
                reopened = conversation is not None and not conversation.is_open
                if conversation is None:
                    conversation = await tx.conversations.start(customer.id, now)
                reply_to = None
                if messages[0].reply_to_message_id:
                    linked = await tx.links.customer_message_for(
                        int(messages[0].reply_to_message_id)
                    )
                    if linked and linked[0] == customer.id:
                        reply_to = linked[1]
                await tx.commit()
            first = int(messages[0].ref.message_id)
            channel = self._channels.get(customer.platform)
            if channel is None:
                await self._desk.post_note(
                    topic_id, notes.channel_missing(customer.platform), first
                )
                return
            try:
                customer_ids = await channel.deliver(customer, messages, reply_to)
            except DeliveryFailed as error:
                await self._desk.post_note(
                    topic_id, notes.not_delivered(error, customer.platform), first
                )
                return
            except RetryLater as error:
                await self._desk.post_note(
                    topic_id,
                    f"⚠️ <b>Not delivered</b>: {customer.platform.display_name} asked to wait "
                    f"{error.seconds:g}s; please send it again.",
                    first,
                )
                return
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
                    )
                await tx.conversations.save(conversation)
                await tx.commit()
            for message in messages:
                await self._desk.mark_delivered(int(message.ref.message_id))
            if reopened:
                await self._desk.reopen_topic(topic_id)
            if shown_before is not conversation.state:
                await self._desk.rename_topic(topic_id, topic_name(customer, conversation.state))

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
                linked = await tx.links.customer_message_for(int(message.ref.message_id))
            if linked is None or linked[0] != customer.id:
                return
            try:
                if await channel.apply_edit(customer, linked[1], message):
                    return
                correction = self._texts.get("correction", customer.language)
                await channel.send_text(customer, f"{correction} {message.text or ''}", linked[1])
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
