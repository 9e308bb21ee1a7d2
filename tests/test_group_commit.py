"""Group commit (`InboxWriter`, `BatchedWrites`) on real SQLite and PostgreSQL (when configured)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.group_commit import BatchedWrites, InboxWriter
from bridge.model import CustomerProfile, NewUpdate, Platform
from bridge.ports import UnitOfWork
from bridge.storage.database import make_sessions
from bridge.storage.tables import InboxRow
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def commits_of(engine: AsyncEngine) -> list[int]:
    """Every COMMIT the database gets, counted at the connection."""
    commits: list[int] = []
    event.listen(engine.sync_engine, "commit", lambda _connection: commits.append(1))
    return commits


def update(key: str, payload: Any = None) -> NewUpdate:
    return NewUpdate(key, f"lane:{key}", "telegram", payload or {"key": key}, NOW)


async def stored(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(InboxRow.key, InboxRow.id))
        return {row.key: row.id for row in rows}


async def test_updates_arriving_together_share_a_commit_and_keep_their_order(
    engine: AsyncEngine,
) -> None:
    writer = InboxWriter(SqlUnitOfWorkFactory(make_sessions(engine)))
    commits = commits_of(engine)
    keys = [f"k{n}" for n in range(60)]
    ids = await asyncio.gather(*(writer.add(update(key)) for key in keys))
    assert await stored(engine) == dict(zip(keys, ids, strict=True))  # all committed
    assert ids == sorted(ids)  # ids in order of arrival: lanes are worked in that order
    assert len(commits) == 1  # all arrived before the first write began

    assert await writer.add(update("alone")) is not None  # nothing waits for company
    assert await writer.add(update("again")) is not None
    assert len(commits) == 3


async def test_a_key_is_stored_once_within_a_batch_and_across_batches(
    engine: AsyncEngine,
) -> None:
    writer = InboxWriter(SqlUnitOfWorkFactory(make_sessions(engine)))
    first = await writer.add(update("seen"))
    assert first is not None
    results = await asyncio.gather(
        writer.add(update("new")),
        writer.add(update("seen")),  # stored before: a redelivery
        writer.add(update("new")),  # twice in one batch: the first one counts
        writer.add(update("other")),
    )
    assert results[0] is not None and results[3] is not None
    assert results[1] is None and results[2] is None
    assert set(await stored(engine)) == {"seen", "new", "other"}


async def test_one_bad_update_fails_alone(engine: AsyncEngine) -> None:
    writer = InboxWriter(SqlUnitOfWorkFactory(make_sessions(engine)))
    await writer.add(update("warm-up"))  # so the next three arrive while nothing is written
    results = await asyncio.gather(
        writer.add(update("before")),
        writer.add(update("bad", {"not json": {1, 2}})),  # a set cannot be stored as JSON
        writer.add(update("after")),
        return_exceptions=True,
    )
    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert isinstance(results[1], Exception)
    assert set(await stored(engine)) == {"warm-up", "before", "after"}


async def test_a_caller_that_goes_away_leaves_its_update_stored(engine: AsyncEngine) -> None:
    writer = InboxWriter(SqlUnitOfWorkFactory(make_sessions(engine)))
    gone = asyncio.create_task(writer.add(update("gone")))
    await asyncio.sleep(0)  # queued for the write
    gone.cancel()
    assert await writer.add(update("next")) is not None
    assert set(await stored(engine)) == {"gone", "next"}


async def test_bookkeeping_of_several_lanes_shares_a_commit_and_a_bad_one_fails_alone(
    engine: AsyncEngine,
) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    writes = BatchedWrites(uow)
    commits = commits_of(engine)

    def register(name: str) -> Callable[[UnitOfWork], Awaitable[None]]:
        async def work(tx: UnitOfWork) -> None:
            await tx.customers.upsert(CustomerProfile(Platform.TELEGRAM, name, name), NOW)

        return work

    async def broken(tx: UnitOfWork) -> None:
        await tx.customers.upsert(CustomerProfile(Platform.TELEGRAM, "half", "half"), NOW)
        raise RuntimeError("this lane's bookkeeping fails")

    results = await asyncio.gather(
        writes.run(register("a")),
        writes.run(broken),
        writes.run(register("b")),
        writes.run(register("c")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None and results[3] is None
    assert isinstance(results[1], RuntimeError)
    async with engine.connect() as connection:
        names = set((await connection.execute(text("SELECT external_id FROM customers"))).scalars())
    assert names == {"a", "b", "c"}  # the failed one left nothing behind, the others are in
    assert len(commits) == 3  # the shared try rolled back; then a, b, c one by one

    commits.clear()
    await asyncio.gather(*(writes.run(register(f"n{i}")) for i in range(20)))
    assert len(commits) == 1
