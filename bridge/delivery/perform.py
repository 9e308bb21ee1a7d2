"""What one delivery does on the platforms, and what is recorded once it is done.

Everything a delivery needs that may have changed since it was decided (the customer's topic,
the map of messages for a reply or an edit, the conversation's state) is read now. The topic
is kept here: made when a delivery needs one (`open_topic` is then the whole step, and the
delivery goes on with the next slot), repaired when an admin deleted it, and its card goes
with the customer's first words. A transient failure raises `Retry`; a refusal for good
becomes a fallback or a note, never silence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from bridge import notes
from bridge.business import connection_of
from bridge.cards import SEPARATOR, customer_card, quote
from bridge.clock import Clock, SystemClock
from bridge.deliveries import (
    AnswerButton,
    CloseFormerTopic,
    DeliverWords,
    Delivery,
    EditCopy,
    EditDelivered,
    MarkMessage,
    Planned,
    PostGeneral,
    PostNote,
    PostWords,
    RefreshCard,
    SendScreen,
    SetTopicOpen,
    ShowTopicState,
    decode,
)
from bridge.delivery.queue import Choice
from bridge.departments import group_destination, topic_link
from bridge.errors import (
    ACCOUNT_PROBLEMS,
    HELD_REFUSALS,
    DeliveryFailed,
    FailureReason,
    RetryLater,
    TopicMissing,
)
from bridge.handlers.context import GENERAL_LANE, Rules
from bridge.handlers.operators import HELD_ACTION
from bridge.log_context import about
from bridge.model import Customer, DeliveryMark, OutboxItem, Platform, Reply
from bridge.ports import (
    ButtonAnswers,
    Card,
    CardButton,
    CustomerChannel,
    Header,
    MarksRead,
    Metrics,
    OperatorDesk,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bridge.serialization import message_to_json
from bridge.topic_names import topic_name_for

log = logging.getLogger(__name__)

# What a delivery records once done; it may plan follow-ups that need what it wrote (an id).
Write = Callable[[UnitOfWork], Awaitable[Sequence[Planned] | None]]
UNREACHABLE = (FailureReason.BLOCKED, FailureReason.NOT_SUBSCRIBED)


class Retry(Exception):
    """A transient failure: try again after `after` seconds; `whole_chat` when the platform
    asked the whole destination to wait (a 429) or is down."""

    def __init__(self, after: float, why: str, whole_chat: bool = False) -> None:
        super().__init__(why)
        self.after = after
        self.why = why
        self.whole_chat = whole_chat


@dataclass
class Outcome:
    """How a delivery ended: `finish` is the state its rows take (None: a step was made, it
    stays pending); `write` what to record with it; `follow` new deliveries (notes)."""

    finish: str | None = "done"
    write: Write | None = None
    follow: list[Planned] = field(default_factory=list)
    error: str | None = None


STEP = Outcome(finish=None)


# The operator group whose delivery this task performs (each delivery runs in a task of its
# own, so concurrent deliveries to different groups each see theirs).
_current_desk: ContextVar[OperatorDesk] = ContextVar("current_desk")


class Performer:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        desks: Mapping[str, OperatorDesk],
        channels: Mapping[Platform, CustomerChannel],
        answers: ButtonAnswers,
        rules: Rules,
        metrics: Metrics,
        clock: Clock | None = None,
    ) -> None:
        self._uow = uow
        self._desks = desks  # by destination (`group:<chat id>`), one per operator group
        self._fallback = next(iter(desks.values()))  # the default department's group is first
        self._channels = channels
        self._answers = answers
        self._rules = rules
        self._metrics = metrics
        self._clock = clock or SystemClock()  # dates a card's words, for retention

    def _groups_of(self, customer: Customer) -> tuple[int, int]:
        """(the customer's topic's group, OPERATOR_CHAT_ID's) for the message map."""
        return self._rules.topic_group(customer), self._rules.default_group

    @property
    def _desk(self) -> OperatorDesk:
        return _current_desk.get()

    async def perform(self, choice: Choice) -> Outcome:
        """Carry out a choice; raises `Retry` when it must be tried again later."""
        first = choice.items[0]
        _current_desk.set(self._desks.get(first.destination, self._fallback))
        delivery = decode(first.kind, dict(first.payload))
        about(getattr(delivery, "conversation_id", None))  # this task's log lines name it
        try:
            if choice.prepare:
                assert isinstance(delivery, PostWords)
                return await self._prepare(first, delivery)
            if isinstance(delivery, PostWords):
                batch = [decode(i.kind, dict(i.payload)) for i in choice.items]
                return await self._post_words(first, [w for w in batch if isinstance(w, PostWords)])
            return await self._perform_one(first, delivery)
        except RetryLater as error:
            raise Retry(error.seconds, str(error), whole_chat=True) from None

    async def _perform_one(self, item: OutboxItem, delivery: Delivery) -> Outcome:
        match delivery:
            case PostNote():
                return await self._post_note(item, delivery)
            case EditCopy():
                return await self._edit_copy(item, delivery)
            case SetTopicOpen():
                return await self._set_topic_open(delivery)
            case CloseFormerTopic():
                return await self._close_former_topic(delivery)
            case RefreshCard():
                return await self._refresh_card(delivery)
            case ShowTopicState():
                return await self._show_topic_state(delivery)
            case MarkMessage():
                return await self._mark(delivery)
            case PostGeneral():
                await self._desk.post_general(delivery.html)
                return Outcome()
            case DeliverWords():
                return await self._deliver_words(item, delivery)
            case SendScreen():
                return await self._send_screen(item, delivery)
            case EditDelivered():
                return await self._edit_delivered(item, delivery)
            case AnswerButton():
                return await self._answer(delivery)
        raise AssertionError(f"no way to perform {item.kind}")

    # ----- reading what the delivery needs --------------------------------------------------

    async def _customer(self, customer_id: int | None) -> Customer | None:
        if customer_id is None:
            return None
        async with self._uow() as tx:
            return await tx.customers.get(customer_id)

    async def _customer_card(self, customer: Customer) -> Card:
        """The card as things stand: earlier conversations, the open one's owner."""
        connection = connection_of(customer)
        async with self._uow() as tx:
            earlier = max(await tx.conversations.count(customer.id) - 1, 0)
            latest = await tx.conversations.latest(customer.id)
            account = await tx.business.get(connection) if connection else None
        owner = latest.owner if latest is not None and latest.is_open else None
        departments = self._rules.departments
        department = self._rules.department_of(customer)
        name = department.name.en if department and departments and departments.several else None
        wrote_to = (account.label if account else connection) if connection else None
        return customer_card(customer, earlier, owner, name, wrote_to)

    # ----- the topic ----------------------------------------------------------------------

    async def _open_topic(self, customer: Customer) -> Outcome:
        """Make the customer's topic: this is the delivery's step for this slot."""
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
        name = topic_name_for(customer, conversation)
        topic_id = await self._desk.open_topic(name)
        log.info("topic %s made for customer %s", topic_id, customer.id)

        async def write(tx: UnitOfWork) -> None:
            await tx.customers.set_topic(
                customer.id, topic_id, name, self._rules.topic_group(customer)
            )

        return Outcome(finish=None, write=write)

    def _topic_gone(self, customer: Customer) -> Outcome:
        """An admin deleted the topic: the next step makes a new one (with a new card)."""
        log.warning(
            "topic %s of customer %s is gone; making another", customer.topic_id, customer.id
        )

        async def write(tx: UnitOfWork) -> None:
            await tx.customers.set_topic(customer.id, None)

        return Outcome(finish=None, write=write)

    async def _card(self, customer: Customer) -> Header:
        card = await self._customer_card(customer)
        return Header(card.html, card.buttons)

    async def _prepare(self, item: OutboxItem, words: PostWords) -> Outcome:
        customer = await self._customer(words.customer_id)
        if customer is None or customer.topic_id is not None:
            return Outcome(finish=None)
        return await self._open_topic(customer)

    async def _card_with_note(self, customer: Customer, note: PostNote) -> Outcome:
        """A note (not words) is the first thing in a new topic: it goes under the card, in
        the card's post."""
        assert customer.topic_id is not None
        card = await self._customer_card(customer)
        html = f"{card.html}{SEPARATOR}{note.html}"
        card_id = await self._desk.post_note(customer.topic_id, html, None, card.buttons)
        posted_at = self._clock.now()

        async def write(tx: UnitOfWork) -> None:
            await tx.customers.set_card(customer.id, card_id, note.html, False, posted_at)

        return Outcome(write=write, follow=self._former_topic_closes(customer, note))

    def _former_topic_closes(self, customer: Customer, note: PostNote) -> list[Planned]:
        """A transfer's note is in the new topic: the former one links to it and closes."""
        if note.moved_from_group is None or note.moved_from_topic is None:
            return []
        department = self._rules.department_of(customer)
        name = department.name.en if department is not None else "another department"
        link = topic_link(self._rules.topic_group(customer), customer.topic_id)
        old, lane = note.moved_from_topic, f"topic:{note.moved_from_topic}"
        destination = group_destination(note.moved_from_group)
        moved = PostNote(None, notes.transferred_out(name, link), topic_id=old)
        return [
            Planned(moved, destination, lane),
            Planned(CloseFormerTopic(old), destination, lane),
        ]

    # ----- customer → operators -----------------------------------------------------------

    async def _post_words(self, item: OutboxItem, batch: Sequence[PostWords]) -> Outcome:
        words = batch[0]
        customer = await self._customer(words.customer_id)
        if customer is None:
            return Outcome(finish="dropped")
        if customer.topic_id is None:
            return await self._open_topic(customer)
        messages = [m for w in batch for m in w.messages]
        headers = [w.header for w in batch if w.header]
        header = Header("\n".join(headers)) if headers else None
        card = customer.card_message_id is None
        if card:
            card_header = await self._card(customer)
            html = SEPARATOR.join(h for h in (card_header.html, header.html if header else "") if h)
            header = Header(html, card_header.buttons)
        reply_to = None
        target = messages[0].reply_to_message_id
        if target:
            async with self._uow() as tx:
                reply_to = await tx.links.group_message_for(
                    customer.id, target, *self._groups_of(customer)
                )
        try:
            posted = await self._desk.post_words(customer.topic_id, messages, reply_to, header)
        except TopicMissing:
            return self._topic_gone(customer)
        except DeliveryFailed as error:
            return self._words_refused(item, customer, words, error)
        self._metrics.relayed(customer.platform, "to_operators", len(messages))
        log.info("%d message(s) from customer %s relayed", len(messages), customer.id)
        at = {m.ref.message_id: w.at for w in batch for m in w.messages}
        posted_at = self._clock.now()
        conversation_of = {m.ref.message_id: w.conversation_id for w in batch for m in w.messages}
        customers_own = {m.ref.message_id: w.from_customer for w in batch for m in w.messages}

        async def write(tx: UnitOfWork) -> None:
            for message, group_id in zip(messages, posted.ids, strict=False):
                key = message.ref.message_id
                await tx.links.add(
                    customer.id,
                    conversation_of[key],
                    key,
                    group_id,
                    customers_own[key],
                    at[key],
                    message.text,
                    composed=posted.composed,
                    group_id=self._rules.topic_group(customer),
                )
            if card and posted.header_id is not None:
                await tx.customers.set_card(
                    customer.id, posted.header_id, posted.body, posted.in_caption, posted_at
                )

        return Outcome(write=write)

    def _words_refused(
        self, item: OutboxItem, customer: Customer, words: PostWords, error: DeliveryFailed
    ) -> Outcome:
        """Refused even after the desk's fallbacks: the operators see what and why."""
        self._metrics.delivery_failed(error.reason.value)
        log.warning("a customer's message could not be shown in the topic: %s", error.reason)
        texts = " ".join(m.text or f"[{m.kind.value}]" for m in words.messages)
        html = notes.not_shown(error, quote(texts, limit=200))
        note = Planned(
            PostNote(customer.id, html),
            self._rules.topic_destination(customer),
            item.lane,
            customer.id,
        )
        return Outcome(finish="failed", follow=[note], error=str(error))

    async def _post_note(self, item: OutboxItem, note: PostNote) -> Outcome:
        if note.customer_id is None:
            if note.topic_id is None:
                return Outcome(finish="dropped")
            try:
                await self._desk.post_note(note.topic_id, note.html, note.reply_to_group)
            except (TopicMissing, DeliveryFailed) as error:
                log.info("a note in topic %s not posted: %s", note.topic_id, error)
                return Outcome(finish="failed", error=str(error))
            return Outcome()
        customer = await self._customer(note.customer_id)
        if customer is None:
            return Outcome(finish="dropped")
        if customer.topic_id is None:
            return await self._open_topic(customer)
        try:
            if customer.card_message_id is None:
                return await self._card_with_note(customer, note)
            reply_to = note.reply_to_group
            if reply_to is None and note.reply_to_customer_message:
                async with self._uow() as tx:
                    reply_to = await tx.links.group_message_for(
                        customer.id, note.reply_to_customer_message, *self._groups_of(customer)
                    )
            await self._desk.post_note(
                customer.topic_id, note.html, reply_to, note.buttons, note.buttons_in_column
            )
        except TopicMissing:
            return self._topic_gone(customer)
        except DeliveryFailed as error:
            self._metrics.delivery_failed(error.reason.value)
            log.warning("a note could not be posted in topic %s: %s", customer.topic_id, error)
            return Outcome(finish="failed", error=str(error))
        return Outcome(follow=self._former_topic_closes(customer, note))

    async def _close_former_topic(self, close: CloseFormerTopic) -> Outcome:
        try:
            await self._desk.close_topic(close.topic_id)
        except TopicMissing:
            return Outcome(finish="dropped")
        except DeliveryFailed as error:
            return Outcome(finish="failed", error=str(error))
        return Outcome()

    async def _edit_copy(self, item: OutboxItem, edit: EditCopy) -> Outcome:
        customer = await self._customer(edit.customer_id)
        if customer is None or customer.topic_id is None:
            return Outcome(finish="dropped")
        async with self._uow() as tx:
            link = await tx.links.for_customer_message(
                customer.id, edit.customer_message_id, *self._groups_of(customer)
            )
            elsewhere = link is None and await tx.links.for_customer_message(
                customer.id, edit.customer_message_id
            )
        if elsewhere:  # shown in a group the customer was transferred from: say it here
            html = notes.customer_edit(edit.message.text or "")
            try:
                await self._desk.post_note(customer.topic_id, html)
            except TopicMissing:
                return Outcome(finish="dropped")
            except DeliveryFailed as error:
                return Outcome(finish="failed", error=str(error))
            return Outcome()
        if link is None:
            return Outcome(finish="dropped")
        try:
            if not link.composed and await self._desk.apply_edit(
                link.group_message_id, edit.message
            ):
                return Outcome()
            await self._desk.post_note(
                customer.topic_id,
                notes.customer_edit(edit.message.text or ""),
                reply_to=link.group_message_id,
            )
        except TopicMissing:
            return Outcome(finish="dropped")  # the copy went with the topic
        except DeliveryFailed as error:
            return Outcome(finish="failed", error=str(error))
        return Outcome()

    async def _set_topic_open(self, change: SetTopicOpen) -> Outcome:
        customer = await self._customer(change.customer_id)
        if customer is None or customer.topic_id is None:
            return Outcome(finish="dropped")
        if customer.topic_closed == (not change.open):
            return Outcome()  # already so: nothing to spend
        try:
            if change.open:
                await self._desk.reopen_topic(customer.topic_id)
            else:
                await self._desk.close_topic(customer.topic_id)
        except TopicMissing:
            return Outcome(finish="dropped")
        except DeliveryFailed as error:
            return Outcome(finish="failed", error=str(error))

        async def write(tx: UnitOfWork) -> None:
            await tx.customers.set_topic_shown(customer.id, closed=not change.open)

        return Outcome(write=write)

    async def _refresh_card(self, refresh: RefreshCard) -> Outcome:
        customer = await self._customer(refresh.customer_id)
        if customer is None or customer.card_message_id is None:
            return Outcome(finish="dropped")
        card = await self._customer_card(customer)
        await self._desk.update_card(
            customer.card_message_id, card, customer.card_body, customer.card_in_caption
        )
        return Outcome()

    async def _show_topic_state(self, show: ShowTopicState) -> Outcome:
        customer = await self._customer(show.customer_id)
        if customer is None or customer.topic_id is None:
            return Outcome(finish="dropped")
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(customer.id)
        name = topic_name_for(customer, conversation)
        if name == customer.topic_name:
            return Outcome(finish="dropped")  # shows it already
        try:
            await self._desk.rename_topic(customer.topic_id, name)
        except TopicMissing:
            return Outcome(finish="dropped")
        except DeliveryFailed as error:
            return Outcome(finish="failed", error=str(error))

        async def write(tx: UnitOfWork) -> None:
            await tx.customers.set_topic_shown(customer.id, name=name)

        return Outcome(write=write)

    async def _mark(self, mark: MarkMessage) -> Outcome:
        async with self._uow() as tx:
            conversation = await tx.conversations.latest(mark.customer_id)
        if conversation is not None and not conversation.is_open:
            return Outcome(finish="dropped")  # closed since: the close says more
        await self._desk.mark(mark.group_message_id, mark.mark)
        return Outcome()

    # ----- operators → customer -----------------------------------------------------------

    def _channel(self, customer: Customer) -> CustomerChannel | None:
        return self._channels.get(customer.platform)

    def _note_under(
        self, item: OutboxItem, customer: Customer, html: str, reply_to: int | None
    ) -> Planned:
        return Planned(
            PostNote(customer.id, html, reply_to),
            self._rules.topic_destination(customer),
            item.lane,
            customer.id,
        )

    async def _deliver_words(self, item: OutboxItem, words: DeliverWords) -> Outcome:
        customer = await self._customer(words.customer_id)
        if customer is None:
            return Outcome(finish="dropped")
        first = int(words.messages[0].ref.message_id)
        channel = self._channel(customer)
        if channel is None:
            note = self._note_under(item, customer, notes.channel_missing(customer.platform), first)
            return Outcome(finish="failed", follow=[note])
        reply = None
        if words.reply_to_group is not None:
            async with self._uow() as tx:
                link = await tx.links.by_group_message(words.reply_to_group, customer.id)
            if link is not None and link.customer_id == customer.id:
                reply = Reply(link.customer_message_id, link.snippet)
        try:
            sent = await channel.deliver(customer, words.messages, reply)
        except DeliveryFailed as error:
            if error.reason in HELD_REFUSALS:
                return self._held_for_later(item, customer, words, error)
            return self._not_delivered(item, customer, error, first)
        self._metrics.relayed(customer.platform, "to_customer", len(words.messages))
        log.info("%d message(s) delivered to customer %s", len(words.messages), customer.id)
        if isinstance(channel, MarksRead):
            await self._mark_read(channel, customer)
        if words.first_reply_after is not None:
            self._metrics.first_response(words.first_reply_after)
        mark = DeliveryMark.SENT if channel.receipts else DeliveryMark.DELIVERED
        lane = item.lane
        follow = [
            Planned(
                MarkMessage(customer.id, int(m.ref.message_id), mark),
                self._rules.topic_destination(customer),
                lane,
                customer.id,
            )
            for m in words.messages[-1:]
        ]
        if words.warn_paid and channel.free_window is not None:
            hours = int(channel.free_window.total_seconds() // 3600)
            html = notes.outside_free_window(customer.platform, hours, held=False)
            follow.append(self._note_under(item, customer, html, first))

        async def write(tx: UnitOfWork) -> None:
            for message, customer_message_id in zip(words.messages, sent, strict=False):
                await tx.links.add(
                    customer.id,
                    words.conversation_id,
                    customer_message_id,
                    int(message.ref.message_id),
                    False,
                    words.at,
                    message.text,
                    words.operator,
                    composed=message.composed,
                    group_id=self._rules.topic_group(customer),
                )
            await tx.notices.solved(_account_notice(customer))  # sending works again

        return Outcome(write=write, follow=follow)

    async def _mark_read(self, channel: MarksRead, customer: Customer) -> None:
        """Answered: the customer sees their messages read, where the account lets the bot
        read them. A refusal here is not worth failing the answer that went."""
        connection = connection_of(customer)
        async with self._uow() as tx:
            account = await tx.business.get(connection) if connection else None
            latest = await tx.links.latest_from_customer(customer.id)
        if latest is None or (connection is not None and (account is None or not account.can_read)):
            return
        try:
            await channel.mark_read(customer, latest)
        except (DeliveryFailed, RetryLater) as error:
            log.info("customer %s's messages not marked read: %s", customer.id, error)

    def _held_for_later(
        self, item: OutboxItem, customer: Customer, words: DeliverWords, error: DeliveryFailed
    ) -> Outcome:
        """The company's account stops messages (Viber 23, 24, a Telegram Business connection
        turned off) or Telegram Business's 24 hours have passed: the message is kept with a
        Send again button under it; the team is told once, in General, of account problems."""
        self._metrics.delivery_failed(error.reason.value)
        log.warning("%s refuses messages: %s", customer.platform.display_name, error.reason)
        first = int(words.messages[0].ref.message_id)

        async def write(tx: UnitOfWork) -> list[Planned]:
            payload = {"messages": [message_to_json(m) for m in words.messages]}
            held_id = await tx.held.hold(customer.id, customer.topic_id or 0, payload, words.at)
            button = CardButton("📨 Send again", f"{HELD_ACTION}{held_id}")
            html = notes.held_for_account(error, customer.platform)
            note = PostNote(customer.id, html, first, buttons=(button,))
            planned = [
                Planned(note, self._rules.topic_destination(customer), item.lane, customer.id)
            ]
            account = error.reason in ACCOUNT_PROBLEMS
            if account and await tx.notices.show_once(_account_notice(customer), words.at):
                general = PostGeneral(notes.account_problem(error, customer.platform))
                planned.append(Planned(general, self._rules.desk, GENERAL_LANE))
            return planned

        return Outcome(finish="failed", write=write, error=str(error))

    def _not_delivered(
        self, item: OutboxItem, customer: Customer, error: DeliveryFailed, reply_to: int | None
    ) -> Outcome:
        """Refused for good: the reason goes under the operator's message."""
        self._metrics.delivery_failed(error.reason.value)
        log.info("not delivered to customer %s: %s", customer.id, error.reason)
        note = self._note_under(
            item, customer, notes.not_delivered(error, customer.platform), reply_to
        )
        write = None
        if error.reason in UNREACHABLE:

            async def write(tx: UnitOfWork) -> None:
                await tx.customers.set_unreachable(customer.id, error.reason.value)

        return Outcome(finish="failed", write=write, follow=[note], error=str(error))

    async def _send_screen(self, item: OutboxItem, send: SendScreen) -> Outcome:
        customer = await self._customer(send.customer_id)
        channel = self._channel(customer) if customer else None
        if customer is None or channel is None:
            return Outcome(finish="dropped")
        try:
            await channel.send_screen(customer, send.screen, send.in_place_of)
        except DeliveryFailed as error:
            log.info("the bot's text to customer %s not delivered: %s", customer.id, error.reason)
            if not send.failure_note:
                return Outcome(finish="failed", error=str(error))
            return self._not_delivered(item, customer, error, None)
        return Outcome()

    async def _edit_delivered(self, item: OutboxItem, edit: EditDelivered) -> Outcome:
        customer = await self._customer(edit.customer_id)
        channel = self._channel(customer) if customer else None
        if customer is None or channel is None:
            return Outcome(finish="dropped")
        async with self._uow() as tx:
            link = await tx.links.by_group_message(edit.group_message_id, customer.id)
        if link is None or link.customer_id != customer.id or link.composed:
            # composed: a saved reply sent for a command; editing the command changes nothing
            return Outcome(finish="dropped")
        target = link.customer_message_id
        try:
            if await channel.apply_edit(customer, target, edit.message):
                return Outcome()
            correction = self._rules.texts.get("correction", customer.language)
            await channel.send_text(customer, f"{correction} {edit.message.text or ''}", target)
        except DeliveryFailed as error:
            return self._not_delivered(item, customer, error, edit.group_message_id)
        return Outcome()

    async def _answer(self, answer: AnswerButton) -> Outcome:
        try:
            await self._answers.answer(answer.callback_id, answer.text)
        except DeliveryFailed as error:  # too late to answer: the press is long forgotten
            return Outcome(finish="dropped", error=str(error))
        return Outcome()


def _account_notice(customer: Customer) -> str:
    return f"account:{customer.platform.value}"
