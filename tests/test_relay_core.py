"""Core relay rules: commands through the handlers, deliveries through the delivery service,
fakes of the desk, the channel and the clock at the edge; storage is real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.commands import (
    CardAction,
    CustomerReachability,
    CustomerWrote,
    DeliveryReported,
    OperatorActed,
    OperatorReleasedHeld,
)
from bridge.errors import DeliveryFailed, FailureReason
from bridge.handlers import handle
from bridge.handlers.context import Context
from bridge.handlers.operators import HELD_ACTION
from bridge.model import CustomerProfile, DeliveryMark, Operator, Platform, TopicState
from bridge.texts import Texts
from bridge.topic_names import STATE_MARKERS
from tests.core_world import World, core_world

OLENA = CustomerProfile(
    Platform.TELEGRAM, "501", "Olena Kovalenko", "olena", "uk", "tg://user?id=501"
)
OPERATOR = Operator(7, "Iryna")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with core_world(tmp_path / "core.db") as world:
        yield world


def act(topic_id: int, action: CardAction, button: str | None = None) -> OperatorActed:
    return OperatorActed(topic_id, OPERATOR, action, callback_id=button)


async def test_first_message_opens_a_topic_with_the_card_on_its_post(world: World) -> None:
    await world.customer_says(OLENA, "Hello")
    topic_id = world.only_topic()
    topic = world.desk.topics[topic_id]
    assert topic.name == f"{STATE_MARKERS[TopicState.NEW]} Olena Kovalenko"
    kinds = [kind for kind, _ in topic.posts]
    assert kinds == ["card", "relay"]  # one post: the card above the words
    card = str(topic.posts[0][1])
    assert "Olena Kovalenko" in card and "@olena" in card
    assert "Earlier conversations: 0" in card


async def test_two_quick_first_messages_make_one_topic(world: World) -> None:
    await asyncio.gather(
        world.decisions.run(lambda ctx: _wrote(ctx, world, "one")),
        world.decisions.run(lambda ctx: _wrote(ctx, world, "two")),
    )
    await world.settled()
    topic_id = world.only_topic()
    relayed = [body for kind, body in world.desk.topics[topic_id].posts if kind == "relay"]
    assert [text for text, _ in relayed] == ["one", "two"]  # type: ignore[misc]


async def _wrote(ctx: Context, world: World, text: str) -> None:
    await handle(CustomerWrote(OLENA, world.customer_text(text)), ctx)


async def test_operator_reply_reaches_customer_and_marks_topic_answered(world: World) -> None:
    await world.customer_says(OLENA, "Where is my policy?")
    topic_id = world.only_topic()
    await world.operator_says(topic_id, OPERATOR, "Sent today", 900)
    assert world.channel.sent == [("501", "Sent today", None)]
    assert world.desk.delivered == [900]
    assert world.desk.topics[topic_id].name.startswith(STATE_MARKERS[TopicState.ANSWERED])
    # the customer writes again: the topic shows they wait
    await world.customer_says(OLENA, "Thanks, and?")
    assert world.desk.topics[topic_id].name.startswith(STATE_MARKERS[TopicState.WAITING])


async def test_replies_map_both_ways(world: World) -> None:
    await world.customer_says(OLENA, "first")  # customer id "1"
    topic_id = world.only_topic()
    shown_in = world.desk._next_id  # the post that shows "first" in the topic
    await world.operator_says(topic_id, OPERATOR, "answer", 901, reply_to=shown_in)
    assert world.channel.sent[-1] == ("501", "answer", "1")  # a reply to the original
    delivered_as = world.channel.last_id  # the operator's message in the customer's chat
    await world.customer_says(OLENA, "follow-up", reply_to=delivered_as)
    assert world.desk.topics[topic_id].posts[-1] == ("relay", ("follow-up", 901))


async def test_internal_note_is_never_sent(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    await world.operator_says(world.only_topic(), OPERATOR, "! check the claim first", 902)
    assert world.channel.sent == []


async def test_failed_delivery_is_explained_in_the_topic(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    world.channel.refuse = DeliveryFailed(FailureReason.BLOCKED, "Forbidden: bot was blocked")
    await world.operator_says(topic_id, OPERATOR, "hello?", 903)
    assert "blocked the bot" in world.desk.notes(topic_id)[-1]
    assert world.desk.delivered == []


async def test_close_then_next_message_reopens_with_a_new_conversation(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    await world.do(act(topic_id, CardAction.CLOSE, button="q1"))
    assert world.answers.given["q1"] == "Conversation closed."
    topic = world.desk.topics[topic_id]
    assert topic.closed and topic.name.startswith(STATE_MARKERS[TopicState.CLOSED])
    assert world.channel.sent[-1][1] == Texts.shipped("uk").get("closed", "uk")
    await world.do(act(topic_id, CardAction.CLOSE, button="q2"))
    assert world.answers.given["q2"] == "The conversation is already closed."
    world.clock.advance(hours=1)
    await world.customer_says(OLENA, "one more question")
    assert not topic.closed
    assert world.only_topic() == topic_id
    assert "Conversation #2" in world.desk.notes(topic_id)[-1]  # above the new words
    assert topic.posts[-1] == ("relay", ("one more question", None))
    assert topic.name.startswith(STATE_MARKERS[TopicState.NEW])


async def test_a_typed_close_adds_no_note_a_button_does(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    await world.do(act(topic_id, CardAction.CLOSE))
    assert not any("closed by" in note for note in world.desk.notes(topic_id))
    await world.do(act(topic_id, CardAction.REOPEN, button="q"))
    assert "reopened by Iryna" in world.desk.notes(topic_id)[-1]


async def test_ban_stops_relaying_silently_and_unban_restores(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    await world.do(act(topic_id, CardAction.BAN))
    card = next(iter(world.desk.cards.values()))
    assert "Banned" in card.html
    posts_before = len(world.desk.topics[topic_id].posts)
    await world.customer_says(OLENA, "spam")
    assert len(world.desk.topics[topic_id].posts) == posts_before
    assert world.channel.sent == []  # the customer is not told
    await world.do(act(topic_id, CardAction.UNBAN))
    await world.customer_says(OLENA, "sorry")
    assert world.desk.topics[topic_id].posts[-1] == ("relay", ("sorry", None))


async def test_deleted_topic_is_replaced_and_the_message_still_arrives(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    old = world.only_topic()
    world.desk.topics[old].deleted = True
    await world.customer_says(OLENA, "still there?")
    new = [t for t, topic in world.desk.topics.items() if not topic.deleted]
    assert len(new) == 1 and new[0] != old
    posts = world.desk.topics[new[0]].posts
    assert posts[0][0] == "card" and posts[-1] == ("relay", ("still there?", None))


async def test_hostile_name_is_escaped_and_cleaned(world: World) -> None:
    hostile = CustomerProfile(
        Platform.TELEGRAM, "666", '<a href="https://evil">Admin</a>\u202e\n', None, "en"
    )
    await world.customer_says(hostile, "hi")
    topic = world.desk.topics[world.only_topic()]
    card_html = str(topic.posts[0][1])
    assert '<a href="https://evil">' not in card_html
    assert "&lt;a href=&quot;https://evil&quot;&gt;" in card_html
    assert "\u202e" not in topic.name and "\n" not in topic.name


async def test_unreachable_customer_is_refused_at_once_and_shown_when_back(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    gone = CustomerReachability(Platform.TELEGRAM, "501", FailureReason.NOT_SUBSCRIBED)
    await world.do(gone)
    assert "unsubscribed" in world.desk.notes(topic_id)[-1]
    await world.operator_says(topic_id, OPERATOR, "hello?", 910)
    assert world.channel.sent == []
    assert "not subscribed" in world.desk.notes(topic_id)[-1]
    await world.customer_says(OLENA, "I'm back")
    assert "is back" in " ".join(world.desk.notes(topic_id))
    await world.operator_says(topic_id, OPERATOR, "welcome", 911)
    assert world.channel.sent[-1][1] == "welcome"


async def test_a_block_found_on_sending_is_remembered(world: World) -> None:
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    world.channel.refuse = DeliveryFailed(FailureReason.BLOCKED, "Forbidden: bot was blocked")
    await world.operator_says(topic_id, OPERATOR, "one", 912)
    world.channel.refuse = None
    await world.operator_says(topic_id, OPERATOR, "two", 913)
    assert world.channel.sent == []  # refused at once, without asking the platform again
    assert "blocked the bot" in world.desk.notes(topic_id)[-1]


async def test_receipts_mark_the_operator_message(world: World) -> None:
    world.channel.receipts = True
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    await world.operator_says(topic_id, OPERATOR, "answer", 914)
    assert world.desk.marks == [(914, DeliveryMark.SENT)]
    token = world.channel.last_id
    for mark in (DeliveryMark.DELIVERED, DeliveryMark.SEEN):
        await world.do(DeliveryReported(Platform.TELEGRAM, "501", token, mark))
    assert world.desk.marks[1:] == [(914, DeliveryMark.DELIVERED), (914, DeliveryMark.SEEN)]
    await world.do(DeliveryReported(Platform.TELEGRAM, "501", token, None, "no device"))
    assert "no device" in world.desk.notes(topic_id)[-1]
    await world.do(DeliveryReported(Platform.TELEGRAM, "501", "unknown", DeliveryMark.SEEN))
    assert len(world.desk.marks) == 3


@pytest.mark.parametrize("hold", [False, True])
async def test_messages_outside_the_free_window_warn_or_wait_for_confirmation(
    tmp_path: Path, hold: bool
) -> None:
    async with core_world(tmp_path / "window.db", hold_outside_window=hold) as world:
        await _outside_the_window(world, hold)


async def _outside_the_window(world: World, hold: bool) -> None:
    world.channel.free_window = timedelta(hours=24)
    rules = world.decisions.rules
    world.decisions.rules = replace(rules, channels={Platform.TELEGRAM: timedelta(hours=24)})
    await world.customer_says(OLENA, "hi")
    topic_id = world.only_topic()
    await world.operator_says(topic_id, OPERATOR, "quick", 920)
    assert world.channel.sent[-1][1] == "quick"
    assert not any("paid" in note for note in world.desk.notes(topic_id))

    world.clock.advance(hours=25)
    await world.operator_says(topic_id, OPERATOR, "late", 921)
    assert "paid" in world.desk.notes(topic_id)[-1]
    if not hold:
        assert world.channel.sent[-1][1] == "late"
        return
    assert world.channel.sent[-1][1] == "quick"
    action = world.desk.buttons[-1].action
    held_id = int(action.removeprefix(HELD_ACTION))
    await world.do(OperatorReleasedHeld(topic_id, OPERATOR, held_id, callback_id="a"))
    assert world.answers.given["a"] == "Sending."
    assert world.channel.sent[-1][1] == "late"
    await world.do(OperatorReleasedHeld(topic_id, OPERATOR, held_id, callback_id="b"))
    assert world.answers.given["b"] == "That message was already sent."
