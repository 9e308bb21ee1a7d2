"""The service report as a picture for the operators' chat: a phone-sized PNG.

Built on `matplotlib.figure.Figure` with the Agg canvas, never pyplot: pyplot keeps global
figures and picks a backend at import, neither welcome in a long-running bot.
"""

from __future__ import annotations

import io
import math
from datetime import timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bridge.stats import Report, duration

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 100
MAX_TICKS = 8
BAR_COLOUR = "#3b82c4"
LINE_COLOUR = "#e07a1f"
SLA_COLOUR = "#c0392b"
GRID_COLOUR = "#d9d9d9"
FONT = 20


def render_chart(report: Report) -> bytes:
    """Conversations per day above, median first response per day below, SLA dashed."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"Support: {_period(report)}", fontsize=FONT + 8, fontweight="bold")
    counts_axes, waits_axes = figure.subplots(2, 1, sharex=True)
    days = [day for day, _count, _wait in report.daily]
    positions = list(range(len(days)))
    labels = [day.strftime("%d %b") if len(days) > 7 else day.strftime("%a\n%d %b") for day in days]

    _style(counts_axes, f"Conversations: {report.conversations}")
    _style(
        waits_axes, f"First response, daily median (all: {duration(report.first_response_median)})"
    )
    if report.conversations == 0 or not days:
        for axes in (counts_axes, waits_axes):
            axes.set_xticks([])
            axes.set_yticks([])
            for spine in axes.spines.values():
                spine.set_visible(False)
            axes.text(
                0.5,
                0.5,
                "No conversations in this period",
                transform=axes.transAxes,
                ha="center",
                va="center",
                fontsize=FONT + 4,
                color="#555555",
            )
        return _png(figure)

    counts = [count for _day, count, _wait in report.daily]
    bars = counts_axes.bar(positions, counts, color=BAR_COLOUR, width=0.7)
    if len(days) <= 14:
        counts_axes.bar_label(bars, fontsize=FONT - 2, padding=4)
    counts_axes.set_ylim(0, max(counts) * 1.2 + 1)
    counts_axes.yaxis.set_major_locator(MaxNLocator(integer=True))

    waits = [wait for _day, _count, wait in report.daily]
    known = [wait for wait in waits if wait is not None]
    unit, scale = _unit(max([*known, report.sla_seconds]))
    values = [math.nan if wait is None else wait / scale for wait in waits]
    waits_axes.plot(
        positions, values, color=LINE_COLOUR, linewidth=4, marker="o", markersize=12, label="median"
    )
    waits_axes.axhline(
        report.sla_seconds / scale,
        color=SLA_COLOUR,
        linestyle="--",
        linewidth=3,
        label=f"SLA {duration(report.sla_seconds)}",
    )
    waits_axes.set_ylabel(unit, fontsize=FONT)
    waits_axes.set_ylim(0, max([*(v / scale for v in known), report.sla_seconds / scale]) * 1.25)
    waits_axes.legend(fontsize=FONT - 2, loc="upper left", frameon=False)

    step = max(1, math.ceil(len(days) / MAX_TICKS))
    waits_axes.set_xticks(positions[::step], labels[::step])
    waits_axes.set_xlim(-0.6, len(days) - 0.4)
    return _png(figure)


def _period(report: Report) -> str:
    """ "14 – 20 Nov 2026" style: the end is exclusive, so a period ending at midnight
    ends the day before."""
    first = report.since
    last = max(first, report.until - timedelta(microseconds=1))
    if first.date() == last.date():
        return first.strftime("%d %b %Y")
    if first.year != last.year:
        return f"{first.strftime('%d %b %Y')} – {last.strftime('%d %b %Y')}"
    return f"{first.strftime('%d %b')} – {last.strftime('%d %b %Y')}"


def _unit(largest_seconds: float) -> tuple[str, float]:
    """Seconds for fast teams, minutes or hours when waits are long: readable tick labels."""
    if largest_seconds < 120:
        return "seconds", 1.0
    if largest_seconds < 2 * 3600:
        return "minutes", 60.0
    return "hours", 3600.0


def _style(axes: Axes, title: str) -> None:
    axes.set_title(title, fontsize=FONT + 4, loc="left")
    axes.tick_params(labelsize=FONT - 2)
    axes.grid(axis="y", color=GRID_COLOUR)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
