"""The delivery service: a worker per destination with something to send, and the outbox's
upkeep (the alert for deliveries that wait too long; `bridge.retention` prunes finished ones).

New deliveries are handed over in memory right after their commit (`notify`); what is in the
database and not in memory (after a restart, or stored by another replica) is read when a
worker starts and, with replicas, every second. With replicas a destination is worked by one
of them at a time (a claim that dies with its process), so each conversation keeps its order
whichever replica decided its deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from bridge.clock import Clock
from bridge.deliveries import Planned, PostGeneral, as_new
from bridge.delivery.budget import Budgets
from bridge.delivery.perform import Outcome, Performer
from bridge.delivery.queue import Choice
from bridge.delivery.worker import DATABASE_AWAY, Policy, Worker
from bridge.group_commit import BatchedWrites
from bridge.handlers.context import BUTTONS, GENERAL_LANE
from bridge.lane_locks import LaneLocks, LocalLaneLocks
from bridge.model import OutboxItem
from bridge.ports import UnitOfWork, UnitOfWorkFactory
from bridge.storage.outages import unavailable

log = logging.getLogger(__name__)

LOAD = 500  # pending deliveries of one destination read at once
GROUP_CONCURRENCY = 8  # deliveries of different conversations in flight in one group
BUTTON_CONCURRENCY = 32


class DeliveryService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        performer: Performer,
        clock: Clock,
        desks: Sequence[str],
        budgets: Budgets,
        claims: LaneLocks | None = None,
        first_delay: float = 0.5,
        longest_delay: float = 30.0,
        alert_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._uow = uow
        self._writes = BatchedWrites(uow)
        self._performer = performer
        self._clock = clock
        self._desks = set(desks)
        self._budgets = budgets
        self._claims = claims or LocalLaneLocks()
        self._first_delay = first_delay
        self._longest = longest_delay
        self._alert_after = alert_after
        self._workers: dict[str, Worker] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = False

    # ----- handing deliveries over --------------------------------------------------------

    def notify(self, items: Sequence[OutboxItem], dropped: Sequence[int]) -> None:
        """Deliveries just committed (or changed), and cosmetics they replaced."""
        if dropped:
            for worker in self._workers.values():
                worker.discard(list(dropped))
        by_destination: dict[str, list[OutboxItem]] = {}
        for item in items:
            by_destination.setdefault(item.destination, []).append(item)
        for destination, batch in by_destination.items():
            self._worker_for(destination).put(batch)

    def _worker_for(self, destination: str) -> Worker:
        worker = self._workers.get(destination)
        if worker is not None:
            return worker
        if destination in self._desks:
            policy, concurrency = Policy.GROUP, GROUP_CONCURRENCY
            budget = self._budgets.of(destination)
        elif destination == BUTTONS:
            policy, concurrency, budget = Policy.BUTTONS, BUTTON_CONCURRENCY, None
        else:
            policy, concurrency, budget = Policy.CHAT, 1, None
        worker = Worker(
            destination,
            policy,
            self._clock,
            self._performer.perform,
            self._record,
            self._postpone,
            self._load,
            self._current,
            budget=budget,
            concurrency=concurrency,
            first_delay=self._first_delay,
            longest_delay=self._longest,
            shared=self._claims.shared,
        )
        self._workers[destination] = worker
        if self._running:
            self._start(worker)
        return worker

    def _start(self, worker: Worker) -> None:
        task = asyncio.ensure_future(self._work(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, worker: Worker) -> None:
        """Work a destination while this replica holds its claim; let go when it is empty
        (and go on if something arrived meanwhile)."""
        claim = f"outbox:{worker.destination}"
        while self._running:
            try:
                claimed = await self._claims.try_take(claim)
            except DATABASE_AWAY:
                claimed = False
            if not claimed:  # another replica sends these (it reads them from the outbox)
                self._workers.pop(worker.destination, None)
                return
            try:
                await worker.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the worker of %s stopped", worker.destination)
                self._workers.pop(worker.destination, None)
                return
            finally:
                with contextlib.suppress(Exception):
                    await self._claims.release(claim)
            if worker.idle:  # nothing arrived while it let go
                self._workers.pop(worker.destination, None)
                return

    @property
    def idle(self) -> bool:
        """Nothing to send and nothing in flight (in this process)."""
        return all(worker.idle for worker in self._workers.values())

    async def waiting(self) -> int:
        """Deliveries in the outbox not yet sent (by any replica)."""
        async with self._uow() as tx:
            return sum(count for _, count, _ in await tx.outbox.depth())

    # ----- what workers need --------------------------------------------------------------

    async def _load(self, destination: str) -> list[OutboxItem]:
        async with self._uow() as tx:
            return await tx.outbox.pending(destination, LOAD)

    async def _current(self, item_ids: list[int]) -> list[OutboxItem]:
        """Held deliveries as they are now, claimed for sending in their own transaction."""
        async with self._uow() as tx:
            items = await tx.outbox.claim(item_ids, self._clock.now())
            await tx.commit()
            return items

    async def _postpone(self, item: OutboxItem, not_before: object, why: str) -> None:
        async with self._uow() as tx:
            await tx.outbox.postpone(item.id, not_before, why)  # type: ignore[arg-type]
            await tx.commit()

    async def _record(self, choice: Choice, outcome: Outcome) -> None:
        """Record what a delivery did, with its follow-ups, until the database takes it."""
        stored: list[tuple[list[OutboxItem], list[int]]] = []

        async def work(tx: UnitOfWork) -> None:
            stored.clear()
            follow = list(outcome.follow)
            if outcome.write is not None:
                follow += await outcome.write(tx) or ()
            if outcome.finish is not None:
                await tx.outbox.finish(choice.ids, outcome.finish, outcome.error)
            if follow:
                now = self._clock.now()
                news = [as_new(p, now) for p in follow]
                stored.append(await tx.outbox.add(news, now))

        attempt = 0
        while True:
            try:
                await self._writes.run(work)
            except Exception as error:
                if not unavailable(error):  # it will never be written: do not send it again
                    log.exception("what delivery %s did cannot be recorded", choice.ids)
                    await self._finish_alone(choice, type(error).__name__)
                    return
                attempt += 1
                delay = min(self._first_delay * 2 ** min(attempt - 1, 16), self._longest)
                log.warning(
                    "what a delivery did is not recorded yet (%s); again in %.1fs",
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            for added, dropped in stored:
                self.notify(added, dropped)
            return

    async def _finish_alone(self, choice: Choice, why: str) -> None:
        """The delivery went out but what it did cannot be written: finish it without that."""
        if not choice.ids:
            return

        async def work(tx: UnitOfWork) -> None:
            await tx.outbox.finish(choice.ids, "done", f"not recorded: {why}")

        attempt = 0
        while True:
            try:
                await self._writes.run(work)
                return
            except Exception as error:
                if not unavailable(error):
                    raise
                attempt += 1
                await asyncio.sleep(min(self._first_delay * 2 ** min(attempt, 16), self._longest))

    # ----- running ------------------------------------------------------------------------

    async def start(self) -> None:
        """Pick up what earlier runs (or other replicas) left in the outbox."""
        self._running = True
        for worker in list(self._workers.values()):
            self._start(worker)
        await self.sweep()

    async def sweep(self) -> int:
        """Start workers for destinations with waiting deliveries and no worker here."""
        async with self._uow() as tx:
            destinations = await tx.outbox.destinations_waiting(10_000)
        fresh = [d for d in destinations if d not in self._workers]
        for destination in fresh:
            self._worker_for(destination)
        return len(fresh)

    async def stop(self, within: float) -> None:
        """Let deliveries in flight finish (bounded); the rest waits in the outbox."""
        self._running = False
        workers = list(self._workers.values())
        await asyncio.gather(*(w.stop(within) for w in workers), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1)
        self._workers.clear()

    async def alert_if_late(self) -> int:
        """Deliveries waiting longer than the alert: said once, in General, per destination."""
        now = self._clock.now()
        async with self._uow() as tx:
            late = await tx.outbox.waiting_since(now - self._alert_after)
            await tx.commit()
        if not late:
            return 0
        planned = []
        desk = next(iter(sorted(self._desks)))
        by_kind: dict[str, tuple[int, datetime]] = {}
        for destination, count, oldest in late:
            kind = destination.split(":", 1)[0]
            total, since = by_kind.get(kind, (0, oldest))
            by_kind[kind] = (total + count, min(since, oldest))
        for kind, (count, oldest) in sorted(by_kind.items()):
            html = (
                f"⏳ <b>{count} deliveries</b> to {escape(_describe(kind))} have been waiting "
                f"since {oldest:%Y-%m-%d %H:%M} UTC. They go out as soon as "
                f"{'Telegram' if kind != 'viber' else 'Viber'} takes them again."
            )
            planned.append(Planned(PostGeneral(html), desk, GENERAL_LANE))
        await self._record(Choice(()), Outcome(finish=None, follow=planned))
        log.warning("deliveries waiting too long: %s", ", ".join(sorted(by_kind)))
        return len(by_kind)


def _describe(kind: str) -> str:
    return {
        "group": "the operator group",
        "telegram": "Telegram customers",
        "viber": "Viber customers",
    }.get(kind, kind)
