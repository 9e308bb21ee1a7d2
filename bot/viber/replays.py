"""Refusing signed Viber callbacks that are too old, or too far ahead, to come from Viber now.

A signature proves Viber sent a body once, not that it sends it now: someone who recorded a
callback could post it again at any time. Viber itself repeats a callback only for an hour:
"When a webhook appears offline, Viber will retry the callback several times for an hour until
the HTTP code 200 OK is received" (https://developers.viber.com/docs/faq/). So a callback whose
`timestamp` (epoch milliseconds, set when Viber first sent it) is older than that hour, plus a
margin for clocks that disagree, is a replay; so is one stamped well in the future.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

VIBER_RETRY_WINDOW = timedelta(hours=1)  # the FAQ above: retries go on "for an hour"
CLOCK_SKEW = timedelta(minutes=5)  # our clock and Viber's may disagree by this much
OLDEST_ACCEPTED = VIBER_RETRY_WINDOW + CLOCK_SKEW
NEWEST_ACCEPTED = CLOCK_SKEW


def timestamp_of(raw: dict[str, object]) -> datetime | None:
    """The callback's `timestamp` as a moment, or None when it is not epoch milliseconds."""
    value = raw.get("timestamp")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def replay_age(sent: datetime, now: datetime) -> timedelta | None:
    """How far a callback's time lies outside what Viber sends; None when it lies inside.

    Positive: older than Viber's retries go on; negative: from the future.
    """
    age = now - sent
    if age > OLDEST_ACCEPTED or age < -NEWEST_ACCEPTED:
        return age
    return None
