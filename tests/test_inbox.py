"""The inbox on real SQLite: a command's state, its deliveries and its done mark share one
commit; the database away is waited out, never given up on; a redelivery is a no-op; a
command nobody can handle is set aside and said so."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.commands import CustomerWrote
from bridge.decisions import Decisions
from bridge.faq.source import FaqSource
from bridge.handlers.context import Rules
from bridge.inbox import Inbox
from bridge.lanes import Lanes
from bridge.model import (
    ContentKind,
    CustomerProfile,
    InboxItem,
    IncomingMessage,
    MessageRef,
    NewUpdate,
    OutboxItem,
    Platform,
)
from bridge.screens import Screens
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.tables import InboxRow, OutboxRow
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from bridge.texts import Texts
from tests.core_fakes import FixedClock

PROFILE = CustomerProfile(Platform.TELEGRAM, "7", "Olena")
TEXTS = Texts.shipped("uk")


class Setup:
    def __init__(self, db: Path, uow: SqlUnitOfWorkFactory) -> None:
        self.db = db
        self.uow = uow
        self.handed: list[OutboxItem] = []
        self.reported: list[tuple[str, str]] = []
        rules = Rules(TEXTS, Screens(TEXTS), FaqSource(None), "group:-100", {})
        self.decisions = Decisions(uow, rules, FixedClock(), self._hand)
        self.inbox = Inbox(
            uow, self.decisions, Lanes(), FixedClock(), first_delay=0.05, on_give_up=self._report
        )

    def _hand(self, items: object, dropped: object) -> None:
        self.handed.extend(items)  # type: ignore[call-overload]

    async def _report(self, item: InboxItem, why: str) -> None:
        self.reported.append((item.key, why))

    async def states(self) -> dict[str, str]:
        async with self.uow() as tx:
            rows = await tx._session.execute(select(InboxRow.key, InboxRow.state))
            return {row.key: row.state for row in rows}

    async def outbox_kinds(self) -> list[str]:
        async with self.uow() as tx:
            return list(await tx._session.scalars(select(OutboxRow.kind).order_by(OutboxRow.id)))


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    db = tmp_path / "inbox.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await migrate(engine)
    yield Setup(db, SqlUnitOfWorkFactory(make_sessions(engine)))
    await engine.dispose()


def wrote(text: str, message_id: str = "1") -> CustomerWrote:
    ref = MessageRef(Platform.TELEGRAM, "7", message_id)
    return CustomerWrote(PROFILE, IncomingMessage(ref, ContentKind.TEXT, text))


async def test_state_deliveries_and_done_mark_are_one_commit(setup: Setup) -> None:
    task = await setup.inbox.accept("telegram:1", "tg:7", "telegram", wrote("hello"))
    assert task is not None
    await task
    assert await setup.states() == {"telegram:1": "done"}
    kinds = await setup.outbox_kinds()
    assert kinds[0] == "post_words" and "show_topic_state" in kinds
    assert [item.kind for item in setup.handed] == kinds  # handed over after the commit
    assert await setup.inbox.accept("telegram:1", "tg:7", "telegram", wrote("hello")) is None
    assert len(await setup.outbox_kinds()) == len(kinds)  # a redelivery decides nothing


async def test_a_locked_database_is_waited_out(setup: Setup) -> None:
    holder = sqlite3.connect(setup.db, timeout=0)
    holder.execute("PRAGMA busy_timeout=0")
    holder.execute("BEGIN EXCLUSIVE")
    task = asyncio.ensure_future(setup.inbox.accept("telegram:2", "tg:7", "telegram", wrote("x")))
    await asyncio.sleep(0)
    done, _ = await asyncio.wait([task], timeout=0.5)  # stuck behind the lock, not failed
    assert not done
    holder.rollback()
    holder.close()
    handling = await task
    assert handling is not None
    await handling
    assert await setup.states() == {"telegram:2": "done"}
    assert (await setup.outbox_kinds()).count("post_words") == 1


async def test_a_command_nobody_can_handle_is_set_aside_and_reported(setup: Setup) -> None:
    update = NewUpdate("telegram:3", "tg:7", "telegram", {}, FixedClock().now(), "from_the_future")
    async with setup.uow() as tx:
        await tx.inbox.add_many([update])
        await tx.commit()
    assert await setup.inbox.resume() == 1
    await setup.inbox._lanes.drain(5)
    assert await setup.states() == {"telegram:3": "failed"}
    assert setup.reported == [("telegram:3", "KeyError")]
