"""Service-quality reports: figures from a real database, the report's numbers, text, CSV, chart."""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.stats_chart import render_chart
from bridge.stats import (
    CSV_HEADER,
    ConversationFigures,
    OperatorFigures,
    Report,
    conversation_figures,
    csv_rows,
    duration,
    format_report,
    percentile,
    period,
    summarize,
)
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.tables import ConversationRow, CustomerRow, MessageLinkRow
from bridge.working_hours import Schedule

KYIV = ZoneInfo("Europe/Kyiv")
SCHEDULE = Schedule.parse("Europe/Kyiv", "mon-fri 08:00-18:00")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=KYIV)  # a Friday evening
SINCE = datetime(2026, 11, 14, tzinfo=KYIV)  # the Saturday that starts "7d"
SLA = 60.0
OLENA, PETRO = "Olena", "Petro"


def kyiv(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=KYIV)


@dataclass(frozen=True)
class Spec:
    """A conversation to insert; `answers` are (operator, sent at) in any order."""

    opened: datetime
    reply: datetime | None
    closed: datetime | None
    answers: list[tuple[str, datetime]]
    customer_messages: int = 1
    faq_offered: str | None = None
    faq_helped: bool | None = None
    rating: int | None = None
    rating_comment: str | None = None
    opened_offline: bool = False


# 14 Nov 2026 is a Saturday; Kyiv is UTC+2 in November.
CONVERSATIONS = [
    # 1: Saturday question, answered Monday 08:02 → 120 working seconds, ~45 h of wall time.
    Spec(
        opened=kyiv(14, 11),
        reply=kyiv(16, 8, 2),
        closed=kyiv(16, 9),
        answers=[(OLENA, kyiv(16, 8, 2)), (OLENA, kyiv(16, 8, 30))],
        customer_messages=3,
        faq_offered="delivery/when",
        faq_helped=False,
        rating=5,
        opened_offline=True,
    ),
    Spec(
        opened=kyiv(16, 10),
        reply=kyiv(16, 10, 0, 30),
        closed=kyiv(16, 10, 20),
        answers=[(OLENA, kyiv(16, 10, 0, 30))],
        rating=4,
        rating_comment="=HYPERLINK(1)",
    ),
    Spec(
        opened=kyiv(16, 12),
        reply=kyiv(16, 12, 0, 45),
        closed=kyiv(16, 13),
        answers=[
            (PETRO, kyiv(16, 12, 0, 45)),
            (OLENA, kyiv(16, 12, 30)),
            (PETRO, kyiv(16, 12, 40)),
        ],
    ),
    Spec(
        opened=kyiv(17, 9),
        reply=kyiv(17, 9, 2),
        closed=kyiv(17, 9, 30),
        answers=[(PETRO, kyiv(17, 9, 2))],
        rating=2,
        rating_comment="Too slow",
    ),
    Spec(
        opened=kyiv(17, 15),
        reply=kyiv(17, 15, 10),
        closed=None,
        answers=[(OLENA, kyiv(17, 15, 10))],
    ),
    Spec(
        opened=kyiv(18, 11),
        reply=kyiv(18, 11, 0, 20),
        closed=kyiv(18, 11, 10),
        answers=[(OLENA, kyiv(18, 11, 0, 20))],
        faq_offered="payment/card",
        faq_helped=True,
    ),
    # 7: nobody answered yet.
    Spec(opened=kyiv(19, 17, 50), reply=None, closed=None, answers=[]),
    # 8: Thursday evening, answered Friday 08:05 → 300 working seconds, 12 h 5 min of wall time.
    Spec(
        opened=kyiv(19, 20),
        reply=kyiv(20, 8, 5),
        closed=kyiv(20, 8, 40),
        answers=[(PETRO, kyiv(20, 8, 5))],
        opened_offline=True,
    ),
    # Outside the period on both sides.
    Spec(
        opened=kyiv(13, 23), reply=kyiv(13, 23, 1), closed=None, answers=[(PETRO, kyiv(13, 23, 1))]
    ),
    Spec(opened=kyiv(20, 20), reply=None, closed=None, answers=[]),
]


async def _fill(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        customers = [
            CustomerRow(
                platform="telegram" if number % 2 else "viber",
                external_id=str(number),
                full_name=f"Customer {number}",
                first_seen_at=NOW,
                last_seen_at=NOW,
            )
            for number in range(1, len(CONVERSATIONS) + 1)
        ]
        session.add_all(customers)
        await session.flush()
        message_id = 0
        for customer, spec in zip(customers, CONVERSATIONS, strict=True):
            row = ConversationRow(
                customer_id=customer.id,
                state="new",
                opened_at=spec.opened,
                first_operator_reply_at=spec.reply,
                closed_at=spec.closed,
                opened_offline=spec.opened_offline,
                faq_offered=spec.faq_offered,
                faq_helped=spec.faq_helped,
                rating=spec.rating,
                rating_comment=spec.rating_comment,
            )
            session.add(row)
            await session.flush()
            links: list[tuple[bool, datetime, str | None]] = [
                (True, spec.opened + timedelta(seconds=step), None)
                for step in range(spec.customer_messages)
            ]
            links += [(False, at, name) for name, at in spec.answers]
            # An FAQ screen the bot sent: an operator-side message without an operator.
            links.append((False, spec.opened + timedelta(seconds=5), None))
            for from_customer, at, name in links:
                message_id += 1
                session.add(
                    MessageLinkRow(
                        customer_id=customer.id,
                        conversation_id=row.id,
                        customer_message_id=str(message_id),
                        group_message_id=message_id,
                        from_customer=from_customer,
                        created_at=at,
                        operator_id=None if name is None else len(name),
                        operator_name=name,
                    )
                )
        await session.commit()


@pytest.fixture(scope="module")
async def sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('stats') / 'stats.db'}")
    await migrate(engine)
    made = make_sessions(engine)
    await _fill(made)
    yield made
    await engine.dispose()


@pytest.fixture(scope="module")
async def figures(sessions: async_sessionmaker[AsyncSession]) -> list[ConversationFigures]:
    return await conversation_figures(sessions, SINCE, NOW, SCHEDULE)


@pytest.fixture(scope="module")
def report(figures: list[ConversationFigures]) -> Report:
    return summarize(figures, SINCE, NOW, SLA, KYIV)


# --- figures from the database ---------------------------------------------------------------


async def test_figures_cover_the_period_with_working_time(
    figures: list[ConversationFigures],
) -> None:
    assert len(figures) == 8
    assert [f.opened_at for f in figures] == [spec.opened for spec in CONVERSATIONS[:8]]
    assert [f.first_response_seconds for f in figures] == [120, 30, 45, 120, 600, 20, None, 300]
    assert [f.resolution_seconds for f in figures] == [
        3600,
        1200,
        3600,
        1800,
        None,
        600,
        None,
        2400,
    ]
    first = figures[0]
    assert (first.platform, first.customer_name, first.opened_offline) == (
        "telegram",
        "Customer 1",
        True,
    )
    assert (first.messages_from_customer, first.messages_from_operators) == (3, 3)
    assert (first.operators, first.operator_messages) == ((OLENA,), (2,))
    assert (figures[2].operators, figures[2].operator_messages) == ((PETRO, OLENA), (2, 1))
    assert figures[6].operators == ()
    assert (first.faq_offered, first.faq_helped, first.rating) == ("delivery/when", False, 5)
    assert (figures[3].rating, figures[3].rating_comment) == (2, "Too slow")
    assert first.opened_at.tzinfo is not None


async def test_without_a_schedule_waits_are_wall_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    figures = await conversation_figures(sessions, SINCE, NOW)
    assert figures[0].first_response_seconds == 45 * 3600 + 120  # Sat 11:00 → Mon 08:02
    assert figures[0].resolution_seconds == 46 * 3600
    assert figures[7].first_response_seconds == 12 * 3600 + 300
    report = summarize(figures, SINCE, NOW, SLA, KYIV)
    assert report.first_response_median == 120
    # 20 30 45 120 600 43500 162120: rank 5.4 → 43500 + 0.4 × (162120 − 43500)
    assert report.first_response_p90 == pytest.approx(90948)


async def test_an_empty_period_has_no_figures(sessions: async_sessionmaker[AsyncSession]) -> None:
    since = datetime(2020, 1, 1, tzinfo=UTC)
    assert await conversation_figures(sessions, since, since + timedelta(days=1)) == []


# --- the report ------------------------------------------------------------------------------


def test_report_numbers(report: Report) -> None:
    assert (report.since, report.until, report.sla_seconds) == (SINCE, NOW, SLA)
    assert report.since.tzinfo is KYIV
    assert (report.conversations, report.answered) == (8, 7)
    # Answered: 20 30 45 120 120 300 600.
    assert report.first_response_median == 120
    assert report.first_response_p90 == pytest.approx(420)  # rank 5.4: 300 + 0.4 × 300
    assert report.answered_within_sla_share == pytest.approx(3 / 7)
    # Closed: 600 1200 1800 2400 3600 3600.
    assert report.resolution_median == 2100
    assert report.rating_average == pytest.approx(11 / 3)
    assert report.rating_distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert (report.faq_offered, report.faq_helped) == (2, 1)


def test_report_per_operator(report: Report) -> None:
    assert report.per_operator == (
        # First answers in 1, 2, 5, 6: 120 30 600 20; rated 5 and 4.
        OperatorFigures(OLENA, 5, 6, 75, 4.5),
        # First answers in 3, 4, 8: 45 120 300; rated 2.
        OperatorFigures(PETRO, 3, 4, 120, 2.0),
    )


def test_report_daily(report: Report) -> None:
    assert report.daily == (
        (date(2026, 11, 14), 1, 120),
        (date(2026, 11, 15), 0, None),
        (date(2026, 11, 16), 2, 37.5),
        (date(2026, 11, 17), 2, 360),
        (date(2026, 11, 18), 1, 20),
        (date(2026, 11, 19), 2, 300),
        (date(2026, 11, 20), 0, None),
    )


def test_empty_report_has_nothing_to_average() -> None:
    report = summarize([], SINCE, NOW, SLA, KYIV)
    assert (report.conversations, report.answered) == (0, 0)
    assert report.first_response_median is None
    assert report.first_response_p90 is None
    assert report.answered_within_sla_share is None
    assert report.resolution_median is None
    assert report.rating_average is None
    assert report.rating_distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert report.per_operator == ()
    assert len(report.daily) == 7
    assert all(count == 0 and wait is None for _day, count, wait in report.daily)
    assert "No conversations in this period." in format_report(report)


def test_percentile_interpolates_linearly() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46)


def test_durations_read_naturally() -> None:
    assert [duration(s) for s in (None, 0, 42, 59.4, 60, 180, 3599, 3600, 3900, 90000)] == [
        "—",
        "0 s",
        "42 s",
        "59 s",
        "1 min",
        "3 min",
        "1 h",
        "1 h",
        "1 h 5 min",
        "1 d 1 h",
    ]


def test_format_report(report: Report) -> None:
    text = format_report(report)
    lines = text.splitlines()
    assert lines[:2] == ["Service report", "2026-11-14 00:00 – 2026-11-20 20:00"]
    for line in (
        "Conversations: 8, answered 7 (88%)",
        "First response: median 2 min, p90 7 min",
        "Within SLA (1 min): 43% (3 of 7)",
        "Resolution: median 35 min",
        "Rating: 3.7 from 3 ratings",
        "  5★ 1, 4★ 1, 3★ 0, 2★ 1, 1★ 0",
        "FAQ: offered 2, helped 1",
        "Operator  Conv  Msgs  1st resp  Rating",
        "Olena        5     6     1 min     4.5",
        "Petro        3     4     2 min     2.0",
        "Day         Conv  1st resp",
        "Sat 14 Nov     1     2 min",
        "Sun 15 Nov     0         —",
        "Mon 16 Nov     2      38 s",
    ):
        assert line in lines, line
    assert max(len(line) for line in lines) <= 40  # fits a phone in a monospaced block


# --- CSV -------------------------------------------------------------------------------------


def test_csv_rows(figures: list[ConversationFigures]) -> None:
    rows = list(csv_rows(figures))
    assert rows[0] == list(CSV_HEADER)
    assert len(rows) == 1 + 8
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    by_column = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert by_column[0] == {
        "conversation_id": str(figures[0].conversation_id),
        "customer_id": str(figures[0].customer_id),
        "platform": "telegram",
        "customer_name": "Customer 1",
        "opened_at": "2026-11-14T09:00:00+00:00",
        "closed_at": "2026-11-16T07:00:00+00:00",
        "first_response_seconds": "120",
        "resolution_seconds": "3600",
        "messages_from_customer": "3",
        "messages_from_operators": "3",
        "operators": "Olena",
        "faq_offered": "delivery/when",
        "faq_helped": "false",
        "rating": "5",
        "rating_comment": "",
        "opened_offline": "true",
        "owner": "",
    }
    assert by_column[1]["rating_comment"] == "'=HYPERLINK(1)"  # not run as a formula
    assert by_column[2]["operators"] == "Petro; Olena"
    assert by_column[6]["first_response_seconds"] == ""
    assert by_column[6]["closed_at"] == ""


# --- periods ---------------------------------------------------------------------------------


def test_periods_start_at_local_midnight() -> None:
    assert period("today", NOW, KYIV) == (datetime(2026, 11, 20, tzinfo=KYIV), NOW)
    assert period("7d", NOW, KYIV) == (SINCE, NOW)
    # Across the October clock change: 22 Oct midnight is UTC+3.
    since, until = period("30d", NOW.astimezone(UTC), KYIV)
    assert since == datetime(2026, 10, 21, 21, 0, tzinfo=UTC)
    assert until == NOW
    assert until.tzinfo is KYIV
    assert period(" 1D ", NOW, KYIV)[0] == datetime(2026, 11, 20, tzinfo=KYIV)


@pytest.mark.parametrize("name", ["week", "0d", "-3d", "", "7", "d", "7days", "99999d"])
def test_unknown_periods_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown period"):
        period(name, NOW, KYIV)


# --- chart -----------------------------------------------------------------------------------


def _check_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG")
    assert len(data) > 10_000
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        assert abs(width - 1080) <= 10
        assert abs(height - 1350) <= 10
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None
        assert len(colours) > 1


def test_chart_of_the_period(report: Report) -> None:
    _check_png(render_chart(report))


def test_chart_of_an_empty_period() -> None:
    _check_png(render_chart(summarize([], SINCE, NOW, SLA, KYIV)))


async def test_chart_of_a_month_of_wall_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    since, until = period("30d", NOW, KYIV)
    figures = await conversation_figures(sessions, since, until)  # waits of hours: an hour scale
    _check_png(render_chart(summarize(figures, since, until, 600, KYIV)))
    assert "matplotlib.pyplot" not in sys.modules  # no global figure state in the bot
