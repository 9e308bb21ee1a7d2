"""The support team's working hours: when auto-replies go out and what counts as response time.

Working times are local wall-clock times in the configured zone, but every comparison is made
in UTC: comparing two datetimes that share a tzinfo compares wall clocks, which is wrong on the
days the clocks change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import ConfigError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DISPLAY_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60
HORIZON_DAYS = 400
ALWAYS = "24/7"

WORKING_HOURS_FORMS = '"mon-fri 08:00-18:00", "mon-fri 08:00-18:00; sat 10:00-14:00" or "24/7"'
HOLIDAYS_FORMS = 'ISO dates separated by commas, like "2026-12-25,2027-01-01"'

_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Interval = tuple[int, int]
"""Minutes since local midnight, start inclusive and end exclusive; the end may be 1440."""
Span = tuple[datetime, datetime]
"""An absolute stretch of working time in UTC, start inclusive and end exclusive."""


class _Bad(Exception):
    """A part of WORKING_HOURS that is not understood; `parse` turns it into one ConfigError."""


@dataclass(frozen=True)
class Schedule:
    """Weekly working intervals in one zone, minus whole-day holidays."""

    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    """Seven sorted, non-overlapping interval lists, Monday first."""
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, timezone: str, working_hours: str, holidays: str = "") -> Schedule:
        """Build a schedule from the TIMEZONE, WORKING_HOURS and HOLIDAYS settings.

        Every error is a ConfigError whose message is one sentence naming the setting,
        quoting the bad part and showing the accepted forms, so it can be shown as is.
        """
        return cls(_parse_zone(timezone), _parse_week(working_hours), _parse_holidays(holidays))

    @property
    def always_open(self) -> bool:
        """Open around the clock every day with no holidays: auto-replies never go out."""
        return not self.holidays and all(day == ((0, MINUTES_PER_DAY),) for day in self.week)

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` (any aware datetime) falls in working time."""
        instant = _utc(moment)
        today = instant.astimezone(self.zone).date()
        return any(
            start <= instant < end
            for offset in (-1, 0, 1)
            for start, end in self._day_spans(today + timedelta(days=offset))
        )

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next start of working time strictly after a closed stretch, in `self.zone`.

        If closed at `moment` this is when the team comes back; if open, it is the start of
        the working stretch after the current one ends. None when always open or when no
        working time begins within the next 400 days.
        """
        if self.always_open:
            return None
        instant = _utc(moment)
        first = instant.astimezone(self.zone).date() - timedelta(days=1)
        # Spans are merged, so a span starting after `instant` is preceded by closed time:
        # either `instant` itself is closed, or the span containing it ends first.
        for start, _end in self._spans(first, first + timedelta(days=HORIZON_DAYS + 1)):
            if start > instant:
                return start.astimezone(self.zone)
        return None

    def offline_period(self, moment: datetime) -> datetime | None:
        """None when open; when closed, the opening that ends this offline period.

        Every moment of one offline stretch gets the same value, so it works as the key of
        "one auto-reply per offline period".
        """
        if self.is_open(moment):
            return None
        return self.next_opening(moment)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of working time in [start, end), so response times skip nights and holidays."""
        begin, finish = _utc(start), _utc(end)
        if finish <= begin:
            return 0.0
        first = begin.astimezone(self.zone).date() - timedelta(days=1)
        last = finish.astimezone(self.zone).date() + timedelta(days=1)
        total = timedelta()
        for span_start, span_end in self._spans(first, last):
            if span_start >= finish:
                break
            overlap = min(span_end, finish) - max(span_start, begin)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds()

    def describe(self) -> str:
        """A one-line summary for operators, like "Mon–Fri 08:00–18:00 (Europe/Kyiv)"."""
        if all(day == ((0, MINUTES_PER_DAY),) for day in self.week):
            return ALWAYS
        groups: dict[tuple[Interval, ...], list[int]] = {}
        for weekday, intervals in enumerate(self.week):
            if intervals:
                groups.setdefault(intervals, []).append(weekday)
        several = any(len(intervals) > 1 for intervals in groups)
        parts = [
            f"{_describe_days(days)} {', '.join(_describe_interval(i) for i in intervals)}"
            for intervals, days in groups.items()
        ]
        return f"{('; ' if several else ', ').join(parts)} ({self.zone.key})"

    def _day_spans(self, day: date) -> list[Span]:
        """The UTC spans of one local date; empty on holidays.

        An interval wholly inside the hour skipped by a spring-forward change is empty that day;
        a repeated wall time (autumn) means its first occurrence.
        """
        if day in self.holidays:
            return []
        spans: list[Span] = []
        for start_minute, end_minute in self.week[day.weekday()]:
            start = self._instant(day, start_minute)
            end = self._instant(day, end_minute)
            if end > start:
                spans.append((start, end))
        return spans

    def _instant(self, day: date, minute: int) -> datetime:
        """A local wall time on `day` as UTC; minute 1440 is the next day's midnight."""
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        instant = wall.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
            return instant
        return self._jump(wall, instant)

    def _jump(self, wall: datetime, after: datetime) -> datetime:
        """The moment the clocks jump over a skipped wall time: work set for 03:30 on a night
        that goes 03:00 → 04:00 starts when the clocks show 04:00, not at a shifted 04:30.

        `after` (the old offset's reading) is past the jump and the new offset's reading is
        before it; bisect whole seconds between them, as tz transitions fall on whole seconds.
        """
        naive = wall.replace(tzinfo=None)
        before = wall.replace(fold=1).astimezone(UTC)
        while after - before > timedelta(seconds=1):
            middle = before + timedelta(seconds=(after - before) // timedelta(seconds=2))
            if middle.astimezone(self.zone).replace(tzinfo=None) >= naive:
                after = middle
            else:
                before = middle
        return after

    def _spans(self, first: date, last: date) -> Iterator[Span]:
        """Working time of the local dates first..last as merged, ascending UTC spans.

        Intervals that touch across midnight (24:00 then 00:00) or overlap around a clock
        change become one span, so a span's start is a real opening.
        """
        pending: Span | None = None
        day = first
        while day <= last:
            for start, end in sorted(self._day_spans(day)):
                if pending is not None and start <= pending[1]:
                    pending = (min(pending[0], start), max(pending[1], end))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
            day += timedelta(days=1)
        if pending is not None:
            yield pending


def _utc(moment: datetime) -> datetime:
    """Convert to UTC, refusing naive datetimes: their zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _parse_zone(timezone: str) -> ZoneInfo:
    name = timezone.strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f'TIMEZONE "{timezone}" is not a known time zone: use an IANA name like "Europe/Kyiv".'
        ) from None


def _parse_holidays(holidays: str) -> frozenset[date]:
    days: set[date] = set()
    for item in (part.strip() for part in holidays.split(",")):
        if not item:
            continue
        try:
            if not _ISO_DATE.fullmatch(item):
                raise ValueError(item)
            days.add(date.fromisoformat(item))
        except ValueError:
            detail = "" if item == holidays.strip() else f' ("{item}" is not a date)'
            raise ConfigError(
                f'HOLIDAYS "{holidays.strip()}" is not a list of dates{detail}: '
                f"use {HOLIDAYS_FORMS}."
            ) from None
    return frozenset(days)


def _parse_week(working_hours: str) -> tuple[tuple[Interval, ...], ...]:
    text = working_hours.strip()
    try:
        return _week(text)
    except _Bad as problem:
        raise ConfigError(
            f'WORKING_HOURS "{text}" is not understood ({problem}): '
            f"use forms like {WORKING_HOURS_FORMS}."
        ) from None


def _week(text: str) -> tuple[tuple[Interval, ...], ...]:
    if text.lower() == ALWAYS:
        return tuple(((0, MINUTES_PER_DAY),) for _ in DAY_NAMES)
    week: list[list[Interval]] = [[] for _ in DAY_NAMES]
    groups = [group.strip() for group in text.split(";")]
    if not any(groups):
        raise _Bad("it is empty")
    for group in groups:
        if not group:
            continue  # a stray ";" hides nothing
        if group.lower() == ALWAYS:
            raise _Bad('"24/7" must be the whole setting')
        digit = re.search(r"\d", group)
        if digit is None:
            raise _Bad(f'"{group}" has no hours')
        days_text, times_text = group[: digit.start()].strip(), group[digit.start() :].strip()
        if not days_text:
            raise _Bad(f'"{group}" has no days')
        intervals = [_interval(part.strip()) for part in times_text.split(",")]
        for weekday in _days(days_text):
            week[weekday].extend(intervals)
    return tuple(_merge(day) for day in week)


def _days(text: str) -> list[int]:
    """`mon-fri`, `mon,wed,fri` or `fri-mon` (wrapping) as weekday numbers, Monday = 0."""
    days: list[int] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            raise _Bad(f'"{text}" has an empty day')
        ends = [_day(end.strip(), part) for end in part.split("-")]
        if len(ends) == 1:
            days.append(ends[0])
        elif len(ends) == 2:
            length = (ends[1] - ends[0]) % 7 + 1
            days.extend((ends[0] + step) % 7 for step in range(length))
        else:
            raise _Bad(f'"{part}" is not a day range')
    return days


def _day(name: str, part: str) -> int:
    try:
        return DAY_NAMES.index(name.lower())
    except ValueError:
        raise _Bad(f'"{part}" is not a day') from None


def _interval(text: str) -> Interval:
    match = _INTERVAL.fullmatch(text)
    if match is None:
        raise _Bad(f'"{text}" is not a time range like 08:00-18:00')
    start = _minute(match[1], match[2], text)
    end = _minute(match[3], match[4], text)
    if start == MINUTES_PER_DAY:
        raise _Bad(f'"{text}" starts at 24:00, which is only allowed as an end')
    if end <= start:
        raise _Bad(f'"{text}" does not end after it starts')
    return start, end


def _minute(hours: str, minutes: str, text: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY:
        raise _Bad(f'"{text}" has a time outside 00:00-24:00')
    return value


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    """Sort and join overlapping or touching intervals, so groups may overlap harmlessly."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _describe_days(days: list[int]) -> str:
    """`Mon–Fri`, `Mon, Wed, Fri` or `Fri–Mon`: runs of days, wrapping over the weekend."""
    present = set(days)
    first = 0
    if 0 in present and 6 in present and len(present) < 7:
        while (first - 1) % 7 in present:
            first = (first - 1) % 7
    runs: list[list[int]] = []
    for step in range(7):
        weekday = (first + step) % 7
        if weekday not in present:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == weekday:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    return ", ".join(
        DISPLAY_DAYS[run[0]] if len(run) == 1 else f"{DISPLAY_DAYS[run[0]]}–{DISPLAY_DAYS[run[-1]]}"
        for run in runs
    )


def _describe_interval(interval: Interval) -> str:
    start, end = interval
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
