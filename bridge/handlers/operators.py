"""What operators write in a customer's topic, and what goes back to the customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bridge import notes
from bridge.commands import OperatorEdited, OperatorReleasedHeld, OperatorWrote
from bridge.deliveries import DeliverWords, EditDelivered, PostNote, SetTopicOpen, decode, encode
from bridge.errors import DeliveryFailed, FailureReason
from bridge.handlers.context import Context, customer_destination
from bridge.handlers.conversations import MARGIN, MOST_GATHERED, show_state
from bridge.handlers.ownership import take_on_answer
from bridge.lane_names import customer_lane
from bridge.model import Conversation, Customer, IncomingMessage, Operator, TopicState
from bridge.ports import CardButton
from bridge.serialization import message_from_json, message_to_json

HELD_ACTION = "send_held:"


async def operator_wrote(command: OperatorWrote, ctx: Context) -> None:
    """Send an operator's message (an album: its items) to the customer of the topic."""
    message = command.message
    await ctx.tx.operators.seen(command.operator, ctx.now)
    if message.is_internal_note:
        return
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None:
        return
    await relay(ctx, customer, command.topic_id, message, command.operator)


async def relay(
    ctx: Context, customer: Customer, topic_id: int, message: IncomingMessage, operator: Operator
) -> None:
    """An operator's message (typed, or a saved reply) on its way to the customer: refused
    with a note when it cannot go, held when it would start a paid conversation (Viber)."""
    first = int(message.ref.message_id)
    if customer.platform not in ctx.rules.channels:
        ctx.to_topic(
            customer, PostNote(customer.id, notes.channel_missing(customer.platform), first)
        )
        return
    if customer.unreachable:
        failure = DeliveryFailed(FailureReason(customer.unreachable))
        ctx.to_topic(
            customer,
            PostNote(customer.id, notes.not_delivered(failure, customer.platform), first),
        )
        return
    window = ctx.rules.channels[customer.platform]
    outside = window is not None and (
        customer.last_seen_at is None or ctx.now - customer.last_seen_at > window
    )
    if outside and window is not None and ctx.rules.hold_outside_window:
        await _hold(ctx, customer, topic_id, message, window)
        return
    await deliver(ctx, customer, (message,), operator, warn_paid=outside)


async def deliver(
    ctx: Context,
    customer: Customer,
    messages: tuple[IncomingMessage, ...],
    operator: Operator,
    warn_paid: bool = False,
) -> None:
    """Plan the words for the customer and count the conversation answered."""
    tx, now = ctx.tx, ctx.now
    conversation = await tx.conversations.latest(customer.id)
    if conversation is None:
        conversation = await tx.conversations.start(customer.id, now)
    first_message = messages[0]
    reply_to = first_message.reply_to_message_id
    words = DeliverWords(
        customer.id,
        conversation.id,
        messages,
        operator,
        now,
        reply_to_group=int(reply_to) if reply_to and reply_to.isdigit() else None,
        warn_paid=warn_paid,
        first_reply_after=(
            (now - conversation.opened_at).total_seconds()
            if conversation.first_operator_reply_at is None
            else None
        ),
    )
    if not first_message.album_id or not await _join_album(ctx, customer, first_message):
        hold = now + ctx.rules.gather if first_message.album_id else None
        ctx.to_customer(customer, words, hold_until=hold)
    await answered(ctx, customer, conversation, operator)


async def answered(
    ctx: Context, customer: Customer, conversation: Conversation, by: Operator
) -> None:
    """An answer went (or is going) to the customer: the conversation shows it, and belongs
    to whoever answered when nobody owned it."""
    now = ctx.now
    await take_on_answer(ctx, customer, conversation, by)
    if not conversation.is_open:
        ctx.to_topic(customer, SetTopicOpen(customer.id, True))
    updated = replace(
        conversation,
        closed_at=None,
        state=TopicState.ANSWERED,
        first_operator_reply_at=conversation.first_operator_reply_at or now,
        last_operator_message_at=now,
        sla_alerted_at=None,  # answered: the ⏰ mark clears
    )
    await ctx.tx.conversations.save(updated)
    await ctx.tx.conversations.clear_sla_alert(conversation.id)
    if conversation.state is not TopicState.ANSWERED or conversation.sla_alerted_at is not None:
        show_state(ctx, customer)


async def _join_album(ctx: Context, customer: Customer, message: IncomingMessage) -> bool:
    """An album's next item joins its delivery while that still waits for more."""
    lane = customer_lane(customer.platform, customer.external_id)
    destination = customer_destination(customer)
    held = await ctx.tx.outbox.last_held(lane, destination, DeliverWords.kind, ctx.now + MARGIN)
    if held is None:
        return False
    words = decode(held.kind, dict(held.payload))
    assert isinstance(words, DeliverWords)
    if {m.album_id for m in words.messages} != {message.album_id}:
        return False
    if len(words.messages) >= MOST_GATHERED:
        return False
    grown = replace(words, messages=(*words.messages, message))
    until = min(ctx.now + ctx.rules.gather, held.created_at + ctx.rules.gather * 4)
    changed = await ctx.tx.outbox.extend_held(held.id, encode(grown), until, ctx.now + MARGIN)
    if changed is None:
        return False
    ctx.changed.append(changed)
    return True


async def _hold(
    ctx: Context,
    customer: Customer,
    topic_id: int,
    message: IncomingMessage,
    window: timedelta,
) -> None:
    """A paid message (outside the free window) waits for "Send anyway"."""
    held_id = await ctx.tx.held.hold(
        customer.id, topic_id, {"messages": [message_to_json(message)]}, ctx.now
    )
    hours = int(window.total_seconds() // 3600)
    button = CardButton("📨 Send anyway", f"{HELD_ACTION}{held_id}")
    ctx.to_topic(
        customer,
        PostNote(
            customer.id,
            notes.outside_free_window(customer.platform, hours, held=True),
            int(message.ref.message_id),
            buttons=(button,),
        ),
    )


async def operator_released_held(command: OperatorReleasedHeld, ctx: Context) -> None:
    """ "Send anyway" under a held message: send it now."""
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None or customer.platform not in ctx.rules.channels:
        ctx.answer(command.callback_id, "This topic does not belong to a customer.")
        return
    held = await ctx.tx.held.release(command.held_id)
    if held is None or held[0] != customer.id:
        ctx.answer(command.callback_id, "That message was already sent.")
        return
    messages = tuple(message_from_json(m) for m in held[2]["messages"])
    await deliver(ctx, customer, messages, command.operator)
    ctx.to_topic(customer, PostNote(customer.id, notes.held_released(command.operator.name)))
    ctx.answer(command.callback_id, "Sending.")


async def operator_edited(command: OperatorEdited, ctx: Context) -> None:
    """The customer's copy follows the edit, or a correction is sent."""
    message = command.message
    if message.is_internal_note:
        return
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None or customer.platform not in ctx.rules.channels:
        return
    group_id = int(message.ref.message_id)
    ctx.to_customer(customer, EditDelivered(customer.id, group_id, message))
