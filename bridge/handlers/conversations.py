"""The piece every handler shares: a customer's open conversation and what their topic shows.

A customer's words open a conversation when none is open (in the same topic, with a note on
the first words when it is not their first), clear an unreachable mark, and reopen a closed
topic. What the topic's name shows is not decided here: `ShowTopicState` asks for it to match
the conversation when it is sent, so a burst of changes costs one rename at most.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bridge import notes
from bridge.deliveries import PostWords, SetTopicOpen, ShowTopicState, decode, encode
from bridge.handlers.context import Context
from bridge.lane_names import customer_lane
from bridge.model import (
    Conversation,
    Customer,
    CustomerProfile,
    IncomingMessage,
    TopicState,
)

MARGIN = timedelta(milliseconds=100)  # a held delivery this close to going is left alone
MOST_GATHERED = 10  # items of an album; texts under a new customer's card
LONGEST_GATHERING = 4  # times `gather`: a chatty customer's first post does not wait for ever


@dataclass(frozen=True)
class Opening:
    """A customer's message about to be relayed, and what it changes."""

    stored: Customer  # as the database had them
    customer: Customer  # as this message shows them
    conversation: Conversation  # with this message counted in
    shown_before: TopicState | None  # the state before this message
    is_new: bool  # a new conversation began
    number: int  # its ordinal (only counted for a new one that is not the first)
    came_back: bool  # the customer was unreachable until now


async def open_conversation(
    ctx: Context,
    profile: CustomerProfile,
    found: tuple[Customer, Conversation | None] | None,
    department: str | None = None,
) -> Opening | None:
    """Make sure the customer has an open conversation; None if they are banned. A new one
    goes to `department` (chosen with a button), else to that of the FAQ category the
    customer browsed last, else to the one they had, else to the default."""
    tx, now = ctx.tx, ctx.now
    if found is None:
        stored, previous = await tx.customers.upsert(profile, now), None
    else:
        stored, previous = found
    customer = stored.seen_as(profile, now)
    if customer.banned:
        await tx.customers.record_activity(stored, customer)
        return None
    is_new = previous is None or not previous.is_open
    conversation = previous
    if conversation is None or is_new:
        customer = await _route(ctx, customer, department)
        stored = replace(
            stored,
            department=customer.department,
            group_id=customer.group_id,
            topic_id=customer.topic_id,
            card_message_id=customer.card_message_id,
        )
        auto = ctx.rules.auto_for(customer)
        offline = auto is not None and auto.is_offline(now)
        conversation = await tx.conversations.start(customer.id, now, offline)
    conversation = replace(conversation, last_customer_message_at=now)
    conversation = replace(conversation, state=conversation.open_state)
    number = 1
    if is_new and previous is not None:
        number = await tx.conversations.count(customer.id)
    came_back = customer.unreachable is not None
    if came_back:
        await tx.customers.set_unreachable(customer.id, None)
        stored = replace(stored, unreachable=None)
        customer = replace(customer, unreachable=None)
    shown_before = previous.state if previous else None
    return Opening(stored, customer, conversation, shown_before, is_new, number, came_back)


async def _route(ctx: Context, customer: Customer, chosen: str | None) -> Customer:
    """The department a new conversation goes to; its topic is made in that department's
    group when the customer's topic is in another one."""
    departments = ctx.rules.departments
    if departments is None or not departments.several:
        return customer
    department = (
        departments.get(chosen)
        or departments.of_category(customer.last_category)
        or departments.get(customer.department)
        or departments.default
    )
    if department.id == customer.department and customer.group_id in (None, department.group):
        return customer
    moves = customer.topic_id is not None and customer.group_id != department.group
    await ctx.tx.customers.set_department(customer.id, department.id, department.group)
    if moves:
        await ctx.tx.customers.set_topic(customer.id, None, group_id=department.group)
        return replace(
            customer,
            department=department.id,
            group_id=department.group,
            topic_id=None,
            card_message_id=None,
        )
    return replace(customer, department=department.id, group_id=department.group)


def header_of(opening: Opening) -> str | None:
    """A note that goes with the first words of a conversation: which one, the return."""
    lines = []
    if opening.is_new and opening.number > 1:
        lines.append(notes.new_conversation(opening.number))
    if opening.came_back:
        lines.append(notes.customer_back())
    return "\n".join(lines) or None


def reopen_topic(ctx: Context, opening: Opening) -> None:
    """A new conversation in a closed topic: the topic opens again (before what follows)."""
    if opening.shown_before is TopicState.CLOSED:
        ctx.to_topic(opening.customer, SetTopicOpen(opening.customer.id, True))


async def book(ctx: Context, opening: Opening, conversation: Conversation) -> None:
    """Write the customer's activity and the conversation; show the topic's state."""
    await ctx.tx.customers.record_activity(opening.stored, opening.customer)
    await ctx.tx.conversations.save(conversation)
    if opening.shown_before is not conversation.state or opening.is_new:
        show_state(ctx, opening.customer)


async def words_to_topic(
    ctx: Context,
    customer: Customer,
    conversation: Conversation,
    message: IncomingMessage,
    header: str | None,
) -> None:
    """Plan a customer's message for their topic.

    An album's items, and the first messages of a customer whose card is not posted yet, wait
    `gather` for what follows and go as one delivery: an album stays one album, and a new
    customer's card and first words share one post.
    """
    gather = ctx.rules.gather
    first_post = customer.card_message_id is None
    album = message.album_id
    hold = None
    if album or first_post:
        hold = ctx.now + gather
        if await _join_held(ctx, customer, message, first_post):
            return
    ctx.to_topic(
        customer,
        PostWords(customer.id, conversation.id, (message,), ctx.now, header),
        hold_until=hold,
    )


async def _join_held(
    ctx: Context, customer: Customer, message: IncomingMessage, first_post: bool
) -> bool:
    lane = customer_lane(customer.platform, customer.external_id)
    destination = ctx.rules.topic_destination(customer)
    held = await ctx.tx.outbox.last_held(lane, destination, PostWords.kind, ctx.now + MARGIN)
    if held is None:
        return False
    words = decode(held.kind, dict(held.payload))
    assert isinstance(words, PostWords)
    albums = {m.album_id for m in words.messages}
    joins = albums == {message.album_id} if message.album_id else first_post and albums == {None}
    if not joins or len(words.messages) >= MOST_GATHERED:
        return False
    longest = held.created_at + ctx.rules.gather * LONGEST_GATHERING
    until = min(ctx.now + ctx.rules.gather, longest)
    grown = replace(words, messages=(*words.messages, message))
    changed = await ctx.tx.outbox.extend_held(held.id, encode(grown), until, ctx.now + MARGIN)
    if changed is None:
        return False
    ctx.changed.append(changed)
    return True


def show_state(ctx: Context, customer: Customer) -> None:
    """Ask for the topic's name to match the conversation (coalesced with earlier asks)."""
    ctx.to_topic(customer, ShowTopicState(customer.id))
