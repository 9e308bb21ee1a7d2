"""Working hours: parsing the settings, open/closed, next opening and working time, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError, ConfigError
from bridge.working_hours import Schedule

KYIV = ZoneInfo("Europe/Kyiv")
FULL_DAY = ((0, 1440),)
WEEKDAYS_8_18 = (((480, 1080),),) * 5 + ((),) * 2
HOUR = 3600.0


def kyiv(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=KYIV)


def schedule(working_hours: str = "mon-fri 08:00-18:00", holidays: str = "") -> Schedule:
    return Schedule.parse("Europe/Kyiv", working_hours, holidays)


def config_error(timezone: str, working_hours: str, holidays: str = "") -> str:
    with pytest.raises(ConfigError) as caught:
        Schedule.parse(timezone, working_hours, holidays)
    return str(caught.value)


# --- parsing -------------------------------------------------------------------------------


def test_default_form() -> None:
    parsed = schedule()
    assert parsed.zone == KYIV
    assert parsed.week == WEEKDAYS_8_18
    assert parsed.holidays == frozenset()
    assert not parsed.always_open


@pytest.mark.parametrize(
    ("working_hours", "week"),
    [
        ("mon-fri 08:00-18:00; sat 10:00-14:00", (*WEEKDAYS_8_18[:5], ((600, 840),), ())),
        ("mon,wed,fri 09:00-13:00", (((540, 780),), (), ((540, 780),), (), ((540, 780),), (), ())),
        ("mon-fri 08:00-12:00, 13:00-18:00", (((480, 720), (780, 1080)),) * 5 + ((),) * 2),
        ("sat-sun 10:00-14:00", ((),) * 5 + (((600, 840),),) * 2),
        (
            "fri-mon 10:00-14:00",
            (((600, 840),), (), (), (), ((600, 840),), ((600, 840),), ((600, 840),)),
        ),
        ("wed 20:00-24:00", ((), (), ((1200, 1440),), (), (), (), ())),
        ("tue 00:00-24:00", ((), FULL_DAY, (), (), (), (), ())),
        ("thu-thu 09:00-10:00", ((), (), (), ((540, 600),), (), (), ())),
        (
            "  MON - Fri   08:00 - 18:00 ;  Sat 10:00-14:00 ; ",
            (*WEEKDAYS_8_18[:5], ((600, 840),), ()),
        ),
        ("Mon, Wed ,fri 9:00-13:00", (((540, 780),), (), ((540, 780),), (), ((540, 780),), (), ())),
        # Overlapping and touching groups merge into one interval per stretch.
        ("mon 08:00-12:00; mon 11:00-13:00, 13:00-14:00", (((480, 840),),) + ((),) * 6),
    ],
)
def test_accepted_forms(working_hours: str, week: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    assert schedule(working_hours).week == week


@pytest.mark.parametrize("working_hours", ["24/7", " 24/7 ", "mon-sun 00:00-24:00"])
def test_always_open_forms(working_hours: str) -> None:
    parsed = schedule(working_hours)
    assert parsed.week == (FULL_DAY,) * 7
    assert parsed.always_open


def test_holidays_parse_with_whitespace_and_empty_items() -> None:
    assert schedule(holidays=" 2026-12-25 , 2027-01-01,").holidays == {
        date(2026, 12, 25),
        date(2027, 1, 1),
    }
    assert schedule(holidays="   ").holidays == frozenset()


def test_timezone_tolerates_whitespace_and_holidays_spoil_always_open() -> None:
    assert Schedule.parse(" Europe/Kyiv ", "24/7").zone == KYIV
    assert not Schedule.parse("UTC", "24/7", "2026-12-25").always_open


def test_working_hours_error_sentence_matches_the_documented_example() -> None:
    assert config_error("Europe/Kyiv", "mon-fry 08:00-18:00") == (
        'WORKING_HOURS "mon-fry 08:00-18:00" is not understood ("mon-fry" is not a day): '
        'use forms like "mon-fri 08:00-18:00", "mon-fri 08:00-18:00; sat 10:00-14:00" or "24/7".'
    )


@pytest.mark.parametrize(
    ("working_hours", "bad_part"),
    [
        ("mon-fri 18:00-08:00", '"18:00-08:00" does not end after it starts'),
        ("mon-fri 22:00-02:00", '"22:00-02:00" does not end after it starts'),
        ("mon-fri 08:00-08:00", '"08:00-08:00" does not end after it starts'),
        ("mon-fri 24:00-24:00", '"24:00-24:00" starts at 24:00'),
        ("mon-fri 08:00-25:00", '"08:00-25:00" has a time outside 00:00-24:00'),
        ("mon-fri 08:00-24:01", '"08:00-24:01" has a time outside 00:00-24:00'),
        ("mon-fri 08:60-09:00", '"08:60-09:00" has a time outside 00:00-24:00'),
        ("mon-fri 8-18", '"8-18" is not a time range'),
        ("mon-fri 08:00-18:00,", '"" is not a time range'),
        ("mon-fri", '"mon-fri" has no hours'),
        ("08:00-18:00", '"08:00-18:00" has no days'),
        ("monday 08:00-18:00", '"monday" is not a day'),
        ("mon-wed-fri 08:00-18:00", '"mon-wed-fri" is not a day range'),
        ("mon,,fri 08:00-18:00", '"mon,,fri" has an empty day'),
        ("24/7; sat 10:00-14:00", '"24/7" must be the whole setting'),
        ("", "it is empty"),
        (" ; ", "it is empty"),
    ],
)
def test_bad_working_hours(working_hours: str, bad_part: str) -> None:
    message = config_error("Europe/Kyiv", working_hours)
    assert message.startswith(f'WORKING_HOURS "{working_hours.strip()}" is not understood (')
    assert bad_part in message
    assert message.endswith(
        ': use forms like "mon-fri 08:00-18:00", "mon-fri 08:00-18:00; sat 10:00-14:00" or "24/7".'
    )
    assert "\n" not in message


def test_holidays_error_sentences() -> None:
    assert config_error("Europe/Kyiv", "24/7", "2026-13-01") == (
        'HOLIDAYS "2026-13-01" is not a list of dates: '
        'use ISO dates separated by commas, like "2026-12-25,2027-01-01".'
    )
    assert config_error("Europe/Kyiv", "24/7", "2026-12-25; 2027-01-01") == (
        'HOLIDAYS "2026-12-25; 2027-01-01" is not a list of dates: '
        'use ISO dates separated by commas, like "2026-12-25,2027-01-01".'
    )


@pytest.mark.parametrize(
    ("holidays", "bad_item"),
    [
        ("2026-12-25, 2026-02-30", "2026-02-30"),
        ("2026-12-25,25.12.2026", "25.12.2026"),
        ("2026-12-25,20270101", "20270101"),
        ("2026-12-25,2026-12-5", "2026-12-5"),
        ("2026-12-25,christmas", "christmas"),
    ],
)
def test_bad_holidays_name_the_bad_date(holidays: str, bad_item: str) -> None:
    assert config_error("Europe/Kyiv", "24/7", holidays) == (
        f'HOLIDAYS "{holidays}" is not a list of dates ("{bad_item}" is not a date): '
        'use ISO dates separated by commas, like "2026-12-25,2027-01-01".'
    )


@pytest.mark.parametrize("timezone", ["Europe/Kiev2", "", "Europe", "../etc/passwd", "/etc/x"])
def test_bad_timezone(timezone: str) -> None:
    assert config_error(timezone, "24/7") == (
        f'TIMEZONE "{timezone}" is not a known time zone: use an IANA name like "Europe/Kyiv".'
    )


def test_config_error_is_a_bridge_error() -> None:
    with pytest.raises(BridgeError):
        Schedule.parse("Mars/Olympus", "24/7")


# --- is_open -------------------------------------------------------------------------------

MONDAY = (2026, 6, 1)  # a Monday outside any clock change


@pytest.mark.parametrize(
    ("hour", "minute", "second", "expected"),
    [
        (0, 0, 0, False),
        (7, 59, 59, False),
        (8, 0, 0, True),
        (12, 0, 0, True),
        (17, 59, 59, True),
        (18, 0, 0, False),
        (23, 59, 59, False),
    ],
)
def test_is_open_around_opening_and_closing(
    hour: int, minute: int, second: int, expected: bool
) -> None:
    assert schedule().is_open(kyiv(*MONDAY, hour, minute, second)) is expected


def test_is_open_accepts_any_aware_zone_and_microseconds() -> None:
    parsed = schedule()
    opening = kyiv(*MONDAY, 8)
    assert parsed.is_open(opening.astimezone(UTC))
    assert parsed.is_open(opening.astimezone(ZoneInfo("America/New_York")))
    assert not parsed.is_open((opening - timedelta(microseconds=1)).astimezone(UTC))
    assert parsed.is_open(datetime(2026, 6, 1, 5, 0, tzinfo=UTC))  # 08:00 +03:00
    assert not parsed.is_open(datetime(2026, 6, 1, 4, 59, 59, tzinfo=UTC))


def test_weekends_and_saturday_group() -> None:
    weekdays_only = schedule()
    with_saturday = schedule("mon-fri 08:00-18:00; sat 10:00-14:00")
    saturday, sunday = (2026, 6, 6), (2026, 6, 7)
    assert not weekdays_only.is_open(kyiv(*saturday, 12))
    assert not weekdays_only.is_open(kyiv(*sunday, 12))
    assert not with_saturday.is_open(kyiv(*saturday, 9, 59, 59))
    assert with_saturday.is_open(kyiv(*saturday, 10))
    assert with_saturday.is_open(kyiv(*saturday, 13, 59, 59))
    assert not with_saturday.is_open(kyiv(*saturday, 14))
    assert not with_saturday.is_open(kyiv(*sunday, 12))
    assert with_saturday.is_open(kyiv(2026, 6, 5, 17))


def test_lunch_break() -> None:
    parsed = schedule("mon-fri 08:00-12:00, 13:00-18:00")
    assert parsed.is_open(kyiv(*MONDAY, 11, 59, 59))
    assert not parsed.is_open(kyiv(*MONDAY, 12))
    assert not parsed.is_open(kyiv(*MONDAY, 12, 59, 59))
    assert parsed.is_open(kyiv(*MONDAY, 13))


def test_holiday_is_closed_all_day() -> None:
    parsed = schedule(holidays="2026-12-25")
    assert not parsed.is_open(kyiv(2026, 12, 25, 12))
    assert parsed.is_open(kyiv(2026, 12, 24, 12))
    assert parsed.is_open(kyiv(2026, 12, 28, 8))


def test_holidays_are_local_dates() -> None:
    parsed = schedule("24/7", holidays="2026-12-25")
    # 2026-12-24 22:30 UTC is already the 25th in Kyiv (+02:00).
    assert not parsed.is_open(datetime(2026, 12, 24, 22, 30, tzinfo=UTC))
    assert parsed.is_open(datetime(2026, 12, 24, 21, 59, 59, tzinfo=UTC))
    assert parsed.is_open(kyiv(2026, 12, 26))


def test_interval_ending_at_midnight() -> None:
    parsed = schedule("mon 20:00-24:00")
    assert parsed.is_open(kyiv(*MONDAY, 23, 59, 59))
    assert not parsed.is_open(kyiv(2026, 6, 2))
    assert not parsed.is_open(kyiv(*MONDAY))
    night_shift = schedule("mon 20:00-24:00; tue 00:00-02:00")
    assert night_shift.is_open(kyiv(2026, 6, 2))
    assert night_shift.is_open(kyiv(2026, 6, 2, 1, 59, 59))
    assert not night_shift.is_open(kyiv(2026, 6, 2, 2))


def test_always_open() -> None:
    parsed = schedule("24/7")
    moments = [
        kyiv(*MONDAY),
        kyiv(2026, 3, 29, 3, 30),
        kyiv(2026, 10, 25, 3, 30),
        kyiv(2026, 12, 25),
    ]
    assert all(parsed.is_open(moment) for moment in moments)
    assert all(parsed.next_opening(moment) is None for moment in moments)
    assert all(parsed.offline_period(moment) is None for moment in moments)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, m: s.is_open(m),
        lambda s, m: s.next_opening(m),
        lambda s, m: s.offline_period(m),
        lambda s, m: s.working_seconds(m, m + timedelta(hours=1)),
        lambda s, m: s.working_seconds(m.replace(tzinfo=UTC), m),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="timezone-aware"):
        call(schedule(), datetime(2026, 6, 1, 12))


# --- next_opening and offline_period -------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (kyiv(2026, 6, 5, 18), kyiv(2026, 6, 8, 8)),  # Friday evening
        (kyiv(2026, 6, 5, 23, 30), kyiv(2026, 6, 8, 8)),
        (kyiv(2026, 6, 7, 23, 59), kyiv(2026, 6, 8, 8)),  # Sunday 23:59
        (kyiv(2026, 6, 1, 0, 0), kyiv(2026, 6, 1, 8)),  # Monday midnight
        (kyiv(2026, 6, 1, 7, 59, 59), kyiv(2026, 6, 1, 8)),  # before opening the same day
        (kyiv(2026, 6, 1, 8), kyiv(2026, 6, 2, 8)),  # open: the opening after this stretch
        (kyiv(2026, 6, 1, 17, 59, 59), kyiv(2026, 6, 2, 8)),
        (kyiv(2026, 6, 5, 12), kyiv(2026, 6, 8, 8)),
    ],
)
def test_next_opening(moment: datetime, expected: datetime) -> None:
    opening = schedule().next_opening(moment)
    assert opening == expected
    assert opening is not None
    assert opening.tzinfo == KYIV
    assert opening.utcoffset() == timedelta(hours=3)


def test_next_opening_with_lunch_and_saturday() -> None:
    parsed = schedule("mon-fri 08:00-12:00, 13:00-18:00; sat 10:00-14:00")
    assert parsed.next_opening(kyiv(*MONDAY, 10)) == kyiv(*MONDAY, 13)
    assert parsed.next_opening(kyiv(*MONDAY, 12, 30)) == kyiv(*MONDAY, 13)
    assert parsed.next_opening(kyiv(2026, 6, 5, 18)) == kyiv(2026, 6, 6, 10)
    assert parsed.next_opening(kyiv(2026, 6, 6, 14)) == kyiv(2026, 6, 8, 8)


def test_next_opening_on_a_holiday_before_a_weekend() -> None:
    parsed = schedule(holidays="2026-12-25")  # a Friday
    monday = kyiv(2026, 12, 28, 8)
    assert parsed.next_opening(kyiv(2026, 12, 24, 12)) == monday  # open on Thursday
    assert parsed.next_opening(kyiv(2026, 12, 24, 18)) == monday
    assert parsed.next_opening(kyiv(2026, 12, 25, 9)) == monday
    assert parsed.next_opening(kyiv(2026, 12, 27, 23, 59)) == monday


def test_next_opening_over_christmas_and_new_year() -> None:
    parsed = schedule(holidays="2026-12-31,2027-01-01")
    assert parsed.next_opening(kyiv(2026, 12, 30, 18)) == kyiv(2027, 1, 4, 8)


def test_next_opening_skips_a_stretch_joined_across_midnight() -> None:
    night_shift = schedule("mon 20:00-24:00; tue 00:00-02:00")
    assert night_shift.next_opening(kyiv(*MONDAY, 21)) == kyiv(2026, 6, 8, 20)
    assert night_shift.next_opening(kyiv(2026, 6, 2, 1)) == kyiv(2026, 6, 8, 20)
    around_the_clock = schedule("mon-sun 00:00-24:00", holidays="2026-12-25")
    assert around_the_clock.next_opening(kyiv(2026, 12, 20, 12)) == kyiv(2026, 12, 26)
    assert around_the_clock.offline_period(kyiv(2026, 12, 25, 12)) == kyiv(2026, 12, 26)


def test_next_opening_across_the_march_clock_change() -> None:
    saturday = kyiv(2026, 3, 28, 20)
    assert saturday.utcoffset() == timedelta(hours=2)
    opening = schedule().next_opening(saturday)
    assert opening == kyiv(2026, 3, 30, 8)
    assert opening is not None
    assert opening.utcoffset() == timedelta(hours=3)
    assert opening.astimezone(UTC) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)


def test_next_opening_across_the_october_clock_change() -> None:
    friday = kyiv(2026, 10, 23, 18)
    assert friday.utcoffset() == timedelta(hours=3)
    opening = schedule().next_opening(friday)
    assert opening == kyiv(2026, 10, 26, 8)
    assert opening is not None
    assert opening.utcoffset() == timedelta(hours=2)
    assert opening.astimezone(UTC) == datetime(2026, 10, 26, 6, 0, tzinfo=UTC)


def test_work_set_inside_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    parsed = schedule("sun 03:30-05:00")
    # 2026-03-29 goes 03:00 → 04:00: 03:30 never shows, so work starts at 04:00 (01:00 UTC).
    march = parsed.next_opening(kyiv(2026, 3, 28, 12))
    assert march == kyiv(2026, 3, 29, 4)
    assert march is not None
    assert march.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert not parsed.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))
    assert parsed.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert not parsed.is_open(datetime(2026, 3, 29, 2, 0, tzinfo=UTC))  # 05:00 +03:00
    assert parsed.working_seconds(kyiv(2026, 3, 28), kyiv(2026, 3, 30)) == 1 * HOUR
    # An interval wholly inside the skipped hour is no working time that day.
    skipped = schedule("sun 03:10-03:50; mon-fri 08:00-18:00")
    assert skipped.working_seconds(kyiv(2026, 3, 28), kyiv(2026, 3, 30)) == 0
    assert skipped.next_opening(kyiv(2026, 3, 28, 12)) == kyiv(2026, 3, 30, 8)
    assert skipped.working_seconds(kyiv(2026, 4, 4), kyiv(2026, 4, 6)) == 40 * 60
    # The jump is found to the second, whatever the skipped wall time.
    for minute in (0, 1, 17, 55, 59):
        late = schedule(f"sun 03:{minute:02d}-04:30").next_opening(kyiv(2026, 3, 28))
        assert late == kyiv(2026, 3, 29, 4)


def test_repeated_wall_time_means_its_first_occurrence() -> None:
    parsed = schedule("sun 03:30-05:00")
    # 2026-10-25 goes 04:00 → 03:00: work starts at the first 03:30 (+03:00) and lasts 2.5 h.
    october = parsed.next_opening(kyiv(2026, 10, 24, 12))
    assert october is not None
    assert october.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert october.utcoffset() == timedelta(hours=3)
    assert parsed.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # the second 03:30
    assert parsed.working_seconds(kyiv(2026, 10, 24), kyiv(2026, 10, 26)) == 2.5 * HOUR


def test_skipped_midnight_in_another_zone() -> None:
    # Chile skips 00:00-01:00 on 2026-09-06; an hour set at midnight does not happen that day.
    parsed = Schedule.parse("America/Santiago", "mon-sun 00:00-01:00")
    santiago = ZoneInfo("America/Santiago")
    saturday_noon = datetime(2026, 9, 5, 12, tzinfo=santiago)
    assert parsed.working_seconds(saturday_noon, saturday_noon + timedelta(days=1)) == 0
    assert parsed.next_opening(saturday_noon) == datetime(2026, 9, 7, tzinfo=santiago)


def test_no_working_time_within_400_days() -> None:
    def mondays_off(weeks: int) -> Schedule:
        mondays = [date(2026, 6, 1) + timedelta(weeks=week) for week in range(weeks)]
        return schedule("mon 08:00-09:00", ",".join(day.isoformat() for day in mondays))

    sunday = kyiv(2026, 5, 31)
    # 60 Mondays off: the next working Monday, 2027-07-26, is 421 days away.
    assert mondays_off(60).next_opening(sunday) is None
    assert mondays_off(60).offline_period(sunday) is None
    assert mondays_off(60).next_opening(kyiv(2026, 5, 24)) == kyiv(2026, 5, 25, 8)
    # 50 Mondays off: 2027-05-17 is 351 days away and is found.
    assert mondays_off(50).next_opening(sunday) == kyiv(2027, 5, 17, 8)
    # Open with no end in sight also has no next opening.
    always = schedule("mon-sun 00:00-24:00", "2020-01-01")
    assert not always.always_open
    assert always.next_opening(kyiv(*MONDAY)) is None


def test_offline_period_is_one_key_per_closed_stretch() -> None:
    parsed = schedule(holidays="2026-12-25")
    assert parsed.offline_period(kyiv(2026, 12, 24, 12)) is None
    christmas_weekend = {
        parsed.offline_period(moment)
        for moment in (
            kyiv(2026, 12, 24, 18),
            kyiv(2026, 12, 25, 3),
            kyiv(2026, 12, 26, 14),
            kyiv(2026, 12, 28, 7, 59, 59),
        )
    }
    assert christmas_weekend == {kyiv(2026, 12, 28, 8)}
    monday_night = parsed.offline_period(kyiv(2026, 12, 28, 19))
    tuesday_night = parsed.offline_period(kyiv(2026, 12, 29, 19))
    assert monday_night == kyiv(2026, 12, 29, 8)
    assert tuesday_night == kyiv(2026, 12, 30, 8)
    assert parsed.offline_period(kyiv(2026, 12, 29, 6)) == monday_night


def test_offline_period_over_the_lunch_break() -> None:
    parsed = schedule("mon-fri 08:00-12:00, 13:00-18:00")
    assert parsed.offline_period(kyiv(*MONDAY, 12)) == kyiv(*MONDAY, 13)
    assert parsed.offline_period(kyiv(*MONDAY, 12, 59)) == kyiv(*MONDAY, 13)
    assert parsed.offline_period(kyiv(*MONDAY, 18)) == kyiv(2026, 6, 2, 8)


# --- working_seconds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (kyiv(2026, 6, 5, 17), kyiv(2026, 6, 8, 9), 2),  # across a weekend
        (kyiv(2026, 6, 1, 10), kyiv(2026, 6, 1, 11, 30), 1.5),  # inside one day
        (kyiv(2026, 6, 1, 7), kyiv(2026, 6, 1, 19), 10),  # a whole day from outside
        (kyiv(2026, 6, 1, 17, 30), kyiv(2026, 6, 2, 8, 30), 1),  # overnight
        (kyiv(2026, 6, 1), kyiv(2026, 6, 8), 50),  # a week
        (kyiv(2026, 6, 6, 1), kyiv(2026, 6, 7, 23), 0),  # inside a weekend
        (kyiv(2026, 6, 1, 12), kyiv(2026, 6, 1, 12), 0),
        (kyiv(2026, 6, 1, 12), kyiv(2026, 6, 1, 11), 0),  # end before start
        (kyiv(2026, 3, 27, 17), kyiv(2026, 3, 30, 9), 2),  # across the March change
        (kyiv(2026, 10, 23, 17), kyiv(2026, 10, 26, 9), 2),  # across the October change
        (kyiv(2026, 12, 24, 17), kyiv(2026, 12, 28, 9), 2),  # with a holiday
        (kyiv(2026, 12, 21), kyiv(2026, 12, 28), 40),
    ],
)
def test_working_seconds(start: datetime, end: datetime, hours: float) -> None:
    parsed = schedule(holidays="2026-12-25")
    assert parsed.working_seconds(start, end) == hours * HOUR
    assert parsed.working_seconds(start.astimezone(UTC), end.astimezone(UTC)) == hours * HOUR


def test_working_seconds_with_lunch_and_microseconds() -> None:
    parsed = schedule("mon-fri 08:00-12:00, 13:00-18:00")
    assert parsed.working_seconds(kyiv(*MONDAY, 11), kyiv(*MONDAY, 14)) == 2 * HOUR
    start = kyiv(*MONDAY, 9) + timedelta(microseconds=250_000)
    assert parsed.working_seconds(start, kyiv(*MONDAY, 9, 0, 1)) == 0.75


def test_working_seconds_count_real_hours_on_clock_change_days() -> None:
    sundays = schedule("sun 00:00-24:00")
    assert sundays.working_seconds(kyiv(2026, 3, 28), kyiv(2026, 3, 31)) == 23 * HOUR
    assert sundays.working_seconds(kyiv(2026, 10, 24), kyiv(2026, 10, 27)) == 25 * HOUR
    night = schedule("sun 02:00-05:00")
    assert night.working_seconds(kyiv(2026, 3, 28), kyiv(2026, 3, 31)) == 2 * HOUR
    assert night.working_seconds(kyiv(2026, 10, 24), kyiv(2026, 10, 27)) == 4 * HOUR
    assert night.working_seconds(kyiv(2026, 6, 6), kyiv(2026, 6, 9)) == 3 * HOUR
    around_the_clock = schedule("24/7")
    october_week = around_the_clock.working_seconds(kyiv(2026, 10, 19), kyiv(2026, 10, 26))
    assert october_week == (7 * 24 + 1) * HOUR


def test_working_seconds_over_half_a_year() -> None:
    holidays = [date(2026, 1, 1), date(2026, 1, 7), date(2026, 3, 9), date(2026, 5, 1)]
    parsed = schedule(holidays=",".join(day.isoformat() for day in holidays))
    days = (date(2026, 1, 1) + timedelta(days=n) for n in range(181))
    working_days = sum(1 for day in days if day.weekday() < 5 and day not in holidays)
    assert parsed.working_seconds(kyiv(2026, 1, 1), kyiv(2026, 7, 1)) == working_days * 10 * HOUR


# --- describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("working_hours", "description"),
    [
        ("mon-fri 08:00-18:00", "Mon–Fri 08:00–18:00 (Europe/Kyiv)"),
        (
            "mon-fri 08:00-18:00; sat 10:00-14:00",
            "Mon–Fri 08:00–18:00, Sat 10:00–14:00 (Europe/Kyiv)",
        ),
        (
            "mon-fri 08:00-12:00, 13:00-18:00; sat 10:00-14:00",
            "Mon–Fri 08:00–12:00, 13:00–18:00; Sat 10:00–14:00 (Europe/Kyiv)",
        ),
        ("mon,wed,fri 09:00-13:00", "Mon, Wed, Fri 09:00–13:00 (Europe/Kyiv)"),
        ("fri-mon 10:00-16:00", "Fri–Mon 10:00–16:00 (Europe/Kyiv)"),
        ("sat-sun 20:00-24:00", "Sat–Sun 20:00–24:00 (Europe/Kyiv)"),
        ("24/7", "24/7"),
        ("mon-sun 00:00-24:00", "24/7"),
    ],
)
def test_describe(working_hours: str, description: str) -> None:
    assert schedule(working_hours).describe() == description


# --- properties ----------------------------------------------------------------------------

PROPERTY_SCHEDULES = [
    schedule(),
    schedule("mon-fri 08:00-12:00, 13:00-18:00; sat 10:00-14:00", "2026-12-25,2027-01-01"),
    schedule("sun 02:00-05:00; sat 03:00-04:00; mon 20:00-24:00; tue 00:00-02:00"),
    schedule("mon-sun 00:00-24:00", "2026-03-29,2026-10-25"),
    Schedule.parse("America/New_York", "mon-fri 09:00-17:00; sun 01:00-03:00", "2026-07-03"),
    schedule("sun 03:10-03:50, 03:55-04:30; sat 23:00-24:00; mon 00:00-00:30"),
    Schedule.parse("America/Santiago", "mon-sun 00:00-01:00, 23:00-24:00"),
]
START = datetime(2025, 12, 1, tzinfo=UTC)
CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Kyiv
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),  # Santiago
    datetime(2026, 9, 6, 4, tzinfo=UTC),
]
near_clock_changes = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(-3 * 24 * 3600, 3 * 24 * 3600),
)
moments = st.one_of(
    st.integers(0, 400 * 24 * 3600).map(lambda seconds: START + timedelta(seconds=seconds)),
    near_clock_changes,
)
schedules = st.sampled_from(PROPERTY_SCHEDULES)
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=200)


@deterministic
@given(schedules, moments, st.floats(0, 1))
def test_next_opening_ends_the_offline_period(
    parsed: Schedule, moment: datetime, fraction: float
) -> None:
    opening = parsed.next_opening(moment)
    if opening is None:  # open with no closed time in the next 400 days
        assert parsed.is_open(moment)
        assert parsed.working_seconds(moment, moment + timedelta(days=30)) == 30 * 24 * HOUR
        return
    assert opening > moment
    assert parsed.is_open(opening)
    assert not parsed.is_open(opening - timedelta(microseconds=1))
    if parsed.is_open(moment):
        assert parsed.offline_period(moment) is None
        assert parsed.working_seconds(moment, opening) < (opening - moment).total_seconds()
    else:
        assert parsed.offline_period(moment) == opening
        assert parsed.working_seconds(moment, opening) == 0
        later = moment + (opening - moment) * fraction
        if later < opening:
            assert parsed.offline_period(later) == opening


@deterministic
@given(schedules, moments, st.integers(0, 40 * 24 * 3600), st.integers(0, 40 * 24 * 3600))
def test_working_seconds_add_up_over_a_split_point(
    parsed: Schedule, start: datetime, first: int, second: int
) -> None:
    middle = start + timedelta(seconds=first)
    end = middle + timedelta(seconds=second)
    whole = parsed.working_seconds(start, end)
    assert whole == parsed.working_seconds(start, middle) + parsed.working_seconds(middle, end)
    assert 0 <= whole <= (end - start).total_seconds()


@settings(derandomize=True, database=None, deadline=None, max_examples=40)
@given(schedules, moments)
def test_working_seconds_match_minute_by_minute_counting(
    parsed: Schedule, moment: datetime
) -> None:
    start = moment.replace(second=0)
    end = start + timedelta(days=2)
    open_minutes = sum(
        parsed.is_open(start + timedelta(minutes=step)) for step in range(2 * 24 * 60)
    )
    assert parsed.working_seconds(start, end) == open_minutes * 60
