"""Core relay rules with fakes of the desk, the channel and the clock; storage is real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import (
    ContentKind,
    CustomerProfile,
    DeliveryMark,
    IncomingMessage,
    MessageRef,
    Operator,
    Platform,
    TopicState,
)
from bridge.relay import HELD_ACTION, CardAction, Relay
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from bridge.texts import Texts
from bridge.topic_names import STATE_MARKERS
from tests.core_fakes import FakeChannel, FakeDesk, FixedClock

OLENA = CustomerProfile(
    Platform.TELEGRAM, "501", "Olena Kovalenko", "olena", "uk", "tg://user?id=501"
)
OPERATOR = Operator(7, "Iryna")


class World:
    def __init__(self, relay: Relay, desk: FakeDesk, channel: FakeChannel, clock: FixedClock):
        self.relay, self.desk, self.channel, self.clock = relay, desk, channel, clock
        self._ids = 0

    def customer_text(self, text: str, reply_to: str | None = None) -> IncomingMessage:
        self._ids += 1
        ref = MessageRef(Platform.TELEGRAM, "501", str(self._ids))
        return IncomingMessage(ref, ContentKind.TEXT, text, reply_to_message_id=reply_to)

    def operator_text(
        self, text: str, message_id: int, reply_to: int | None = None
    ) -> IncomingMessage:
        ref = MessageRef(Platform.TELEGRAM, "-100", str(message_id))
        reply = str(reply_to) if reply_to else None
        return IncomingMessage(ref, ContentKind.TEXT, text, reply_to_message_id=reply)

    def only_topic(self) -> int:
        assert len(self.desk.topics) == 1, self.desk.topics
        return next(iter(self.desk.topics))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'core.db'}")
    await migrate(engine)
    desk, channel, clock = FakeDesk(), FakeChannel(), FixedClock()
    relay = Relay(
        SqlUnitOfWorkFactory(make_sessions(engine)),
        desk,
        {Platform.TELEGRAM: channel},
        clock,
        Texts.shipped("uk"),
    )
    yield World(relay, desk, channel, clock)
    await engine.dispose()


async def test_first_message_opens_a_topic_with_a_card(world: World) -> None:
    assert await world.relay.customer_wrote(OLENA, [world.customer_text("Hello")])
    topic_id = world.only_topic()
    topic = world.desk.topics[topic_id]
    assert topic.name == f"{STATE_MARKERS[TopicState.NEW]} Olena Kovalenko"
    kinds = [kind for kind, _ in topic.posts]
    assert kinds == ["card", "relay"]
    card = topic.posts[0][1]
    assert "Olena Kovalenko" in card.html and "@olena" in card.html  # type: ignore[attr-defined]
    assert "Earlier conversations: 0" in card.html  # type: ignore[attr-defined]


async def test_two_quick_first_messages_make_one_topic(world: World) -> None:
    await asyncio.gather(
        world.relay.customer_wrote(OLENA, [world.customer_text("one")]),
        world.relay.customer_wrote(OLENA, [world.customer_text("two")]),
    )
    topic_id = world.only_topic()
    relayed = [body for kind, body in world.desk.topics[topic_id].posts if kind == "relay"]
    assert [text for text, _ in relayed] == ["one", "two"]  # type: ignore[misc]


async def test_operator_reply_reaches_customer_and_marks_topic_answered(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("Where is my policy?")])
    topic_id = world.only_topic()
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("Sent today", 900)])
    assert world.channel.sent == [("501", "Sent today", None)]
    assert world.desk.delivered == [900]
    assert world.desk.topics[topic_id].name.startswith(STATE_MARKERS[TopicState.ANSWERED])
    # the customer writes again: the topic shows they wait
    await world.relay.customer_wrote(OLENA, [world.customer_text("Thanks, and?")])
    assert world.desk.topics[topic_id].name.startswith(STATE_MARKERS[TopicState.WAITING])


async def test_replies_map_both_ways(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("first")])  # customer id "1"
    topic_id = world.only_topic()
    relayed_copy = world.desk._next_id  # the copy of "first" in the topic
    await world.relay.operator_wrote(
        topic_id, OPERATOR, [world.operator_text("answer", 901, reply_to=relayed_copy)]
    )
    assert world.channel.sent[-1] == ("501", "answer", "1")  # a reply to the original
    delivered_as = world.channel.last_id  # the operator's message in the customer's chat
    await world.relay.customer_wrote(
        OLENA, [world.customer_text("follow-up", reply_to=delivered_as)]
    )
    assert world.desk.topics[topic_id].posts[-1] == ("relay", ("follow-up", 901))


async def test_internal_note_is_never_sent(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    await world.relay.operator_wrote(
        world.only_topic(), OPERATOR, [world.operator_text("! check the claim first", 902)]
    )
    assert world.channel.sent == []


async def test_failed_delivery_is_explained_in_the_topic(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    world.channel.refuse = DeliveryFailed(FailureReason.BLOCKED, "Forbidden: bot was blocked")
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("hello?", 903)])
    assert "blocked the bot" in world.desk.notes(topic_id)[-1]
    assert world.desk.delivered == []


async def test_close_then_next_message_reopens_with_a_new_conversation(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    answer = await world.relay.card_action(topic_id, CardAction.CLOSE, OPERATOR)
    assert answer == "Conversation closed."
    topic = world.desk.topics[topic_id]
    assert topic.closed and topic.name.startswith(STATE_MARKERS[TopicState.CLOSED])
    assert world.channel.sent[-1][1] == Texts.shipped("uk").get("closed", "uk")
    assert await world.relay.card_action(topic_id, CardAction.CLOSE, OPERATOR) == (
        "The conversation is already closed."
    )
    world.clock.advance(hours=1)
    await world.relay.customer_wrote(OLENA, [world.customer_text("one more question")])
    assert not topic.closed
    assert world.only_topic() == topic_id
    assert "Conversation #2" in world.desk.notes(topic_id)[-1]
    assert topic.name.startswith(STATE_MARKERS[TopicState.NEW])


async def test_ban_stops_relaying_silently_and_unban_restores(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    await world.relay.card_action(topic_id, CardAction.BAN, OPERATOR)
    posts_before = len(world.desk.topics[topic_id].posts)
    assert not await world.relay.customer_wrote(OLENA, [world.customer_text("spam")])
    assert len(world.desk.topics[topic_id].posts) == posts_before
    assert world.channel.sent == []  # the customer is not told
    await world.relay.card_action(topic_id, CardAction.UNBAN, OPERATOR)
    assert await world.relay.customer_wrote(OLENA, [world.customer_text("sorry")])


async def test_deleted_topic_is_replaced_and_the_message_still_arrives(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    old = world.only_topic()
    world.desk.topics[old].deleted = True
    await world.relay.customer_wrote(OLENA, [world.customer_text("still there?")])
    new = [t for t, topic in world.desk.topics.items() if not topic.deleted]
    assert len(new) == 1 and new[0] != old
    posts = world.desk.topics[new[0]].posts
    assert posts[0][0] == "card" and posts[-1] == ("relay", ("still there?", None))


async def test_hostile_name_is_escaped_and_cleaned(world: World) -> None:
    hostile = CustomerProfile(
        Platform.TELEGRAM, "666", '<a href="https://evil">Admin</a>\u202e\n', None, "en"
    )
    await world.relay.customer_wrote(hostile, [world.customer_text("hi")])
    topic = world.desk.topics[world.only_topic()]
    card_html = topic.posts[0][1].html  # type: ignore[attr-defined]
    assert '<a href="https://evil">' not in card_html
    assert "&lt;a href=&quot;https://evil&quot;&gt;" in card_html
    assert "\u202e" not in topic.name and "\n" not in topic.name


async def test_unreachable_customer_is_refused_at_once_and_shown_when_back(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    await world.relay.customer_reachability(Platform.TELEGRAM, "501", FailureReason.NOT_SUBSCRIBED)
    assert "unsubscribed" in world.desk.notes(topic_id)[-1]
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("hello?", 910)])
    assert world.channel.sent == []
    assert "not subscribed" in world.desk.notes(topic_id)[-1]
    await world.relay.customer_wrote(OLENA, [world.customer_text("I'm back")])
    assert "is back" in " ".join(world.desk.notes(topic_id))
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("welcome", 911)])
    assert world.channel.sent[-1][1] == "welcome"


async def test_a_block_found_on_sending_is_remembered(world: World) -> None:
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    world.channel.refuse = DeliveryFailed(FailureReason.BLOCKED, "Forbidden: bot was blocked")
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("one", 912)])
    world.channel.refuse = None
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("two", 913)])
    assert world.channel.sent == []  # refused at once, without asking the platform again
    assert "blocked the bot" in world.desk.notes(topic_id)[-1]


async def test_receipts_mark_the_operator_message(world: World) -> None:
    world.channel.receipts = True
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("answer", 914)])
    assert world.desk.marks == [(914, DeliveryMark.SENT)]
    token = world.channel.last_id
    await world.relay.delivery_receipt(Platform.TELEGRAM, "501", token, DeliveryMark.DELIVERED)
    await world.relay.delivery_receipt(Platform.TELEGRAM, "501", token, DeliveryMark.SEEN)
    assert world.desk.marks[1:] == [(914, DeliveryMark.DELIVERED), (914, DeliveryMark.SEEN)]
    await world.relay.delivery_receipt(Platform.TELEGRAM, "501", token, None, "no device")
    assert "no device" in world.desk.notes(topic_id)[-1]
    await world.relay.delivery_receipt(Platform.TELEGRAM, "501", "unknown", DeliveryMark.SEEN)
    assert len(world.desk.marks) == 3


@pytest.mark.parametrize("hold", [False, True])
async def test_messages_outside_the_free_window_warn_or_wait_for_confirmation(
    world: World, hold: bool
) -> None:
    world.channel.free_window = timedelta(hours=24)
    world.relay._hold_outside_window = hold
    await world.relay.customer_wrote(OLENA, [world.customer_text("hi")])
    topic_id = world.only_topic()
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("quick", 920)])
    assert world.channel.sent[-1][1] == "quick"
    assert not any("paid" in note for note in world.desk.notes(topic_id))

    world.clock.advance(hours=25)
    await world.relay.operator_wrote(topic_id, OPERATOR, [world.operator_text("late", 921)])
    assert "paid" in world.desk.notes(topic_id)[-1]
    if not hold:
        assert world.channel.sent[-1][1] == "late"
        return
    assert world.channel.sent[-1][1] == "quick"
    action = world.desk.buttons[-1].action
    held_id = int(action.removeprefix(HELD_ACTION))
    assert await world.relay.release_held(topic_id, held_id, OPERATOR) == "Sent."
    assert world.channel.sent[-1][1] == "late"
    assert await world.relay.release_held(topic_id, held_id, OPERATOR) == (
        "That message was already sent."
    )
