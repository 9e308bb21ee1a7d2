"""Who owns a conversation: the operator who takes it (`/take`, 🙋 on the card), is assigned
it (`/assign`), or answers it first while nobody owns it; `/release` frees it.

Each change redraws the card once (it shows the owner): one group operation, no more. The
owner's id and name live on the conversation and stay after closing (for `/stats`).
"""

from __future__ import annotations

from html import escape

from bridge import notes
from bridge.deliveries import RefreshCard
from bridge.handlers.context import Context
from bridge.model import Conversation, Customer, Operator

NO_OPEN = "There is no open conversation here."


async def _give(
    ctx: Context, customer: Customer, conversation: Conversation, owner: Operator | None
) -> bool:
    if not await ctx.tx.conversations.set_owner(conversation.id, owner):
        return False
    ctx.to_topic(customer, RefreshCard(customer.id))
    return True


async def _open(ctx: Context, customer: Customer) -> Conversation | None:
    conversation = await ctx.tx.conversations.latest(customer.id)
    return conversation if conversation is not None and conversation.is_open else None


async def take(ctx: Context, customer: Customer, operator: Operator) -> tuple[str, bool]:
    """The operator takes the open conversation (from its owner, if someone else has it)."""
    conversation = await _open(ctx, customer)
    if conversation is None:
        return NO_OPEN, False
    if not operator.is_person:
        return "An anonymous admin cannot own a conversation.", False
    if conversation.owner_id == operator.id:
        return "You already own this conversation.", False
    await _give(ctx, customer, conversation, operator)
    return "You own this conversation now.", True


async def assign(
    ctx: Context,
    customer: Customer,
    operator: Operator,
    assignee: Operator | None,
    username: str | None,
) -> tuple[str, bool]:
    """Hand the open conversation to another operator, named by a reply or an @username."""
    if assignee is None and username:
        assignee = await ctx.tx.operators.by_username(username)
        if assignee is None:
            return notes.unknown_operator(username.removeprefix("@")), False
    if assignee is None or not assignee.is_person:
        return notes.ASSIGN_USAGE, False
    conversation = await _open(ctx, customer)
    if conversation is None:
        return NO_OPEN, False
    if conversation.owner_id == assignee.id:
        return f"{escape(assignee.name)} already owns this conversation.", False
    await ctx.tx.operators.seen(assignee, ctx.now)
    await _give(ctx, customer, conversation, assignee)
    return notes.assigned(operator.name, assignee.id, assignee.name), True


async def release(ctx: Context, customer: Customer) -> tuple[str, bool]:
    conversation = await _open(ctx, customer)
    if conversation is None:
        return NO_OPEN, False
    if conversation.owner_id is None:
        return "Nobody owns this conversation.", False
    await _give(ctx, customer, conversation, None)
    return "The conversation is free to take.", True


async def take_on_answer(
    ctx: Context, customer: Customer, conversation: Conversation, operator: Operator
) -> None:
    """The first operator who answers a conversation nobody owns owns it."""
    if conversation.owner_id is None and operator.is_person:
        await _give(ctx, customer, conversation, operator)
