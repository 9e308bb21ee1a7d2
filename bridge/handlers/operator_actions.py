"""Operators' commands in a topic and the card's buttons: close, reopen, ban, in progress, FAQ.

A typed command is its own trace in the topic, so only a button press gets a note saying who
did it (a close or reopen costs the group one operation less). The answer to the one who
acted goes back as the button's acknowledgement, or under a command that could not be done.
"""

from __future__ import annotations

from dataclasses import replace

from bridge import notes
from bridge.commands import CardAction, OperatorActed, OperatorSeen, OperatorSentFaq
from bridge.deliveries import PostNote, RefreshCard, SendScreen, SetTopicOpen
from bridge.errors import DeliveryFailed, FailureReason
from bridge.handlers.context import Context
from bridge.handlers.conversations import show_state
from bridge.handlers.operators import answered
from bridge.handlers.ownership import assign, release, take
from bridge.model import Customer, Operator, TopicState
from bridge.screens import Screen

NOT_A_CUSTOMER = "This topic does not belong to a customer."


OWNERSHIP = (CardAction.TAKE, CardAction.ASSIGN, CardAction.RELEASE)


async def operator_acted(command: OperatorActed, ctx: Context) -> None:
    await ctx.tx.operators.seen(command.operator, ctx.now)
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None:
        _tell(ctx, command, None, NOT_A_CUSTOMER)
        return
    action, operator = command.action, command.operator
    by_button = command.callback_id is not None
    if action in OWNERSHIP:
        await _ownership(ctx, command, customer)
        return
    if action in (CardAction.BAN, CardAction.UNBAN):
        answer = await _set_banned(ctx, customer, action is CardAction.BAN, operator)
    elif action is CardAction.CLOSE:
        answer = await _close(ctx, customer, operator, by_button)
    elif action is CardAction.REOPEN:
        answer = await _reopen(ctx, customer, operator, by_button)
    else:
        answer = await _in_progress(ctx, customer, operator, command.minutes)
    _tell(ctx, command, customer, answer)


async def _ownership(ctx: Context, command: OperatorActed, customer: Customer) -> None:
    """The card shows the new owner; a typed command is answered under it when it could not
    be done, and an assignment names the new owner, so Telegram notifies them."""
    if command.action is CardAction.TAKE:
        answer, done = await take(ctx, customer, command.operator)
    elif command.action is CardAction.RELEASE:
        answer, done = await release(ctx, customer)
    else:
        answer, done = await assign(
            ctx, customer, command.operator, command.assignee, command.assignee_username
        )
    if command.callback_id is not None:
        ctx.answer(command.callback_id, answer)
    elif not done or command.action is CardAction.ASSIGN:
        ctx.to_topic(customer, PostNote(customer.id, answer, command.command_message_id))


async def operator_seen(command: OperatorSeen, ctx: Context) -> None:
    """Someone wrote in the group outside a customer's topic: remember them."""
    await ctx.tx.operators.seen(command.operator, ctx.now)


def _tell(ctx: Context, command: OperatorActed, customer: Customer | None, answer: str) -> None:
    """A button's press is answered to its presser; a command only when it has no customer."""
    if command.callback_id is not None:
        ctx.answer(command.callback_id, answer)
    elif customer is None:
        note = PostNote(None, answer, command.command_message_id, topic_id=command.topic_id)
        ctx.to_lane(f"topic:{command.topic_id}", note, command.group_id)


async def _close(ctx: Context, customer: Customer, operator: Operator, noted: bool) -> str:
    tx = ctx.tx
    conversation = await tx.conversations.latest(customer.id)
    if conversation is None or not conversation.is_open:
        return "The conversation is already closed."
    closed = replace(conversation, closed_at=ctx.now, state=TopicState.CLOSED)
    await tx.conversations.save(closed)
    if noted:
        ctx.to_topic(customer, PostNote(customer.id, notes.closed(operator.name)))
    ctx.to_topic(customer, SetTopicOpen(customer.id, False))
    show_state(ctx, customer)
    if customer.platform in ctx.rules.channels:
        language = ctx.texts.language_for(customer.language)
        screens = ctx.rules.screens
        if ctx.rules.ratings:
            screen = screens.rating(closed.id, language)
        else:
            screen = screens.text("closed", language)
        ctx.to_customer(customer, SendScreen(customer.id, screen))
    return "Conversation closed."


async def _reopen(ctx: Context, customer: Customer, operator: Operator, noted: bool) -> str:
    tx = ctx.tx
    conversation = await tx.conversations.latest(customer.id)
    if conversation is None or conversation.is_open:
        return "The conversation is already open."
    reopened = replace(conversation, closed_at=None, state=conversation.open_state)
    await tx.conversations.save(reopened)
    ctx.to_topic(customer, SetTopicOpen(customer.id, True))
    show_state(ctx, customer)
    if noted:
        ctx.to_topic(customer, PostNote(customer.id, notes.reopened(operator.name)))
    return "Conversation reopened."


async def _set_banned(ctx: Context, customer: Customer, banned: bool, operator: Operator) -> str:
    if customer.banned == banned:
        return "The customer is already banned." if banned else "The customer is not banned."
    await ctx.tx.customers.set_banned(customer.id, banned)
    ctx.to_topic(customer, RefreshCard(customer.id))
    note = notes.banned(operator.name) if banned else notes.unbanned(operator.name)
    ctx.to_topic(customer, PostNote(customer.id, note))
    return "Customer banned." if banned else "Customer unbanned."


async def _in_progress(
    ctx: Context, customer: Customer, operator: Operator, minutes: int | None
) -> str:
    """/wait [minutes]: tell the customer their question is being looked into."""
    if customer.platform not in ctx.rules.channels:
        ctx.to_topic(customer, PostNote(customer.id, notes.channel_missing(customer.platform)))
        return "Not delivered; see the note in the topic."
    if customer.unreachable:
        failure = DeliveryFailed(FailureReason(customer.unreachable))
        note = notes.not_delivered(failure, customer.platform)
        ctx.to_topic(customer, PostNote(customer.id, note))
        return "Not delivered; see the note in the topic."
    texts = ctx.texts
    if minutes is None:
        text = texts.get("in_progress_default", customer.language)
    else:
        text = texts.get("in_progress_minutes", customer.language, minutes=minutes)
    ctx.to_customer(customer, SendScreen(customer.id, Screen(text), failure_note=True))
    expected = f"~{minutes} min" if minutes else "20–30 min"
    ctx.to_topic(customer, PostNote(customer.id, notes.in_progress(operator.name, expected)))
    return "The customer was told."


async def operator_sent_faq(command: OperatorSentFaq, ctx: Context) -> None:
    """An operator picked an FAQ entry: it goes to the customer in their language, and counts
    as an answer."""
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    entry = ctx.rules.faq.catalog.entry(command.category_id, command.entry_id)
    if customer is None or customer.platform not in ctx.rules.channels or entry is None:
        ctx.answer(command.callback_id, NOT_A_CUSTOMER if entry else "Unknown FAQ entry.")
        return
    language = ctx.texts.language_for(customer.language)
    screen = ctx.rules.screens.answer(entry, language, feedback=False)
    ctx.to_customer(customer, SendScreen(customer.id, screen, failure_note=True))
    await ctx.tx.operators.seen(command.operator, ctx.now)
    conversation = await ctx.tx.conversations.latest(customer.id)
    if conversation is not None and conversation.is_open:
        await answered(ctx, customer, conversation, command.operator)
    question = entry.question.get("uk")
    ctx.to_topic(customer, PostNote(customer.id, notes.faq_sent(command.operator.name, question)))
    ctx.answer(command.callback_id, "Sent.")
