"""The core on its own: commands through the handlers, deliveries through the real delivery
service, and fakes of the ports (desk, channel, button answers, clock) at the edge. Storage is
real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bridge.auto_replies import AutoReplies
from bridge.commands import Command, CustomerWrote, OperatorWrote
from bridge.decisions import Decisions
from bridge.delivery.budget import Budgets
from bridge.delivery.perform import Performer
from bridge.delivery.service import DeliveryService
from bridge.faq.source import FaqSource
from bridge.handlers import handle
from bridge.handlers.context import Rules
from bridge.model import (
    ContentKind,
    CustomerProfile,
    IncomingMessage,
    MessageRef,
    Operator,
    Platform,
)
from bridge.ports import NoMetrics
from bridge.screens import Screens
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from bridge.texts import Texts
from tests.core_fakes import FakeAnswers, FakeChannel, FakeDesk, FixedClock
from tests.harness import eventually

TEXTS = Texts.shipped("uk")
DESK = "group:-100"


class World:
    def __init__(
        self,
        uow: SqlUnitOfWorkFactory,
        decisions: Decisions,
        delivery: DeliveryService,
        desk: FakeDesk,
        channel: FakeChannel,
        answers: FakeAnswers,
        clock: FixedClock,
    ) -> None:
        self.uow, self.decisions, self.delivery = uow, decisions, delivery
        self.desk, self.channel, self.answers, self.clock = desk, channel, answers, clock
        self._ids = 0

    async def do(self, command: Command) -> None:
        """Handle a command as the inbox would, then wait until its deliveries are made."""
        await self.decisions.run(lambda ctx: handle(command, ctx))
        await self.settled()

    async def settled(self) -> None:
        await eventually(self._idle, within=5)

    async def _idle(self) -> bool:
        await asyncio.sleep(0)
        return self.delivery.idle

    def customer_text(
        self, text: str, who: str = "501", reply_to: str | None = None
    ) -> IncomingMessage:
        self._ids += 1
        ref = MessageRef(Platform.TELEGRAM, who, str(self._ids))
        return IncomingMessage(ref, ContentKind.TEXT, text, reply_to_message_id=reply_to)

    def operator_text(
        self, text: str, message_id: int, reply_to: int | None = None
    ) -> IncomingMessage:
        ref = MessageRef(Platform.TELEGRAM, "-100", str(message_id))
        reply = str(reply_to) if reply_to else None
        return IncomingMessage(ref, ContentKind.TEXT, text, reply_to_message_id=reply)

    async def customer_says(self, profile: CustomerProfile, text: str, **kwargs: Any) -> None:
        await self.do(
            CustomerWrote(profile, self.customer_text(text, profile.external_id, **kwargs))
        )

    async def operator_says(
        self, topic_id: int, operator: Operator, text: str, message_id: int, **kwargs: Any
    ) -> None:
        await self.do(
            OperatorWrote(topic_id, operator, self.operator_text(text, message_id, **kwargs))
        )

    def only_topic(self) -> int:
        assert len(self.desk.topics) == 1, self.desk.topics
        return next(iter(self.desk.topics))


@asynccontextmanager
async def core_world(
    db: Path,
    clock: FixedClock | None = None,
    auto: AutoReplies | None = None,
    **rules: Any,
) -> AsyncIterator[World]:
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await migrate(engine)
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    desk, channel, answers = FakeDesk(), FakeChannel(), FakeAnswers()
    clock = clock or FixedClock()
    faq = FaqSource(None)
    settings = Rules(
        texts=TEXTS,
        screens=Screens(TEXTS),
        faq=faq,
        desk=DESK,
        channels={Platform.TELEGRAM: channel.free_window},
        auto=auto,
        gather=timedelta(0),  # the clock stands still: nothing waits for what follows
        **{"ratings": False, **rules},
    )
    decisions = Decisions(uow, settings, clock)
    performer = Performer(
        uow, {DESK: desk}, {Platform.TELEGRAM: channel}, answers, settings, NoMetrics(), clock
    )
    delivery = DeliveryService(
        uow, performer, clock, [DESK], Budgets(0, lambda: 0.0), first_delay=0.01
    )
    decisions.notify = delivery.notify
    await delivery.start()
    try:
        yield World(uow, decisions, delivery, desk, channel, answers, clock)
    finally:
        await delivery.stop(1)
        await engine.dispose()
