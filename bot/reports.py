"""Service-quality reports for `/stats` in the operator group and `support-bridge stats`."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Collection
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.clock import Clock
from bridge.departments import MAIN
from bridge.stats import (
    ConversationFigures,
    Report,
    conversation_figures,
    csv_rows,
    period,
    summarize,
)
from bridge.working_hours import Schedule


class Reports:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        schedule: Schedule,
        sla_seconds: float,
        exclude_offline: bool,
        default_department: str = MAIN,
    ) -> None:
        self._default = default_department  # a customer with none is in it
        self._sessions = sessions
        self._clock = clock
        self._schedule = schedule
        self._sla = sla_seconds
        self._exclude_offline = exclude_offline

    @property
    def zone(self) -> tzinfo:
        return self._schedule.zone

    async def figures(
        self, name: str, departments: Collection[str] | None = None
    ) -> tuple[list[ConversationFigures], datetime, datetime]:
        """`departments`: only their customers' conversations (None: everyone's)."""
        since, until = period(name, self._clock.now(), self.zone)
        schedule = self._schedule if self._exclude_offline else None
        figures = await conversation_figures(self._sessions, since, until, schedule)
        if departments is not None:
            figures = [f for f in figures if (f.department or self._default) in departments]
        return figures, since, until

    async def report(self, name: str, departments: Collection[str] | None = None) -> Report:
        figures, since, until = await self.figures(name, departments)
        return summarize(figures, since, until, self._sla, self.zone)

    async def chart(self, report: Report) -> bytes:
        """Drawing takes a moment of CPU: keep it off the event loop (and matplotlib's import
        off the start-up)."""
        from bot.stats_chart import render_chart

        return await asyncio.to_thread(render_chart, report)

    async def export_csv(self, name: str, path: Path) -> int:
        figures, _, _ = await self.figures(name)
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(csv_rows(figures))
        return len(figures)
