"""The pacing windows: exact sliding windows, first come first served, albums count per item."""

from __future__ import annotations

from bot.telegram.rate_limit import MARGIN, PAD, Window


def test_one_per_second_per_chat_spaces_sends() -> None:
    window = Window.per_second(1)
    assert window is not None
    assert window.reserve(7, 1, now=100.0) == 100.0
    assert window.reserve(7, 1, now=100.1) == 100.0 + MARGIN + PAD
    assert window.reserve(8, 1, now=100.1) == 100.1  # another chat is not held up
    assert window.reserve(7, 1, now=105.0) == 105.0  # the window has passed


def test_group_window_allows_a_burst_then_waits_for_the_oldest_to_expire() -> None:
    window = Window(20, 60)
    moments = [window.reserve(-100, 1, now=10.0 + i * 0.01) for i in range(21)]
    assert moments[:20] == [10.0 + i * 0.01 for i in range(20)]
    assert moments[20] == 10.0 + 60 * MARGIN + PAD  # waits for the first to leave the window


def test_albums_count_per_item_and_order_is_kept() -> None:
    window = Window(3, 1)
    assert window.reserve("all", 3, now=0.0) == 0.0
    later = window.reserve("all", 2, now=0.5)
    assert later == MARGIN + PAD  # both wait until the first three leave the window
    assert window.reserve("all", 1, now=0.6) == MARGIN + PAD  # the 3rd slot of that window
    assert window.reserve("all", 1, now=0.7) == 2 * (MARGIN + PAD)  # then the next window


def test_zero_turns_a_limit_off_and_fractions_stretch_the_window() -> None:
    assert Window.per_second(0) is None
    half = Window.per_second(0.5)
    assert half is not None
    assert (half.limit, half.seconds) == (1, 2 * MARGIN + PAD)
