"""The inbox's done mark shares the handler's last commit (`write_done`); real SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bridge.errors import RetryLater
from bridge.group_commit import BatchedWrites
from bridge.inbox import Inbox, apart, write_done
from bridge.lanes import Lanes
from bridge.model import CustomerProfile, Platform
from bridge.ports import UnitOfWork
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.tables import InboxRow
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from tests.core_fakes import FixedClock

PROFILE = CustomerProfile(Platform.TELEGRAM, "7", "Olena")


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    await migrate(engine)
    yield SqlUnitOfWorkFactory(make_sessions(engine))
    await engine.dispose()


async def states(uow: SqlUnitOfWorkFactory) -> dict[str, str]:
    async with uow() as tx:
        rows = await tx._session.execute(select(InboxRow.key, InboxRow.state))
        return {row.key: row.state for row in rows}


async def bookkeeping(tx: UnitOfWork) -> None:
    """The handler's own last write (the relay's links and conversation, say)."""
    await tx.customers.upsert(PROFILE, FixedClock().now())


async def booked(uow: SqlUnitOfWorkFactory) -> bool:
    async with uow() as tx:
        found = await tx.customers.find_with_latest(PROFILE.platform, PROFILE.external_id)
    return found is not None


async def test_done_with_the_handlers_commit_and_not_retried_after_it(
    uow: SqlUnitOfWorkFactory,
) -> None:
    calls: list[str] = []
    writes = BatchedWrites(uow)

    async def handler(payload: Mapping[str, Any], lane: str) -> None:
        calls.append(payload["n"])
        await write_done(writes, bookkeeping)
        assert (await states(uow))[f"k{payload['n']}"] == "done"  # with that commit
        assert await booked(uow)
        raise RetryLater("an auto-reply after the relay failed")

    inbox = Inbox(uow, Lanes(), FixedClock(), {"test": handler}, first_delay=0.01)
    task = await inbox.accept("k1", "lane", "test", {"n": "1"})
    assert task is not None
    await task
    assert calls == ["1"]  # a retry would relay the message again
    assert await states(uow) == {"k1": "done"}


async def test_work_apart_leaves_the_update_to_the_inbox(
    uow: SqlUnitOfWorkFactory,
) -> None:
    writes = BatchedWrites(uow)

    async def handler(payload: Mapping[str, Any], lane: str) -> None:
        with apart():  # e.g. an album flushed by this update: not this update's work
            await write_done(writes, bookkeeping)
        assert await booked(uow)
        assert (await states(uow))["k1"] == "pending"

    inbox = Inbox(uow, Lanes(), FixedClock(), {"test": handler})
    task = await inbox.accept("k1", "lane", "test", {"n": "1"})
    assert task is not None
    await task
    assert await states(uow) == {"k1": "done"}  # by the inbox itself


async def test_a_database_hiccup_is_retried_not_given_up(uow: SqlUnitOfWorkFactory) -> None:
    calls: list[str] = []

    async def handler(payload: Mapping[str, Any], lane: str) -> None:
        calls.append(payload["n"])
        if len(calls) == 1:  # what SQLAlchemy raises when the pool wait or the lock ran out
            raise PoolTimeout("QueuePool limit of size 1 overflow 0 reached")
        if len(calls) == 2:
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))

    inbox = Inbox(uow, Lanes(), FixedClock(), {"test": handler}, first_delay=0.01)
    task = await inbox.accept("k1", "lane", "test", {"n": "1"})
    assert task is not None
    await task
    assert calls == ["1", "1", "1"]
    assert await states(uow) == {"k1": "done"}
