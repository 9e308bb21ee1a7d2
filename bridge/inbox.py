"""The inbox: incoming updates are committed before the platform hears 200, then processed.

Nothing is lost if the process dies at any point: pending updates are resumed on the next
start, in order per lane (a customer: their chat and their topic). A redelivered update (same
key) is a no-op. An update interrupted by a crash is processed again, so a message whose send
had already gone out when the process died can reach a chat twice: at most one duplicate per
update in flight at the moment of the crash.

Several replicas on one database share the inbox (`LaneLocks.shared`): a replica works a lane
only while it holds that lane's claim, and then takes the lane's pending updates from the
database in order, whichever replica stored them. A replica that cannot claim a lane leaves its
update to the holder, which looks again after letting go; a periodic sweep picks up lanes whose
holder died.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bridge.clock import Clock
from bridge.errors import RetryLater
from bridge.group_commit import BatchedWrites, InboxWriter, Work
from bridge.lane_locks import LaneLocks, LocalLaneLocks, holding
from bridge.lanes import Lanes
from bridge.model import InboxItem, NewUpdate
from bridge.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

Handler = Callable[[Mapping[str, Any], str], Awaitable[None]]  # payload, lane
GiveUp = Callable[[InboxItem, str], Awaitable[None]]
KEEP_FINISHED = timedelta(days=7)  # longer than any platform keeps redelivering
BATCH = 50  # pending updates read at once when draining a shared lane
# The database was busy or away for a moment (a pool wait ran out, a lock, a dropped
# connection): worth another attempt, like a platform's 5xx, rather than giving the update up.
RETRYABLE = (RetryLater, OperationalError, InterfaceError, PoolTimeout)


# ----- done together with the handler's last transaction --------------------------------------


@dataclass
class _Processing:
    item_id: int
    active: bool = True  # False once `_process` is over (a task started inside copies the context)
    done: bool = False  # marked done by the handler's own transaction


_processing: ContextVar[_Processing | None] = ContextVar("inbox_processing", default=None)


async def write_done(writes: BatchedWrites, work: Work) -> None:
    """Make the handler's last write together with the done mark of the update being processed.

    Both go in one commit (shared with other lanes' writes): after it, the update counts as
    processed, so a later failure (e.g. of an auto-reply) is not retried, which would relay the
    message again. Outside an inbox handler, or `apart` from its update, it is only the write.
    """
    current = _processing.get()
    mark = current if current is not None and current.active and not current.done else None

    async def with_mark(tx: UnitOfWork) -> None:
        await work(tx)
        if mark is not None:
            await tx.inbox.finish(mark.item_id, "done")

    await writes.run(with_mark)
    if mark is not None:
        mark.done = True


@contextmanager
def apart() -> Iterator[None]:
    """Work done inside a handler that is not its update's (an album flushed by the next
    message): its transactions must not mark this update done."""
    token = _processing.set(None)
    try:
        yield
    finally:
        _processing.reset(token)


# ----- the inbox ------------------------------------------------------------------------------


class Inbox:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        lanes: Lanes,
        clock: Clock,
        handlers: Mapping[str, Handler],
        attempts: int = 6,
        first_delay: float = 2.0,
        on_give_up: GiveUp | None = None,
        lane_locks: LaneLocks | None = None,
    ) -> None:
        self._locks = lane_locks or LocalLaneLocks()
        self._on_give_up = on_give_up
        self._uow = uow
        self._writer = InboxWriter(uow)
        self._lanes = lanes
        self._clock = clock
        self._handlers = handlers
        self._attempts = attempts
        self._first_delay = first_delay

    async def accept(
        self, key: str, lane: str, platform: str, payload: dict[str, Any]
    ) -> asyncio.Task[object] | None:
        """Commit an update and start processing it; None for a redelivery."""
        update = NewUpdate(key, lane, platform, payload, self._clock.now())
        item_id = await self._writer.add(update)
        if item_id is None:
            log.info("update %s seen before; skipped", key)
            return None
        if self._locks.shared:
            return self._lanes.spawn(lane, lambda: self._drain(lane))
        item = InboxItem(item_id, key, lane, platform, payload, 0)
        return self._lanes.spawn(lane, lambda: self._process(item))

    async def accept_and_wait(
        self, key: str, lane: str, platform: str, payload: dict[str, Any], within: float
    ) -> None:
        """Commit, then give processing up to `within` seconds before the webhook answers.

        The update is already safe; waiting only keeps a slow platform from flooding us.
        """
        task = await self.accept(key, lane, platform, payload)
        if task is not None:
            await asyncio.wait([asyncio.shield(task)], timeout=within)

    async def resume(self) -> int:
        """After a restart: process what was committed but not finished, in order."""
        async with self._uow() as tx:
            pruned = await tx.inbox.prune(self._clock.now() - KEEP_FINISHED)
            await tx.commit()
        if self._locks.shared:
            resumed = await self.sweep(older_than=timedelta(0))
        else:
            async with self._uow() as tx:
                items = await tx.inbox.pending(limit=100_000)
            for item in items:
                self._lanes.spawn(item.lane, lambda item=item: self._process(item))  # type: ignore[misc]
            resumed = len(items)
        if resumed or pruned:
            log.info("inbox: resuming %d pending update(s) or lane(s), pruned %d", resumed, pruned)
        return resumed

    async def sweep(self, older_than: timedelta = timedelta(seconds=2)) -> int:
        """Shared inbox: drain lanes left waiting (their replica died, or gave up a claim)."""
        async with self._uow() as tx:
            lanes = await tx.inbox.lanes_pending(self._clock.now() - older_than, limit=1000)
        idle = [lane for lane in lanes if not self._lanes.is_busy(lane)]
        for lane in idle:
            self._lanes.spawn(lane, lambda lane=lane: self._drain(lane))  # type: ignore[misc]
        if idle:
            log.info("inbox: sweeping %d lane(s) with waiting updates", len(idle))
        return len(idle)

    def spawn_in_lane(self, lane: str, job: Callable[[], Awaitable[object]]) -> None:
        """Work outside an update (an album's flush) that must still hold its lane."""
        if not self._locks.shared:
            self._lanes.spawn(lane, job)
            return

        async def claimed() -> None:
            async with holding(self._locks, lane):
                await job()

        self._lanes.spawn(lane, claimed)

    async def _drain(self, lane: str) -> None:
        """Shared inbox: work the lane's pending updates in order while holding its claim."""
        while await self._locks.try_take(lane):
            try:
                while True:
                    async with self._uow() as tx:
                        items = await tx.inbox.pending_in_lane(lane, BATCH)
                    for item in items:
                        await self._process(item)
                    if len(items) < BATCH:
                        break
            finally:
                await self._locks.release(lane)
            # An update stored while we held the claim may have been left to us: look again.
            async with self._uow() as tx:
                if not await tx.inbox.pending_in_lane(lane, 1):
                    return

    async def _process(self, item: InboxItem) -> None:
        current = _Processing(item.id)
        token = _processing.set(current)
        try:
            await self._process_in(item, current)
        finally:
            current.active = False
            _processing.reset(token)

    async def _process_in(self, item: InboxItem, current: _Processing) -> None:
        handler = self._handlers.get(item.platform)
        if handler is None:
            await self._finish(item, "failed", f"no handler for {item.platform}")
            return
        attempt = item.attempts
        while True:
            try:
                await handler(item.payload, item.lane)
            except RETRYABLE as error:
                if current.done:
                    log.warning("update %s done, but what followed failed: %s", item.key, error)
                    return
                attempt += 1
                await self._record(item, str(error))
                if attempt >= self._attempts:
                    log.error("update %s failed %d times; given up: %s", item.key, attempt, error)
                    await self._finish(item, "failed", str(error))
                    await self._tell(item, str(error))
                    return
                asked = error.seconds if isinstance(error, RetryLater) else 0.0
                delay = max(asked, self._first_delay * 2 ** (attempt - 1))
                delay *= 0.75 + random.random() / 2  # noqa: S311 - jitter, not security
                log.warning("update %s: %s; again in %.1fs", item.key, error, delay)
                await asyncio.sleep(delay)
                continue
            except Exception as error:
                log.exception("update %s failed", item.key)
                if current.done:
                    return
                await self._finish(item, "failed", f"{error.__class__.__name__}: {error}")
                return
            if not current.done:
                await self._finish(item, "done")
            return

    async def _tell(self, item: InboxItem, error: str) -> None:
        """Let operators know, where the platform lets us, that something was not relayed."""
        if self._on_give_up is None:
            return
        try:
            await self._on_give_up(item, error)
        except Exception:
            log.exception("could not report the failed update %s", item.key)

    async def _record(self, item: InboxItem, error: str) -> None:
        async with self._uow() as tx:
            await tx.inbox.record_attempt(item.id, error)
            await tx.commit()

    async def _finish(self, item: InboxItem, state: str, error: str | None = None) -> None:
        async with self._uow() as tx:
            await tx.inbox.finish(item.id, state, error)
            await tx.commit()
