"""The inbox: commands are committed before the platform hears 200, then handled.

An adapter maps each update to a command and stores it here (`accept`); the command is then
handled in its lane (a customer: their chat and their topic), in order, in one transaction
with everything it decided and its done mark. Nothing is lost if the process dies at any
point: pending commands are handled on the next start. A redelivered update (same key) is a
no-op. Handling touches only the database, so a failure is a database hiccup, retried with
capped backoff for as long as it takes; a command whose handler fails otherwise (a bug) is set
aside as failed and said so in the customer's topic.

Several replicas on one database share the inbox (`LaneLocks.shared`): a replica works a lane
only while it holds that lane's claim, and then takes the lane's pending commands from the
database in order, whichever replica stored them. A replica that cannot claim a lane leaves its
command to the holder, which looks again after letting go; a periodic sweep picks up lanes whose
holder died.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bridge import commands
from bridge.clock import Clock
from bridge.commands import Command
from bridge.decisions import Decisions
from bridge.group_commit import InboxWriter
from bridge.handlers import handle
from bridge.lane_locks import LaneLocks, LocalLaneLocks
from bridge.lanes import Lanes
from bridge.model import InboxItem, NewUpdate
from bridge.ports import UnitOfWork, UnitOfWorkFactory
from bridge.storage.outages import unavailable

log = logging.getLogger(__name__)

# Maps an update stored by a version that kept raw updates (before commands) to its command.
Legacy = Callable[[InboxItem], Awaitable[Command | None]]
GiveUp = Callable[[InboxItem, str], Awaitable[None]]
# How long a handled update's key is kept (pruned by `bridge.retention`): longer than any
# platform keeps redelivering (Telegram keeps an unconfirmed update for 24 hours).
KEEP_FINISHED = timedelta(days=7)
BATCH = 50  # pending commands read at once when draining a shared lane
LONGEST_PAUSE = 30.0  # seconds between tries while the database is away


class Inbox:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        decisions: Decisions,
        lanes: Lanes,
        clock: Clock,
        first_delay: float = 0.5,
        on_give_up: GiveUp | None = None,
        lane_locks: LaneLocks | None = None,
        legacy: Legacy | None = None,
    ) -> None:
        self._locks = lane_locks or LocalLaneLocks()
        self._on_give_up = on_give_up
        self._uow = uow
        self._decisions = decisions
        self._writer = InboxWriter(uow)
        self._lanes = lanes
        self._clock = clock
        self._first_delay = first_delay
        self._legacy = legacy

    async def accept(
        self, key: str, lane: str, platform: str, command: Command
    ) -> asyncio.Task[object] | None:
        """Commit a command and start handling it; None for a redelivery."""
        update = NewUpdate(
            key, lane, platform, commands.encode(command), self._clock.now(), command.name
        )
        item_id = await self._writer.add(update)
        if item_id is None:
            log.info("update %s seen before; skipped", key)
            return None
        if self._locks.shared:
            return self._lanes.spawn(lane, lambda: self._drain(lane))
        item = InboxItem(item_id, key, lane, platform, update.payload, 0, command.name)
        return self._lanes.spawn(lane, lambda: self._process(item))

    async def accept_and_wait(
        self, key: str, lane: str, platform: str, command: Command, within: float
    ) -> None:
        """Commit, then give handling up to `within` seconds before the webhook answers.

        The command is already safe; waiting only keeps a flood from outrunning us.
        """
        task = await self.accept(key, lane, platform, command)
        if task is not None:
            await asyncio.wait([asyncio.shield(task)], timeout=within)

    async def resume(self) -> int:
        """After a restart: handle what was committed but not finished, in order."""
        if self._locks.shared:
            resumed = await self.sweep(older_than=timedelta(0))
        else:
            async with self._uow() as tx:
                items = await tx.inbox.pending(limit=100_000)
            for item in items:
                self._lanes.spawn(item.lane, lambda item=item: self._process(item))  # type: ignore[misc]
            resumed = len(items)
        if resumed:
            log.info("inbox: resuming %d pending command(s) or lane(s)", resumed)
        return resumed

    async def sweep(self, older_than: timedelta = timedelta(seconds=2)) -> int:
        """Shared inbox: drain lanes left waiting (their replica died, or gave up a claim)."""
        async with self._uow() as tx:
            lanes = await tx.inbox.lanes_pending(self._clock.now() - older_than, limit=1000)
        idle = [lane for lane in lanes if not self._lanes.is_busy(lane)]
        for lane in idle:
            self._lanes.spawn(lane, lambda lane=lane: self._drain(lane))  # type: ignore[misc]
        if idle:
            log.info("inbox: sweeping %d lane(s) with waiting commands", len(idle))
        return len(idle)

    async def _drain(self, lane: str) -> None:
        """Shared inbox: work the lane's pending commands in order while holding its claim."""
        while await self._locks.try_take(lane):
            try:
                while True:
                    items = await self._retrying(lambda: self._pending_in(lane))
                    for item in items:
                        await self._process(item)
                    if len(items) < BATCH:
                        break
            finally:
                await self._locks.release(lane)
            # A command stored while we held the claim may have been left to us: look again.
            if not await self._retrying(lambda: self._pending_in(lane, 1)):
                return

    async def _pending_in(self, lane: str, limit: int = BATCH) -> list[InboxItem]:
        async with self._uow() as tx:
            return await tx.inbox.pending_in_lane(lane, limit)

    async def _retrying(self, read: Callable[[], Awaitable[list[InboxItem]]]) -> list[InboxItem]:
        attempt = 0
        while True:
            try:
                return await read()
            except Exception as error:
                if not unavailable(error):
                    raise
                attempt += 1
                await self._pause(f"reading the inbox: {type(error).__name__}", attempt)

    async def _process(self, item: InboxItem) -> None:
        attempt = item.attempts
        while True:
            try:
                command = await self._command_of(item)
                if command is None:
                    await self._finish(item, "done")
                    return

                await self._handle(item, command)
                return
            except Exception as error:
                if unavailable(error):  # the database away: the same command again, later
                    attempt += 1
                    await self._record(item, type(error).__name__)
                    await self._pause(f"update {item.key}: {type(error).__name__}", attempt)
                    continue
                log.exception("update %s could not be handled", item.key)
                why = f"{error.__class__.__name__}"
                await self._finish(item, "failed", why)
                await self._tell(item, why)
                return

    async def _handle(self, item: InboxItem, command: Command) -> None:
        """The handler's decisions and the done mark, in one commit."""

        async def done(tx: UnitOfWork) -> None:
            await tx.inbox.finish(item.id, "done")

        await self._decisions.run(lambda ctx: handle(command, ctx), also=done)

    async def _command_of(self, item: InboxItem) -> Command | None:
        if item.command is not None:
            return commands.decode(item.command, dict(item.payload))
        if self._legacy is None:
            return None
        return await self._legacy(item)

    async def _pause(self, why: str, attempt: int) -> None:
        delay = min(self._first_delay * 2 ** min(attempt - 1, 16), LONGEST_PAUSE)
        delay *= 0.75 + random.random() / 2  # noqa: S311 - jitter, not security
        log.warning("%s; again in %.1fs", why, delay)
        await asyncio.sleep(delay)

    async def _tell(self, item: InboxItem, error: str) -> None:
        """Let operators know, where we can, that something was not handled."""
        if self._on_give_up is None:
            return
        try:
            await self._on_give_up(item, error)
        except Exception:
            log.exception("could not report the failed update %s", item.key)

    async def _record(self, item: InboxItem, error: str) -> None:
        try:
            async with self._uow() as tx:
                await tx.inbox.record_attempt(item.id, error)
                await tx.commit()
        except Exception as error_:
            if not unavailable(error_):
                raise  # the database is away: the attempt count is only for the record

    async def _finish(self, item: InboxItem, state: str, error: str | None = None) -> None:
        attempt = 0
        while True:
            try:
                async with self._uow() as tx:
                    await tx.inbox.finish(item.id, state, error)
                    await tx.commit()
                return
            except Exception as error_:
                if not unavailable(error_):
                    raise
                attempt += 1
                await self._pause(f"finishing {item.key}: {type(error_).__name__}", attempt)
