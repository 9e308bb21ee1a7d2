"""What customers do, and what their platforms report about them."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from bridge import notes
from bridge.commands import CustomerEdited, CustomerReachability, CustomerWrote, DeliveryReported
from bridge.deliveries import EditCopy, MarkMessage, PostNote, SendScreen
from bridge.handlers.context import Context
from bridge.handlers.conversations import (
    book,
    header_of,
    open_conversation,
    reopen_topic,
    words_to_topic,
)
from bridge.lane_names import PLATFORM_OF_LANE
from bridge.model import ContentKind, Conversation, Customer, IncomingMessage

log = logging.getLogger(__name__)

COMMENT_WINDOW = timedelta(minutes=15)  # a text this soon after rating is the rating's comment


async def customer_wrote(command: CustomerWrote, ctx: Context) -> None:
    """A customer's message goes to their topic; the bot may answer (hours, FAQ match)."""
    profile, message = command.profile, command.message
    tx = ctx.tx
    found = await tx.customers.find_with_latest(profile.platform, profile.external_id)
    rated = _awaiting_comment(ctx, found, message, ctx.now)
    if rated is not None:
        assert found is not None
        await _take_comment(ctx, found[0], rated, message.text or "")
        return
    opening = await open_conversation(ctx, profile, found)
    if opening is None:
        log.info("message from a banned customer not relayed")
        return
    customer, conversation = opening.customer, opening.conversation
    auto = ctx.rules.replies_for(customer)
    plan = None
    if auto is not None:
        plan = await auto.plan(tx, ctx.now, customer, conversation, [message], opening.is_new)
        conversation = plan.conversation
    reopen_topic(ctx, opening)
    await words_to_topic(ctx, customer, conversation, message, header_of(opening))
    await book(ctx, opening, conversation)
    if plan is None:
        return
    for note in plan.notes:
        ctx.to_topic(customer, PostNote(customer.id, note))
    if customer.platform in ctx.rules.channels:
        for screen in plan.screens:
            ctx.to_customer(customer, SendScreen(customer.id, screen))


def _awaiting_comment(
    ctx: Context,
    found: tuple[Customer, Conversation | None] | None,
    message: IncomingMessage,
    now: datetime,
) -> Conversation | None:
    """The just-rated conversation when this text is its comment, not a new question."""
    text = message.text if message.kind is ContentKind.TEXT else None
    if not ctx.rules.ratings or not text or found is None:
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


async def _take_comment(
    ctx: Context, customer: Customer, conversation: Conversation, text: str
) -> None:
    await ctx.tx.conversations.save(replace(conversation, rating_comment=text[:500]))
    ctx.to_topic(customer, PostNote(customer.id, notes.rating_comment(text)))
    if customer.platform in ctx.rules.channels:
        language = ctx.texts.language_for(customer.language)
        thanks = ctx.rules.screens.text("comment_thanks", language)
        ctx.to_customer(customer, SendScreen(customer.id, thanks))


async def customer_edited(command: CustomerEdited, ctx: Context) -> None:
    """The copy in the topic follows the edit (or a note shows it)."""
    customer = await ctx.tx.customers.upsert(command.profile, ctx.now)
    if customer.banned:
        return
    message = command.message
    ctx.to_topic(customer, EditCopy(customer.id, message.ref.message_id, message))


async def customer_reachability(command: CustomerReachability, ctx: Context) -> None:
    """A customer blocked or unsubscribed (`reason`), or came back (None): record and show."""
    tx = ctx.tx
    customer = await tx.customers.find(command.platform, command.external_id)
    reason = command.reason.value if command.reason else None
    if customer is None or customer.unreachable == reason:
        return
    await tx.customers.set_unreachable(customer.id, reason)
    if customer.topic_id is not None:
        note = notes.customer_gone(command.reason) if command.reason else notes.customer_back()
        ctx.to_topic(customer, PostNote(customer.id, note))


async def delivery_reported(command: DeliveryReported, ctx: Context) -> None:
    """The platform reports an operator's message delivered, seen, or failed."""
    tx = ctx.tx
    customer = await tx.customers.find(command.platform, command.external_id)
    if customer is None:
        return
    group_id = await tx.links.group_message_for(
        customer.id,
        command.customer_message_id,
        ctx.rules.topic_group(customer),
        ctx.rules.default_group,
    )
    if group_id is None:
        return
    if command.mark is not None:
        ctx.to_topic(customer, MarkMessage(customer.id, group_id, command.mark))
    else:
        note = notes.delivery_failed_later(command.failure or "")
        ctx.to_topic(customer, PostNote(customer.id, note, reply_to_group=group_id))


async def command_failed(ctx: Context, lane: str, why: str) -> None:
    """A command whose handler failed (a bug, not the database): the operators are told in the
    customer's topic, so the customer is not left waiting in silence."""
    kind, _, external_id = lane.partition(":")
    platform = PLATFORM_OF_LANE.get(kind)
    if platform is None:
        return
    customer = await ctx.tx.customers.find(platform, external_id)
    if customer is not None and customer.topic_id is not None:
        ctx.to_topic(customer, PostNote(customer.id, notes.lost(why)))
