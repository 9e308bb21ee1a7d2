"""Group commit: writes that arrive together share one transaction.

A caller still returns only once its write is committed. It just waits for a commit that also
carries the writes that arrived while the previous one was being made, so under load the cost
of a transaction (and of the trips to the database that go with it) is shared, and a write that
arrives alone is made at once, as before: nothing waits for a timer. If a shared transaction
fails, its writes are made again one by one, so one bad write fails alone.

`InboxWriter` stores incoming updates with one INSERT; `BatchedWrites` runs the bookkeeping of
several lanes (each a function of a unit of work) one after another in one transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bridge.model import NewUpdate
from bridge.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Work = Callable[[UnitOfWork], Awaitable[None]]


class GroupCommit(Generic[Item, Outcome]):
    def __init__(self, uow: UnitOfWorkFactory, most: int = 200) -> None:
        self._uow = uow
        self._most = most  # items per transaction
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Outcome:
        """The item's outcome once its transaction is committed."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # a context of its own: it writes for every caller, not as the first one
            self._writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
        return await future

    async def _store(self, tx: UnitOfWork, items: list[Item]) -> list[Outcome]:
        """Write `items` in `tx` (not committed yet); an outcome each, in order."""
        raise NotImplementedError

    async def _write_all(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Outcome]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                await self._write(batch)
                batch = []
        finally:  # cancelled (shutdown): nobody may wait for a commit that will not come
            for _, future in batch + self._waiting:
                if not future.done():
                    future.cancel()

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        try:
            async with self._uow() as tx:
                outcomes = await self._store(tx, [item for item, _ in batch])
                await tx.commit()
        except Exception as error:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(error)
                return
            log.warning("a batch of %d writes failed (%s); writing one by one", len(batch), error)
            for one in batch:
                await self._write([one])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():  # its caller went away; the write is made all the same
                future.set_result(outcome)


class InboxWriter(GroupCommit[NewUpdate, "int | None"]):
    async def add(self, update: NewUpdate) -> int | None:
        """The update's inbox id once committed; None when its key was stored before."""
        return await self.submit(update)

    async def _store(self, tx: UnitOfWork, items: list[NewUpdate]) -> list[int | None]:
        return await tx.inbox.add_many(items)


class BatchedWrites(GroupCommit[Work, None]):
    async def run(self, work: Work) -> None:
        """Run `work` in a shared transaction; returns once that is committed."""
        await self.submit(work)

    async def _store(self, tx: UnitOfWork, items: list[Work]) -> list[None]:
        for work in items:
            await work(tx)
        return [None] * len(items)
