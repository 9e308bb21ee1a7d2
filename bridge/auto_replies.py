"""What the bot itself says after relaying a customer's message.

Outside working hours: one offline reply per offline period per conversation, saying when
operators are back, unless an operator answered in this conversation within the silence window
(someone working late must not be contradicted). In working hours: an acknowledgement with the
expected wait for a new conversation. Any time: an FAQ answer when the text closely matches one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from html import escape

from bridge.faq.source import FaqSource
from bridge.model import ContentKind, Conversation, Customer, IncomingMessage
from bridge.ports import UnitOfWork
from bridge.screens import Screen, Screens
from bridge.working_hours import Schedule

RECENT = timedelta(days=7)
RECENT_LIMIT = 50


@dataclass
class Plan:
    """Screens to send to the customer, notes for the topic, the conversation to save."""

    conversation: Conversation
    screens: list[Screen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class AutoReplies:
    def __init__(
        self,
        screens: Screens,
        schedule: Schedule | None,
        faq: FaqSource | None,
        silence: timedelta,
    ) -> None:
        self._screens = screens
        self._texts = screens.texts
        self._schedule = schedule
        self._faq = faq
        self._silence = silence

    def is_offline(self, moment: datetime) -> bool:
        return self._schedule is not None and not self._schedule.is_open(moment)

    async def plan(
        self,
        tx: UnitOfWork,
        now: datetime,
        customer: Customer,
        conversation: Conversation,
        messages: Sequence[IncomingMessage],
        is_new: bool,
    ) -> Plan:
        language = self._texts.language_for(customer.language)
        plan = Plan(conversation)
        if self._schedule is not None and not self._schedule.is_open(now):
            period = self._schedule.offline_period(now)
            last = conversation.last_operator_message_at
            operator_is_here = last is not None and now - last < self._silence
            if (
                period is not None
                and conversation.offline_reply_for != period
                and (not operator_is_here)
            ):
                plan.screens.append(self._offline(period, now, language))
                plan.conversation = replace(plan.conversation, offline_reply_for=period)
        elif is_new:
            plan.screens.append(await self._acknowledgement(tx, now, language))
        text = " ".join(m.text for m in messages if m.kind is ContentKind.TEXT and m.text)
        if text and self._faq is not None:
            entry = self._faq.matcher.best(text)
            ref = f"{entry.category_id}/{entry.id}" if entry else None
            if entry is not None and ref != conversation.faq_offered:
                plan.screens.append(self._screens.suggestion(entry, language))
                plan.notes.append(
                    f"🤖 Offered the FAQ answer «{escape(entry.question.get('uk'))}»; "
                    "waiting to hear if it helped."
                )
                plan.conversation = replace(plan.conversation, faq_offered=ref, faq_helped=None)
        return plan

    def _offline(self, opening: datetime, now: datetime, language: str) -> Screen:
        assert self._schedule is not None
        local_now = now.astimezone(self._schedule.zone)
        opening = opening.astimezone(self._schedule.zone)
        time = opening.strftime("%H:%M")
        days = (opening.date() - local_now.date()).days
        if days == 0:
            when = self._texts.get("when_today", language, time=time)
        elif days == 1:
            when = self._texts.get("when_tomorrow", language, time=time)
        else:
            weekday = self._texts.get(f"weekday_{opening.weekday()}", language)
            when = self._texts.get("when_weekday", language, weekday=weekday, time=time)
        zone = self._texts.get("zone_label", language)
        return self._screens.text("offline", language, when=when, zone=zone)

    async def _acknowledgement(self, tx: UnitOfWork, now: datetime, language: str) -> Screen:
        wait = await self.expected_wait(tx, now)
        if wait is None:
            return self._screens.text("ack_unknown", language)
        if wait <= 60:
            return self._screens.text("ack_minute", language)
        return self._screens.text("ack_minutes", language, minutes=max(2, round(wait / 60)))

    async def expected_wait(self, tx: UnitOfWork, now: datetime) -> float | None:
        """Median first-response time of recent conversations, in working seconds."""
        recent = await tx.conversations.recent_first_responses(now - RECENT, RECENT_LIMIT)
        waits = []
        for conversation in recent:
            answered = conversation.first_operator_reply_at
            if answered is None:
                continue
            if self._schedule is not None:
                waits.append(self._schedule.working_seconds(conversation.opened_at, answered))
            else:
                waits.append((answered - conversation.opened_at).total_seconds())
        return statistics.median(waits) if waits else None
