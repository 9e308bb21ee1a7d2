"""Group commit for the inbox: updates arriving together are stored in one transaction.

A webhook still answers only once its update is committed. It just waits for a commit that
also carries the updates that arrived while the previous one was being written, so under load
the cost of a transaction is shared by all of them, and an update that arrives alone is
written at once, as before: nothing waits for a timer.
"""

from __future__ import annotations

import asyncio
import logging

from bridge.model import NewUpdate
from bridge.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

Waiting = tuple[NewUpdate, "asyncio.Future[int | None]"]


class InboxWriter:
    def __init__(self, uow: UnitOfWorkFactory, most: int = 200) -> None:
        self._uow = uow
        self._most = most  # updates per transaction
        self._waiting: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, update: NewUpdate) -> int | None:
        """The update's inbox id once committed; None when its key was stored before."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((update, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        batch: list[Waiting] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                await self._write(batch)
                batch = []
        finally:  # cancelled (shutdown): nobody may wait for a commit that will not come
            for _, future in batch + self._waiting:
                if not future.done():
                    future.cancel()

    async def _write(self, batch: list[Waiting]) -> None:
        try:
            ids = await self._store([update for update, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error=error)
                return
            log.warning("inbox: a batch of %d failed (%s); storing one by one", len(batch), error)
            for waiting in batch:  # one bad update must not fail the others
                await self._write([waiting])
            return
        for (_, future), item_id in zip(batch, ids, strict=True):
            _settle(future, item_id)

    async def _store(self, updates: list[NewUpdate]) -> list[int | None]:
        async with self._uow() as tx:
            ids = await tx.inbox.add_many(updates)
            await tx.commit()
        return ids


def _settle(
    future: asyncio.Future[int | None],
    item_id: int | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():  # its webhook went away; the update is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(item_id)
