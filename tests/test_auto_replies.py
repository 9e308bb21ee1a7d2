"""Core rules of the bot's own replies: offline notice once per offline period, silence after
an operator's recent reply, the in-hours acknowledgement, and the wording of "when we're back"
around weekends, midnight, holidays and the DST changes in Europe/Kyiv. The clock is injected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.auto_replies import AutoReplies
from bridge.commands import CustomerWrote, OperatorWrote
from bridge.model import (
    ContentKind,
    CustomerProfile,
    IncomingMessage,
    MessageRef,
    Operator,
    Platform,
)
from bridge.screens import Screens
from bridge.texts import Texts
from bridge.working_hours import Schedule
from tests.core_fakes import FakeDesk, FixedClock
from tests.core_world import World, core_world

KYIV = ZoneInfo("Europe/Kyiv")
TEXTS = Texts.shipped("uk")


def kyiv(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=KYIV)  # type: ignore[misc]


class Replies:
    def __init__(self, world: World) -> None:
        self.world = world
        self.ids = 0

    @property
    def clock(self) -> FixedClock:
        return self.world.clock

    async def customer_says(self, text: str, who: str = "301", language: str = "uk") -> None:
        self.ids += 1
        ref = MessageRef(Platform.TELEGRAM, who, str(self.ids))
        profile = CustomerProfile(Platform.TELEGRAM, who, f"Customer {who}", language=language)
        await self.world.do(CustomerWrote(profile, IncomingMessage(ref, ContentKind.TEXT, text)))

    async def operator_says(self, topic_id: int, text: str, message_id: int) -> None:
        ref = MessageRef(Platform.TELEGRAM, "-100", str(message_id))
        message = IncomingMessage(ref, ContentKind.TEXT, text)
        await self.world.do(OperatorWrote(topic_id, Operator(1, "Iryna"), message))

    def replies(self) -> list[str]:
        return [screen.text for screen in self.world.channel.screens]

    @property
    def desk(self) -> FakeDesk:
        return self.world.desk


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Replies]:
    clock = FixedClock(kyiv(2026, 11, 24, 10, 0))
    schedule = Schedule.parse("Europe/Kyiv", "mon-fri 08:00-18:00", "2026-12-28")
    auto = AutoReplies(Screens(TEXTS), schedule, None, timedelta(minutes=10))
    async with core_world(tmp_path / "auto.db", clock, auto) as world:
        yield Replies(world)


def offline_text(when: str) -> str:
    return TEXTS.get("offline", "uk", when=when, zone=TEXTS.get("zone_label", "uk"))


@pytest.mark.parametrize(
    ("moment", "when"),
    [
        (kyiv(2026, 11, 27, 18, 0), "у понеділок о 08:00"),  # Friday, the minute it closes
        (kyiv(2026, 11, 28, 12, 0), "у понеділок о 08:00"),  # Saturday
        (kyiv(2026, 11, 29, 23, 59), "завтра о 08:00"),  # Sunday, a minute before midnight
        (kyiv(2026, 11, 30, 0, 1), "сьогодні о 08:00"),  # just after midnight
        (kyiv(2026, 11, 30, 7, 59), "сьогодні о 08:00"),  # a minute before opening
        (kyiv(2026, 12, 25, 19, 0), "у вівторок о 08:00"),  # Monday 28 Dec is a holiday
        (kyiv(2026, 3, 28, 20, 0), "у понеділок о 08:00"),  # the weekend clocks go forward
        (kyiv(2026, 10, 24, 20, 0), "у понеділок о 08:00"),  # the weekend clocks go back
    ],
)
async def test_offline_reply_says_when_operators_are_back(
    world: Replies, moment: datetime, when: str
) -> None:
    world.clock.moment = moment
    await world.customer_says("Доброго вечора, маю питання")
    assert world.replies() == [offline_text(when)]
    topic = next(iter(world.desk.topics.values()))
    assert "🌙" in topic.name  # the topic shows it came in after hours


async def test_english_customer_gets_english_and_opening_time_is_local(world: Replies) -> None:
    world.clock.moment = kyiv(2026, 3, 28, 20, 0)  # Saturday before DST
    await world.customer_says("Hello, I have a question", language="en")
    when = TEXTS.get("when_weekday", "en", weekday="on Monday", time="08:00")
    assert world.replies() == [
        TEXTS.get("offline", "en", when=when, zone=TEXTS.get("zone_label", "en"))
    ]


async def test_one_offline_reply_per_offline_period(world: Replies) -> None:
    world.clock.moment = kyiv(2026, 11, 27, 19, 0)  # Friday evening
    await world.customer_says("перше")
    world.clock.moment = kyiv(2026, 11, 28, 11, 0)  # Saturday: the same offline period
    await world.customer_says("друге")
    world.clock.moment = kyiv(2026, 11, 30, 7, 59)  # Monday, still before opening
    await world.customer_says("третє")
    assert len(world.replies()) == 1
    world.clock.moment = kyiv(2026, 11, 30, 18, 30)  # Monday evening: a new offline period
    await world.customer_says("четверте")
    assert world.replies()[1] == offline_text("завтра о 08:00")


async def test_no_offline_reply_right_after_an_operator_answered(world: Replies) -> None:
    world.clock.moment = kyiv(2026, 11, 24, 17, 55)  # Tuesday, in hours
    await world.customer_says("питання")
    topic_id = next(iter(world.desk.topics))
    world.clock.moment = kyiv(2026, 11, 24, 18, 5)  # an operator works late
    await world.operator_says(topic_id, "Відповідаю", 9001)
    world.clock.moment = kyiv(2026, 11, 24, 18, 10)
    await world.customer_says("дякую, а ще?")
    assert not any("не на зв'язку" in text for text in world.replies())
    world.clock.moment = kyiv(2026, 11, 24, 18, 30)  # 25 minutes later: nobody is there
    await world.customer_says("агов?")
    assert world.replies()[-1] == offline_text("завтра о 08:00")


async def test_in_hours_a_new_conversation_is_acknowledged_with_the_expected_wait(
    world: Replies,
) -> None:
    await world.customer_says("питання", who="401")
    assert world.replies() == [TEXTS.get("ack_unknown", "uk")]  # no history yet
    topic_id = next(iter(world.desk.topics))
    world.clock.advance(seconds=40)
    await world.operator_says(topic_id, "Так", 9002)
    world.clock.advance(minutes=5)
    await world.customer_says("інше питання", who="402")
    assert world.replies()[-1] == TEXTS.get("ack_minute", "uk")
    await world.customer_says("і ще одне", who="402")  # not a new conversation: no second ack
    assert len(world.replies()) == 2
