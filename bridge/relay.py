"""The relay rules: customer ↔ topic, both ways, plus the operators' commands.

Transactions are kept short and never span a platform call: a slow Telegram answer must not
hold the database (SQLite has one writer). Per-customer locks keep each customer's work in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bridge import notes
from bridge.auto_replies import AutoReplies, Plan
from bridge.cards import customer_card
from bridge.clock import Clock
from bridge.errors import DeliveryFailed, FailureReason, RetryLater, TopicMissing, as_failure
from bridge.group_commit import BatchedWrites
from bridge.inbox import write_done
from bridge.locks import KeyedLocks
from bridge.log_context import about
from bridge.model import (
    ContentKind,
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
from bridge.ports import (
    CardButton,
    CustomerChannel,
    Metrics,
    NoMetrics,
    OperatorDesk,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bridge.screens import Screen, Screens
from bridge.serialization import message_from_json, message_to_json
from bridge.texts import Texts
from bridge.waiting import topic_name_for

log = logging.getLogger(__name__)


HELD_ACTION = "send_held:"
COMMENT_WINDOW = timedelta(minutes=15)
ScreenFactory = Callable[[str], Screen]  # language → the screen to send
UNREACHABLE = (FailureReason.BLOCKED, FailureReason.NOT_SUBSCRIBED)


class CardAction(StrEnum):
    """Buttons on the customer card and the matching slash commands."""

    CLOSE = "close"
    WAIT = "wait"
    REOPEN = "reopen"
    BAN = "ban"
    UNBAN = "unban"


@dataclass(frozen=True)
class _Opening:
    """A customer's message about to be relayed, and what it changes once it is."""

    stored: Customer  # as the database has them
    customer: Customer  # as this message shows them; written by `_book`
    conversation: Conversation  # with this message counted in; written by `_book`
    shown_before: TopicState | None  # what the topic showed before this message
    is_new: bool
    number: int  # the conversation's ordinal, counted only when a card or note shows it
    reply_to: int | None  # the copy in the topic this message answers
    came_back: bool  # the customer was unreachable until now


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
        auto_replies: AutoReplies | None = None,
        rating_screens: Screens | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or NoMetrics()
        self._ratings = rating_screens  # None: ratings are off (RATING_ENABLED=false)
        self._hold_outside_window = hold_outside_window
        self._auto = auto_replies
        self._uow = uow
        self._writes = BatchedWrites(uow)
        self._desk = desk
        self._channels = channels
        self._clock = clock
        self._texts = texts
        self._locks = KeyedLocks()

    # ----- customer → operators -------------------------------------------------------------

    async def customer_wrote(
        self, profile: CustomerProfile, messages: Sequence[IncomingMessage]
    ) -> bool:
        """Relay a message (or an album) into the customer's topic; False when not relayed.

        The common case costs one read before the copy and one write after it: the customer's
        activity, the conversation's timestamps and state, and the message links are committed
        together once the copy exists (a crash in between repeats the update: the documented
        duplicate bound).
        """
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            now = self._clock.now()
            async with self._uow() as tx:
                found = await tx.customers.find_with_latest(profile.platform, profile.external_id)
                rated = self._rated_awaiting_comment(found, messages, now)
                if rated is None:
                    opening = await self._open(tx, profile, found, messages[0].reply_to_message_id)
                else:
                    comment = (messages[0].text or "")[:500]
                    await tx.conversations.save(replace(rated, rating_comment=comment))
                    await tx.commit()
            if rated is not None:
                assert found is not None
                await self._thank_for_comment(found[0], messages[0].text or "")
                return False
            if opening is None:
                return False
            topic_id = await self._show(opening)
            customer, conversation = opening.customer, opening.conversation
            about(conversation.id)
            try:
                try:
                    group_ids = await self._desk.relay(topic_id, messages, opening.reply_to)
                except TopicMissing:
                    log.warning(
                        "topic %s of customer %s is gone; making another", topic_id, customer.id
                    )
                    customer = replace(customer, topic_id=None)
                    topic_id = await self._prepare_topic(customer, conversation, None, True)
                    group_ids = await self._desk.relay(topic_id, messages, None)
            except Exception:
                await self._book(opening, conversation)  # not relayed, but the customer wrote
                raise
            customer = replace(customer, topic_id=topic_id)
            plan = None
            if self._auto is not None:
                plan = await self._auto.plan(customer, conversation, messages, opening.is_new)
                conversation = plan.conversation
            links = [
                (message.ref.message_id, group_id, message.text)
                for message, group_id in zip(messages, group_ids, strict=False)
            ]
            await self._book(opening, conversation, links)
            self._metrics.relayed(customer.platform, "to_operators", len(messages))
            log.info("%d message(s) from customer %s relayed", len(messages), customer.id)
            if plan is not None:
                await self._carry_out(customer, topic_id, plan)
            return True

    async def customer_asks_operator(self, profile: CustomerProfile) -> None:
        """ "Talk to an operator" pressed: open a conversation so the team sees the customer."""
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            async with self._uow() as tx:
                found = await tx.customers.find_with_latest(profile.platform, profile.external_id)
                opening = await self._open(tx, profile, found, None)
            if opening is not None:
                topic_id = await self._show(opening)
                await self._desk.post_note(topic_id, notes.asks_operator())
                await self._book(opening, opening.conversation)

    async def _open(
        self,
        tx: UnitOfWork,
        profile: CustomerProfile,
        found: tuple[Customer, Conversation | None] | None,
        reply_to_message_id: str | None,
    ) -> _Opening | None:
        """Make sure the customer has an open conversation; None if they are banned.

        Writes (and commits) only what must exist before the copy: a new customer, a new
        conversation, the end of unreachability. The rest waits for `_book`.
        """
        now = self._clock.now()
        wrote = False
        if found is None:
            stored, previous = await tx.customers.upsert(profile, now), None
            wrote = True
        else:
            stored, previous = found
        customer = stored.seen_as(profile, now)
        if customer.banned:
            await tx.customers.record_activity(stored, customer)
            await tx.commit()
            log.info("message from banned customer %s not relayed", customer.id)
            return None
        is_new = previous is None or not previous.is_open
        conversation = previous
        if conversation is None or is_new:
            offline = self._auto is not None and self._auto.is_offline(now)
            conversation = await tx.conversations.start(customer.id, now, offline)
            wrote = True
        conversation = replace(conversation, last_customer_message_at=now)
        conversation = replace(conversation, state=conversation.open_state)
        number = 1  # only a new conversation's note and a new topic's card show it
        if is_new or customer.topic_id is None:
            number = await tx.conversations.count(customer.id)
        reply_to = None
        if reply_to_message_id:
            reply_to = await tx.links.group_message_for(customer.id, reply_to_message_id)
        came_back = customer.unreachable is not None
        if came_back:
            await tx.customers.set_unreachable(customer.id, None)
            stored = replace(stored, unreachable=None)
            customer = replace(customer, unreachable=None)
            wrote = True
        if wrote:
            await tx.commit()
        shown_before = previous.state if previous else None
        return _Opening(
            stored, customer, conversation, shown_before, is_new, number, reply_to, came_back
        )

    async def _show(self, opening: _Opening) -> int:
        """The customer's topic, showing the conversation's state; returns its id."""
        topic_id = await self._prepare_topic(
            opening.customer,
            opening.conversation,
            opening.shown_before,
            opening.is_new,
            opening.number,
        )
        if opening.came_back:
            await self._desk.post_note(topic_id, notes.customer_back())
        return topic_id

    async def _book(
        self,
        opening: _Opening,
        conversation: Conversation,
        links: Sequence[tuple[str, int, str | None]] = (),
    ) -> None:
        """One write: the customer's activity, the conversation, the message links.

        With links (relayed) it also marks the inbox's update done, in the same commit. The
        commit is shared with the bookkeeping of other lanes that arrived meanwhile
        (`BatchedWrites`); this returns once it is made.
        """
        now = self._clock.now()
        customer = opening.customer

        async def book(tx: UnitOfWork) -> None:
            await tx.customers.record_activity(opening.stored, customer)
            await tx.conversations.save(conversation)
            for customer_message_id, group_id, snippet in links:
                await tx.links.add(
                    customer.id, conversation.id, customer_message_id, group_id, True, now, snippet
                )

        if links:  # relayed: the update is done with this commit
            await write_done(self._writes, book)
        else:
            await self._writes.run(book)

    async def _prepare_topic(
        self,
        customer: Customer,
        conversation: Conversation,
        shown_before: TopicState | None,
        is_new: bool,
        number: int = 1,
    ) -> int:
        """Make sure the customer has an open topic showing the conversation's state."""
        name = self._topic_name(customer, conversation)
        if customer.topic_id is None:
            topic_id = await self._desk.open_topic(name)
            card_id = await self._desk.post_card(topic_id, customer_card(customer, number - 1))
            async with self._uow() as tx:
                await tx.customers.set_topic(customer.id, topic_id, card_id)
                await tx.commit()
            return topic_id
        topic_id = customer.topic_id
        try:
            if shown_before is TopicState.CLOSED:
                await self._desk.reopen_topic(topic_id)
            if is_new and number > 1:
                await self._desk.post_note(topic_id, notes.new_conversation(number))
                if customer.card_message_id is not None:
                    await self._desk.update_card(
                        customer.card_message_id, customer_card(customer, number - 1)
                    )
            if shown_before is not conversation.state or is_new:
                await self._desk.rename_topic(topic_id, name)
        except TopicMissing:  # deleted by an admin: a new topic with a new card
            log.warning("topic %s of customer %s is gone; replacing it", topic_id, customer.id)
            gone = replace(customer, topic_id=None)
            return await self._prepare_topic(gone, conversation, None, is_new, number)
        return topic_id

    def _topic_name(self, customer: Customer, conversation: Conversation) -> str:
        return topic_name_for(customer, conversation)

    async def _carry_out(self, customer: Customer, topic_id: int, plan: Plan) -> None:
        """The auto-replies' notes and screens (the conversation was saved with the links)."""
        channel = self._channels.get(customer.platform)
        for note in plan.notes:
            await self._desk.post_note(topic_id, note)
        for screen in plan.screens if channel is not None else ():
            try:
                await channel.send_screen(customer, screen)  # type: ignore[union-attr]
            except (DeliveryFailed, RetryLater) as error:
                log.info("auto-reply to customer %s not delivered: %s", customer.id, error)

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
            if await self._deliver(customer, channel, topic_id, messages, operator) and outside:
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
            if await self._deliver(customer, channel, topic_id, messages, operator):
                await self._desk.post_note(topic_id, notes.held_released(operator.name))
                return "Sent."
            return "Not delivered; see the note in the topic."

    async def _deliver(
        self,
        customer: Customer,
        channel: CustomerChannel,
        topic_id: int,
        messages: Sequence[IncomingMessage],
        operator: Operator,
    ) -> bool:
        """Send to the customer, record the map and the conversation, mark or explain."""
        now = self._clock.now()
        first = int(messages[0].ref.message_id)
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
            if conversation is None:
                conversation = await tx.conversations.start(customer.id, now)
            about(conversation.id)
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
            self._metrics.delivery_failed(failure.reason.value)
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
        self._metrics.relayed(customer.platform, "to_customer", len(messages))
        log.info("%d message(s) delivered to customer %s", len(messages), customer.id)
        if conversation.first_operator_reply_at is None:
            self._metrics.first_response((now - conversation.opened_at).total_seconds())
        conversation = replace(
            conversation,
            closed_at=None,
            state=TopicState.ANSWERED,
            first_operator_reply_at=conversation.first_operator_reply_at or now,
            last_operator_message_at=now,
            sla_alerted_at=None,  # answered: the ⏰ mark clears
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
                    operator,
                )
            await tx.conversations.save(conversation)
            await tx.conversations.clear_sla_alert(conversation.id)
            await tx.commit()
        mark = DeliveryMark.SENT if channel.receipts else DeliveryMark.DELIVERED
        for message in messages:
            await self._desk.mark(int(message.ref.message_id), mark)
        if reopened:
            await self._desk.reopen_topic(topic_id)
        if shown_before is not conversation.state:
            await self._desk.rename_topic(topic_id, self._topic_name(customer, conversation))
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
                failure = as_failure(error)
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
            if action is CardAction.WAIT:
                return await self._in_progress(customer, operator, None)
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
        await self._desk.rename_topic(customer.topic_id, self._topic_name(customer, closed))
        await self._desk.close_topic(customer.topic_id)
        channel = self._channels.get(customer.platform)
        if channel is not None:
            language = self._texts.language_for(customer.language)
            try:
                if self._ratings is not None:
                    await channel.send_screen(customer, self._ratings.rating(closed.id, language))
                else:
                    await channel.send_text(customer, self._texts.get("closed", language))
            except (DeliveryFailed, RetryLater) as error:
                log.info("closing message to customer %s not delivered: %s", customer.id, error)
        return "Conversation closed."

    # ----- ratings ------------------------------------------------------------------------------

    @property
    def locks(self) -> KeyedLocks:
        """Per-customer locks, shared with other services that change conversations."""
        return self._locks

    @property
    def ratings_on(self) -> bool:
        return self._ratings is not None

    async def rate(self, profile: CustomerProfile, conversation_id: int, stars: int) -> Screen:
        """A star pressed under the closing message; pressed twice or late, it still makes sense."""
        assert self._ratings is not None
        language = await self.language_of(profile)
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            now = self._clock.now()
            async with self._uow() as tx:
                customer = await tx.customers.find(profile.platform, profile.external_id)
                conversation = await tx.conversations.get(conversation_id)
                latest = await tx.conversations.latest(customer.id) if customer else None
                if (
                    customer is None
                    or conversation is None
                    or (conversation.customer_id != customer.id or not 1 <= stars <= 5)
                ):
                    return self._ratings.text("menu_outdated", language)
                if conversation.rating is not None:
                    return self._ratings.text("rating_already", language)
                rated = replace(conversation, rating=stars, rated_at=now)
                await tx.conversations.save(rated)
                await tx.commit()
            if customer.topic_id is not None:
                earlier = latest is not None and latest.id != conversation.id
                number = await self._number_of(customer.id, conversation.id) if earlier else None
                await self._desk.post_note(customer.topic_id, notes.rated(stars, number))
            if latest is not None and latest.id != conversation.id:
                return self._ratings.text("comment_thanks", language)  # a new one is under way
            return self._ratings.comment_invite(conversation.id, language)

    async def skip_comment(self, profile: CustomerProfile, conversation_id: int) -> Screen:
        assert self._ratings is not None
        language = await self.language_of(profile)
        async with self._uow() as tx:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is not None and conversation.rating_comment is None:
                await tx.conversations.save(replace(conversation, rating_comment=""))
                await tx.commit()
        return self._ratings.text("comment_thanks", language)

    def _rated_awaiting_comment(
        self,
        found: tuple[Customer, Conversation | None] | None,
        messages: Sequence[IncomingMessage],
        now: datetime,
    ) -> Conversation | None:
        """The just-rated conversation when this text is its comment, not a new question."""
        text = messages[0].text if messages[0].kind is ContentKind.TEXT else None
        if self._ratings is None or not text or found is None:
            return None
        conversation = found[1]
        if (
            conversation is None
            or conversation.is_open
            or conversation.rated_at is None
            or conversation.rating_comment is not None
            or now - conversation.rated_at > COMMENT_WINDOW
        ):
            return None
        return conversation

    async def _thank_for_comment(self, customer: Customer, text: str) -> None:
        assert self._ratings is not None
        if customer.topic_id is not None:
            await self._desk.post_note(customer.topic_id, notes.rating_comment(text))
        channel = self._channels.get(customer.platform)
        if channel is not None:
            thanks = self._ratings.text(
                "comment_thanks", self._texts.language_for(customer.language)
            )
            try:
                await channel.send_screen(customer, thanks)
            except (DeliveryFailed, RetryLater) as error:
                log.info("thanks for a comment not delivered: %s", error)

    async def _number_of(self, customer_id: int, conversation_id: int) -> int:
        """The ordinal of a conversation among the customer's, for notes about older ones."""
        async with self._uow() as tx:
            return await tx.conversations.count(customer_id, up_to=conversation_id)

    async def _reopen(self, customer: Customer, operator: Operator) -> str:
        assert customer.topic_id is not None
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
            if conversation is None or conversation.is_open:
                return "The conversation is already open."
            reopened = replace(conversation, closed_at=None, state=conversation.open_state)
            await tx.conversations.save(reopened)
            await tx.commit()
        await self._desk.reopen_topic(customer.topic_id)
        await self._desk.rename_topic(customer.topic_id, self._topic_name(customer, reopened))
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

    async def in_progress(self, topic_id: int, operator: Operator, minutes: int | None) -> str:
        """/wait [minutes]: tell the customer their question is being looked into."""
        customer = await self._customer_of(topic_id)
        if customer is None:
            return "This topic does not belong to a customer."
        async with self._locks.hold(customer.key):
            return await self._in_progress(customer, operator, minutes)

    async def _in_progress(
        self, customer: Customer, operator: Operator, minutes: int | None
    ) -> str:
        assert customer.topic_id is not None
        if minutes is None:
            text = self._texts.get("in_progress_default", customer.language)
        else:
            text = self._texts.get("in_progress_minutes", customer.language, minutes=minutes)
        if not await self._send_own(customer, customer.topic_id, text):
            return "Not delivered; see the note in the topic."
        expected = f"~{minutes} min" if minutes else "20–30 min"
        await self._desk.post_note(customer.topic_id, notes.in_progress(operator.name, expected))
        return "The customer was told."

    async def send_faq_answer(
        self, topic_id: int, operator: Operator, screen_for: ScreenFactory, question: str
    ) -> str:
        """An operator picked an FAQ entry: send it in the customer's language; it answers."""
        customer = await self._customer_of(topic_id)
        channel = self._channels.get(customer.platform) if customer else None
        if customer is None or channel is None:
            return "This topic does not belong to a customer."
        async with self._locks.hold(customer.key):
            screen = screen_for(self._texts.language_for(customer.language))
            try:
                await channel.send_screen(customer, screen)
            except (DeliveryFailed, RetryLater) as error:
                failure = as_failure(error)
                await self._desk.post_note(
                    topic_id, notes.not_delivered(failure, customer.platform)
                )
                return "Not delivered; see the note in the topic."
            now = self._clock.now()
            async with self._uow() as tx:
                conversation = await tx.conversations.latest(customer.id)
                if conversation is not None:
                    conversation = replace(
                        conversation,
                        state=TopicState.ANSWERED if conversation.is_open else conversation.state,
                        first_operator_reply_at=conversation.first_operator_reply_at or now,
                        last_operator_message_at=now,
                        sla_alerted_at=None,  # answered: the ⏰ mark clears
                    )
                    await tx.conversations.save(conversation)
                    await tx.conversations.clear_sla_alert(conversation.id)
                await tx.commit()
            await self._desk.post_note(topic_id, notes.faq_sent(operator.name, question))
            if conversation is not None and conversation.is_open:
                await self._desk.rename_topic(topic_id, self._topic_name(customer, conversation))
            return "Sent."

    async def faq_feedback(self, profile: CustomerProfile, ref: str, helped: bool) -> None:
        """The customer pressed Yes / Talk to an operator under an FAQ answer."""
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            async with self._uow() as tx:
                customer, conversation = await self._latest_of(tx, profile)
                if (
                    customer is None
                    or conversation is None
                    or conversation.faq_offered != ref
                    or conversation.faq_helped is not None
                ):
                    return
                await tx.conversations.save(replace(conversation, faq_helped=helped))
                await tx.commit()
            if customer.topic_id is not None:
                await self._desk.post_note(customer.topic_id, notes.faq_feedback(helped))

    async def language_of(self, profile: CustomerProfile) -> str:
        """The language to talk to this customer in: their choice, else their platform's."""
        async with self._uow() as tx:
            customer = await tx.customers.find(profile.platform, profile.external_id)
        stored = customer.language if customer and customer.language_chosen else None
        return self._texts.language_for(stored or profile.language)

    async def choose_language(self, profile: CustomerProfile, language: str) -> str:
        async with self._locks.hold(f"{profile.platform}:{profile.external_id}"):
            chosen = self._texts.language_for(language)
            async with self._uow() as tx:
                customer = await tx.customers.upsert(profile, self._clock.now())
                await tx.customers.choose_language(customer.id, chosen)
                await tx.commit()
            return chosen

    async def _send_own(self, customer: Customer, topic_id: int, text: str) -> bool:
        """Send the bridge's own text; explain in the topic when it does not arrive."""
        channel = self._channels.get(customer.platform)
        if channel is None:
            await self._desk.post_note(topic_id, notes.channel_missing(customer.platform))
            return False
        try:
            await channel.send_text(customer, text)
        except (DeliveryFailed, RetryLater) as error:
            failure = as_failure(error)
            await self._desk.post_note(topic_id, notes.not_delivered(failure, customer.platform))
            return False
        return True

    async def report_lost(
        self, platform: Platform | None, external_id: str | None, topic_id: int | None, why: str
    ) -> None:
        """An update was given up on after every retry: say so in the customer's topic."""
        if topic_id is None and platform is not None and external_id is not None:
            async with self._uow() as tx:
                customer = await tx.customers.find(platform, external_id)
            topic_id = customer.topic_id if customer else None
        if topic_id is not None:
            await self._desk.post_note(topic_id, notes.lost(why))

    @staticmethod
    async def _latest_of(
        tx: UnitOfWork, profile: CustomerProfile
    ) -> tuple[Customer | None, Conversation | None]:
        """A known customer and their latest conversation, without recording any activity."""
        customer = await tx.customers.find(profile.platform, profile.external_id)
        conversation = await tx.conversations.latest(customer.id) if customer else None
        return customer, conversation

    async def _customer_of(self, topic_id: int) -> Customer | None:
        async with self._uow() as tx:
            return await tx.customers.by_topic(topic_id)
