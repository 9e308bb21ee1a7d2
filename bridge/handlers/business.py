"""Telegram Business: connections coming and going, the owner answering by hand, and
customers deleting what they wrote."""

from __future__ import annotations

import logging
from dataclasses import replace

from bridge import notes
from bridge.commands import BusinessConnectionChanged, CustomerDeleted, OwnerWrote
from bridge.deliveries import PostGeneral, PostNote, PostWords
from bridge.handlers.context import Context
from bridge.handlers.operators import answered
from bridge.model import Operator

log = logging.getLogger(__name__)


async def business_connection_changed(command: BusinessConnectionChanged, ctx: Context) -> None:
    """Stored as Telegram reports it; the team hears of it in General once per change."""
    account = replace(command.account, updated_at=ctx.now)
    before = await ctx.tx.business.get(account.connection_id)
    await ctx.tx.business.save(account)
    line = notes.business_connection(account, before)
    if line is not None:
        ctx.to_general(PostGeneral(line))


async def owner_wrote(command: OwnerWrote, ctx: Context) -> None:
    """Shown in the customer's topic under the owner's name (it is already in the customer's
    chat: nothing goes back); it answers the open conversation, for nobody in particular."""
    profile = command.profile
    customer = await ctx.tx.customers.find(profile.platform, profile.external_id)
    conversation = await ctx.tx.conversations.latest(customer.id) if customer else None
    if customer is None or conversation is None:
        log.info("the business account's owner wrote in a chat the bridge has not seen")
        return
    header = notes.owner_wrote(command.owner.name)
    words = PostWords(
        customer.id, conversation.id, (command.message,), ctx.now, header, from_customer=False
    )
    ctx.to_topic(customer, words)
    if conversation.is_open:
        await answered(ctx, customer, conversation, Operator(0, command.owner.name))


async def customer_deleted(command: CustomerDeleted, ctx: Context) -> None:
    """A note under the first of the deleted messages the topic shows; the copies stay."""
    tx = ctx.tx
    customer = await tx.customers.find(command.platform, command.external_id)
    if customer is None or customer.banned:
        return
    shown = []
    for message_id in command.message_ids:
        group_id = await tx.links.group_message_for(
            customer.id, message_id, ctx.rules.topic_group(customer), ctx.rules.default_group
        )
        if group_id is not None:
            shown.append(group_id)
    if shown:
        note = PostNote(customer.id, notes.customer_deleted(len(shown)), reply_to_group=shown[0])
        ctx.to_topic(customer, note)
