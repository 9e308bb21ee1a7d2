"""Service-quality figures: how fast operators answer, how long questions take, what customers say.

One read query gathers per-conversation figures; everything after it is pure, so reports,
CSV exports and charts are computed the same way and are easy to test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.model import Platform
from bridge.storage.tables import ConversationRow, CustomerRow, MessageLinkRow, MessageTallyRow
from bridge.working_hours import Schedule

MAX_PERIOD_DAYS = 3660
"""Longer periods are almost surely a typo, and the daily series would be huge."""
DAILY_IN_TEXT_DAYS = 14
"""Longer periods leave the day-by-day lines to the chart: 30 lines are not compact."""
NAME_WIDTH = 12
OWNER_NAME_WIDTH = 10
"""The owners' table has one column more than the operators' one: still a phone's width."""
_DAYS = re.compile(r"([1-9]\d{0,4})d")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ConversationFigures:
    """One conversation as the reports see it; durations in seconds."""

    conversation_id: int
    customer_id: int
    platform: str
    customer_name: str
    opened_at: datetime
    closed_at: datetime | None
    first_response_seconds: float | None
    """Opening (the customer's first message) → first operator message that reached them."""
    resolution_seconds: float | None
    """Opening → closing; None while open."""
    messages_from_customer: int
    messages_from_operators: int
    operators: tuple[str, ...]
    """Names of the operators who answered, in order of their first answer."""
    faq_offered: str | None
    faq_helped: bool | None
    rating: int | None
    rating_comment: str | None
    opened_offline: bool
    operator_messages: tuple[int, ...] = ()
    department: str | None = None  # the customer's department (None: the default one)
    """Messages each of `operators` sent, in the same order (for the per-operator table)."""
    owner: str | None = None
    """The operator who owns it (took it, was assigned it or answered it first), if anyone."""


@dataclass(frozen=True)
class OperatorFigures:
    """One operator's share of the work in a period."""

    name: str
    conversations: int
    messages: int
    median_first_response_seconds: float | None
    """Over the conversations this operator answered first."""
    rating_average: float | None
    """Over the rated conversations this operator answered in."""


@dataclass(frozen=True)
class OwnerFigures:
    """The conversations one operator owned in a period, and how they went."""

    name: str
    owned: int
    median_first_response_seconds: float | None
    """Over the owned conversations that were answered (by anyone)."""
    median_resolution_seconds: float | None
    """Over the owned conversations that were closed."""
    rating_average: float | None
    ratings: int


@dataclass(frozen=True)
class ChannelFigures:
    """The conversations that came in through one channel (Telegram bot, Viber, Business)."""

    platform: str
    conversations: int
    answered: int
    median_first_response_seconds: float | None
    rating_average: float | None


@dataclass(frozen=True)
class Report:
    """Everything a service report shows; times in the report's zone."""

    since: datetime
    until: datetime
    sla_seconds: float
    conversations: int
    answered: int
    first_response_median: float | None
    first_response_p90: float | None
    answered_within_sla_share: float | None
    """Of answered conversations: unanswered ones have no response time to judge."""
    resolution_median: float | None
    rating_average: float | None
    rating_distribution: dict[int, int]
    """Stars 1..5 → count; every key present so tables and charts need no special cases."""
    faq_offered: int
    faq_helped: int
    per_operator: tuple[OperatorFigures, ...]
    """Sorted by conversations, most first (then by name)."""
    daily: tuple[tuple[date, int, float | None], ...]
    """Per local day of the period: (day, conversations opened, median first response)."""
    per_owner: tuple[OwnerFigures, ...] = ()
    """Sorted by conversations owned, most first (then by name)."""
    per_channel: tuple[ChannelFigures, ...] = ()
    """Sorted by conversations, most first (then by platform)."""


async def conversation_figures(
    sessions: async_sessionmaker[AsyncSession],
    since: datetime,
    until: datetime,
    schedule: Schedule | None = None,
) -> list[ConversationFigures]:
    """Conversations opened in [since, until), oldest first.

    With a schedule, waiting times (first response and resolution) count only working time,
    so a Saturday message doesn't make Monday look slow; without one, wall time. Messages are
    counted from the message map and, for links retention deleted, from their tallies.
    Five grouped queries whatever the number of conversations.
    """
    in_period = (ConversationRow.opened_at >= since, ConversationRow.opened_at < until)
    ids = select(ConversationRow.id).where(*in_period).scalar_subquery()
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    ConversationRow,
                    CustomerRow.platform,
                    CustomerRow.full_name,
                    CustomerRow.department,
                )
                .join(CustomerRow, CustomerRow.id == ConversationRow.customer_id)
                .where(*in_period)
                .order_by(ConversationRow.opened_at, ConversationRow.id)
            )
        ).all()
        counts = (
            await session.execute(
                select(
                    MessageLinkRow.conversation_id,
                    MessageLinkRow.from_customer,
                    func.count(),
                )
                .where(MessageLinkRow.conversation_id.in_(ids))
                .group_by(MessageLinkRow.conversation_id, MessageLinkRow.from_customer)
            )
        ).all()
        answers = (
            await session.execute(
                select(
                    MessageLinkRow.conversation_id,
                    MessageLinkRow.operator_name,
                    func.min(MessageLinkRow.created_at),
                    func.count(),
                )
                .where(
                    MessageLinkRow.conversation_id.in_(ids),
                    MessageLinkRow.from_customer == false(),
                    MessageLinkRow.operator_name.is_not(None),
                )
                .group_by(MessageLinkRow.conversation_id, MessageLinkRow.operator_name)
            )
        ).all()
        tallied = (
            await session.execute(
                select(
                    MessageTallyRow.conversation_id,
                    MessageTallyRow.from_customer,
                    func.sum(MessageTallyRow.messages),
                )
                .where(MessageTallyRow.conversation_id.in_(ids))
                .group_by(MessageTallyRow.conversation_id, MessageTallyRow.from_customer)
            )
        ).all()
        tallied_answers = (
            await session.execute(
                select(
                    MessageTallyRow.conversation_id,
                    MessageTallyRow.operator_name,
                    func.min(MessageTallyRow.first_at),
                    func.sum(MessageTallyRow.messages),
                )
                .where(
                    MessageTallyRow.conversation_id.in_(ids),
                    MessageTallyRow.from_customer == false(),
                    MessageTallyRow.operator_name.is_not(None),
                )
                .group_by(MessageTallyRow.conversation_id, MessageTallyRow.operator_name)
            )
        ).all()

    from_customer: dict[int, int] = {}
    from_operators: dict[int, int] = {}
    for conversation_id, by_customer, count in [*counts, *tallied]:
        target = from_customer if by_customer else from_operators
        target[conversation_id] = target.get(conversation_id, 0) + int(count)
    first_answers: dict[tuple[int, str], tuple[datetime, int]] = {}
    for conversation_id, name, first_at, count in [*answers, *tallied_answers]:
        if name is None or first_at is None:
            continue
        earlier, total = first_answers.get((conversation_id, name), (first_at, 0))
        first_answers[conversation_id, name] = (min(earlier, first_at), total + int(count))
    answered_by: dict[int, list[tuple[datetime, str, int]]] = {}
    for (conversation_id, name), (first_at, count) in first_answers.items():
        answered_by.setdefault(conversation_id, []).append((first_at, name, count))

    def waited(start: datetime, end: datetime | None) -> float | None:
        if end is None:
            return None
        if schedule is not None:
            return schedule.working_seconds(start, end)
        return max(0.0, (end - start).total_seconds())

    figures = []
    for row, platform, full_name, department in rows:
        operators = sorted(answered_by.get(row.id, []))
        figures.append(
            ConversationFigures(
                conversation_id=row.id,
                customer_id=row.customer_id,
                department=department,
                platform=platform,
                customer_name=full_name,
                opened_at=row.opened_at,
                closed_at=row.closed_at,
                first_response_seconds=waited(row.opened_at, row.first_operator_reply_at),
                resolution_seconds=waited(row.opened_at, row.closed_at),
                messages_from_customer=from_customer.get(row.id, 0),
                messages_from_operators=from_operators.get(row.id, 0),
                operators=tuple(name for _at, name, _count in operators),
                faq_offered=row.faq_offered,
                faq_helped=row.faq_helped,
                rating=row.rating,
                rating_comment=row.rating_comment,
                opened_offline=row.opened_offline,
                operator_messages=tuple(count for _at, _name, count in operators),
                owner=row.owner_name if row.owner_id is not None else None,
            )
        )
    return figures


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC).

    The 0.5 percentile is the usual median; None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 0.5)


def _average(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(
    figures: Sequence[ConversationFigures],
    since: datetime,
    until: datetime,
    sla_seconds: float,
    zone: tzinfo,
) -> Report:
    """The report of a period. Medians and the 90th percentile use linear interpolation
    (see `percentile`); shares and averages are None when there is nothing to average."""
    responses = [f.first_response_seconds for f in figures if f.first_response_seconds is not None]
    ratings = [f.rating for f in figures if f.rating is not None]
    return Report(
        since=since.astimezone(zone),
        until=until.astimezone(zone),
        sla_seconds=sla_seconds,
        conversations=len(figures),
        answered=len(responses),
        first_response_median=median(responses),
        first_response_p90=percentile(responses, 0.9),
        answered_within_sla_share=(
            sum(1 for seconds in responses if seconds <= sla_seconds) / len(responses)
            if responses
            else None
        ),
        resolution_median=median(
            [f.resolution_seconds for f in figures if f.resolution_seconds is not None]
        ),
        rating_average=_average(ratings),
        rating_distribution={stars: ratings.count(stars) for stars in range(1, 6)},
        faq_offered=sum(1 for f in figures if f.faq_offered is not None),
        faq_helped=sum(1 for f in figures if f.faq_offered is not None and f.faq_helped),
        per_operator=_per_operator(figures),
        daily=_daily(figures, since, until, zone),
        per_owner=_per_owner(figures),
        per_channel=_per_channel(figures),
    )


def _per_channel(figures: Sequence[ConversationFigures]) -> tuple[ChannelFigures, ...]:
    by_platform: dict[str, list[ConversationFigures]] = {}
    for figure in figures:
        by_platform.setdefault(figure.platform, []).append(figure)
    rows = []
    for platform, mine in by_platform.items():
        responses = [f.first_response_seconds for f in mine if f.first_response_seconds is not None]
        rows.append(
            ChannelFigures(
                platform=platform,
                conversations=len(mine),
                answered=len(responses),
                median_first_response_seconds=median(responses),
                rating_average=_average([f.rating for f in mine if f.rating is not None]),
            )
        )
    return tuple(sorted(rows, key=lambda row: (-row.conversations, row.platform)))


def _per_owner(figures: Sequence[ConversationFigures]) -> tuple[OwnerFigures, ...]:
    owned: dict[str, list[ConversationFigures]] = {}
    for figure in figures:
        if figure.owner is not None:
            owned.setdefault(figure.owner, []).append(figure)
    rows = []
    for name, mine in owned.items():
        ratings = [f.rating for f in mine if f.rating is not None]
        rows.append(
            OwnerFigures(
                name=name,
                owned=len(mine),
                median_first_response_seconds=median(
                    [f.first_response_seconds for f in mine if f.first_response_seconds is not None]
                ),
                median_resolution_seconds=median(
                    [f.resolution_seconds for f in mine if f.resolution_seconds is not None]
                ),
                rating_average=_average(ratings),
                ratings=len(ratings),
            )
        )
    return tuple(sorted(rows, key=lambda row: (-row.owned, row.name)))


def _per_operator(figures: Sequence[ConversationFigures]) -> tuple[OperatorFigures, ...]:
    conversations: dict[str, int] = {}
    messages: dict[str, int] = {}
    first_responses: dict[str, list[float]] = {}
    ratings: dict[str, list[float]] = {}
    for figure in figures:
        counts = figure.operator_messages or (0,) * len(figure.operators)
        for name, count in zip(figure.operators, counts, strict=True):
            conversations[name] = conversations.get(name, 0) + 1
            messages[name] = messages.get(name, 0) + count
            if figure.rating is not None:
                ratings.setdefault(name, []).append(figure.rating)
        if figure.operators and figure.first_response_seconds is not None:
            first_responses.setdefault(figure.operators[0], []).append(
                figure.first_response_seconds
            )
    rows = [
        OperatorFigures(
            name=name,
            conversations=count,
            messages=messages[name],
            median_first_response_seconds=median(first_responses.get(name, [])),
            rating_average=_average(ratings.get(name, [])),
        )
        for name, count in conversations.items()
    ]
    return tuple(sorted(rows, key=lambda row: (-row.conversations, row.name)))


def _daily(
    figures: Sequence[ConversationFigures], since: datetime, until: datetime, zone: tzinfo
) -> tuple[tuple[date, int, float | None], ...]:
    if until <= since:
        return ()
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    opened: dict[date, int] = {}
    responses: dict[date, list[float]] = {}
    for figure in figures:
        day = figure.opened_at.astimezone(zone).date()
        opened[day] = opened.get(day, 0) + 1
        if figure.first_response_seconds is not None:
            responses.setdefault(day, []).append(figure.first_response_seconds)
    days = [first + timedelta(days=step) for step in range((last - first).days + 1)]
    return tuple((day, opened.get(day, 0), median(responses.get(day, []))) for day in days)


def period(name: str, now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The [since, until) of a named period, in `zone`, ending at `now`.

    "today" starts at local midnight; "<N>d" ("7d", "30d") covers today and the N - 1 days
    before it from local midnight, so every day in a chart is whole but today.
    """
    text = name.strip().lower()
    if now.tzinfo is None:
        raise ValueError("period() needs a timezone-aware now")
    if text == "today":
        days = 1
    else:
        match = _DAYS.fullmatch(text)
        if match is None or int(match[1]) > MAX_PERIOD_DAYS:
            raise ValueError(
                f'unknown period "{name}": use "today", "7d", "30d" or "<N>d" '
                f"with N from 1 to {MAX_PERIOD_DAYS}"
            )
        days = int(match[1])
    local_now = now.astimezone(zone)
    first_day = local_now.date() - timedelta(days=days - 1)
    # Through UTC so a midnight the clocks skip resolves to a real instant.
    since = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(zone)
    return since, local_now


def duration(seconds: float | None) -> str:
    """Short, rounded durations for people: "42 s", "3 min", "1 h 5 min", "2 d 3 h"."""
    if seconds is None:
        return "—"
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _share(part: float | None) -> str:
    return "—" if part is None else f"{round(part * 100)}%"


def _rating(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _name(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def format_report(report: Report) -> str:
    """Plain text narrow enough for a phone (send it in <pre> so the tables stay aligned)."""
    stamp = "%Y-%m-%d %H:%M"
    lines = [
        "Service report",
        f"{report.since.strftime(stamp)} – {report.until.strftime(stamp)}",
    ]
    if report.conversations == 0:
        lines.append("No conversations in this period.")
        return "\n".join(lines)
    within = report.answered_within_sla_share
    within_count = round(within * report.answered) if within is not None else 0
    rated = sum(report.rating_distribution.values())
    lines += [
        f"Conversations: {report.conversations}, answered {report.answered} "
        f"({_share(report.answered / report.conversations)})",
        f"First response: median {duration(report.first_response_median)}, "
        f"p90 {duration(report.first_response_p90)}",
        f"Within SLA ({duration(report.sla_seconds)}): {_share(within)} "
        f"({within_count} of {report.answered})",
        f"Resolution: median {duration(report.resolution_median)}",
        f"Rating: {_rating(report.rating_average)} from {rated} rating{'' if rated == 1 else 's'}",
    ]
    if rated:
        lines.append(
            "  " + ", ".join(f"{s}★ {report.rating_distribution[s]}" for s in range(5, 0, -1))
        )
    lines.append(f"FAQ: offered {report.faq_offered}, helped {report.faq_helped}")
    if len(report.per_channel) > 1:
        lines += [
            "",
            *_table(
                ("Channel", "Conv", "Answered", "1st resp", "★"),
                [
                    (
                        _channel_name(row.platform),
                        str(row.conversations),
                        str(row.answered),
                        duration(row.median_first_response_seconds),
                        _rating(row.rating_average),
                    )
                    for row in report.per_channel
                ],
            ),
        ]
    if report.per_operator:
        lines += [
            "",
            *_table(
                ("Operator", "Conv", "Msgs", "1st resp", "Rating"),
                [
                    (
                        _name(row.name),
                        str(row.conversations),
                        str(row.messages),
                        duration(row.median_first_response_seconds),
                        _rating(row.rating_average),
                    )
                    for row in report.per_operator
                ],
            ),
        ]
    if report.per_owner:
        lines += [
            "",
            *_table(
                ("Owner", "Own", "1st resp", "Resolved", "★"),
                [
                    (
                        _name(row.name, OWNER_NAME_WIDTH),
                        str(row.owned),
                        duration(row.median_first_response_seconds),
                        duration(row.median_resolution_seconds),
                        _rating(row.rating_average),
                    )
                    for row in report.per_owner
                ],
            ),
        ]
    if len(report.daily) <= DAILY_IN_TEXT_DAYS:
        lines += [
            "",
            *_table(
                ("Day", "Conv", "1st resp"),
                [
                    (day.strftime("%a %d %b"), str(count), duration(wait))
                    for day, count, wait in report.daily
                ],
            ),
        ]
    return "\n".join(lines)


def _channel_name(platform: str) -> str:
    known = {p.value: p.display_name for p in Platform}
    return known.get(platform, platform)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """The first column left-aligned, the figures right-aligned, two spaces apart."""
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()
        for cells in (header, *rows)
    ]


CSV_HEADER = (
    "conversation_id",
    "customer_id",
    "platform",
    "customer_name",
    "opened_at",
    "closed_at",
    "first_response_seconds",
    "resolution_seconds",
    "messages_from_customer",
    "messages_from_operators",
    "operators",
    "faq_offered",
    "faq_helped",
    "rating",
    "rating_comment",
    "opened_offline",
    "owner",
)


def _text(value: str | None) -> str:
    """Customers choose their names and comments: keep spreadsheets from running them as
    formulas (a leading ' is the usual escape)."""
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def csv_rows(figures: Sequence[ConversationFigures]) -> Iterator[list[str]]:
    """Rows for `csv.writer`: the header, then one per conversation; UTC ISO timestamps,
    whole seconds, empty cells for unknowns, operators joined with "; "."""
    yield list(CSV_HEADER)
    for f in figures:
        yield [
            str(f.conversation_id),
            str(f.customer_id),
            f.platform,
            _text(f.customer_name),
            f.opened_at.isoformat(),
            f.closed_at.isoformat() if f.closed_at else "",
            _seconds(f.first_response_seconds),
            _seconds(f.resolution_seconds),
            str(f.messages_from_customer),
            str(f.messages_from_operators),
            _text("; ".join(f.operators)),
            _text(f.faq_offered),
            _flag(f.faq_helped),
            "" if f.rating is None else str(f.rating),
            _text(f.rating_comment),
            _flag(f.opened_offline),
            _text(f.owner),
        ]
