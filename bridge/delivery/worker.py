"""One destination's worker: sends its deliveries in order per lane, within the chat's budget.

A transient failure (a 5xx, a 429, a timeout, an answer that does not decode, the database
away) puts the delivery back with a capped backoff and tries again for as long as it takes;
a 429 or an outage pauses the whole chat. What a delivery did is recorded (retried until it
is) before the lane's next delivery goes, so a crash repeats at most the one send that was in
flight per conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bridge.clock import Clock
from bridge.delivery.budget import ChatBudget
from bridge.delivery.perform import Outcome, Retry
from bridge.delivery.queue import Choice, Pending
from bridge.model import OutboxItem
from bridge.storage.outages import DATABASE_UNAVAILABLE, unavailable

log = logging.getLogger(__name__)

DATABASE_AWAY = DATABASE_UNAVAILABLE
TICK = 1.0  # seconds: a waiting worker looks again at least this often
MOST_STEPS = 6  # steps (a topic made, a card posted) one delivery may take in a row


class Policy:
    GROUP = "group"  # many lanes, one budget: priorities, merging
    CHAT = "chat"  # one customer's chat: first in, first out
    BUTTONS = "buttons"  # acknowledgements: each on its own, at once


class Worker:
    def __init__(
        self,
        destination: str,
        policy: str,
        clock: Clock,
        perform: Callable[[Choice], Awaitable[Outcome]],
        record: Callable[[Choice, Outcome], Awaitable[None]],
        postpone: Callable[[OutboxItem, datetime, str], Awaitable[None]],
        load: Callable[[str], Awaitable[list[OutboxItem]]],
        current: Callable[[list[int]], Awaitable[list[OutboxItem]]],
        budget: ChatBudget | None = None,
        concurrency: int = 1,
        first_delay: float = 0.5,
        longest_delay: float = 30.0,
        shared: bool = False,
    ) -> None:
        self.destination = destination
        self.policy = policy
        self.pending = Pending()
        self._clock = clock
        self._perform = perform
        self._record = record
        self._postpone = postpone
        self._load = load
        self._current = current
        self._budget = budget
        self._concurrency = concurrency
        self._first_delay = first_delay
        self._longest = longest_delay
        self._shared = shared
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flying: dict[asyncio.Task[None], list[int]] = {}
        self._paused_until: datetime | None = None
        self._steps: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._loaded_at: datetime | None = None
        self._stopping = False
        self._stale = False
        self._done: set[int] = set()  # finished here; a read begun earlier may still list them

    # ----- fed by the service -------------------------------------------------------------

    def put(self, items: list[OutboxItem]) -> None:
        for item in items:
            if item.id in self.pending:
                self.pending.replace(item)
            else:
                self.pending.put([item])
        # With replicas, what another one decided earlier in the same conversation may be in
        # the outbox and not here yet: read it before sending what was just handed over.
        self._stale = self._shared
        self._wake.set()

    def discard(self, ids: list[int]) -> None:
        self.pending.discard(ids)
        self._wake.set()

    @property
    def idle(self) -> bool:
        return not self._tasks and not len(self.pending)

    # ----- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Send until nothing is left (the caller retires the worker then)."""
        await self.reload()
        while True:
            if self._stale:
                await self.reload()
            if self._launch():
                continue
            if self.idle or self._stopping:
                if self._stopping:
                    return
                await self.reload()
                if self.idle:
                    return
                continue
            await self._sleep()
            if self._shared and self._due_for_reload():
                await self.reload()

    async def stop(self, within: float) -> None:
        """Start nothing more; let what is in flight finish (bounded)."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=within)
        for task in list(self._tasks):
            task.cancel()

    async def reload(self) -> None:
        """Read the destination's pending deliveries (this replica's and others')."""
        known = {item.id for item in self.pending.ordered()}
        self._stale = False
        try:
            rows = await self._load(self.destination)
        except DATABASE_AWAY as error:
            log.warning("outbox of %s not read (%s)", self.destination, type(error).__name__)
            await asyncio.sleep(self._first_delay)
            return
        self._loaded_at = self._clock.now()
        flying = {i for task_ids in self._flying.values() for i in task_ids}
        listed = {row.id for row in rows}
        self._done &= listed  # the outbox knows the others are done
        fresh = [row for row in rows if row.id not in flying and row.id not in self._done]
        self.pending.put(fresh)  # new ones, and held ones as they are now
        seen = {row.id for row in rows}
        gone = [i for i in known if i not in seen and i not in flying]
        self.pending.discard(gone)  # finished or dropped meanwhile (another replica)

    def _due_for_reload(self) -> bool:
        return self._loaded_at is None or self._clock.now() - self._loaded_at > timedelta(
            seconds=TICK
        )

    def _launch(self) -> bool:
        """Start the next delivery if it may go now; True when one was started."""
        if self._stopping:
            return False
        now = self._clock.now()
        if self._paused_until is not None:
            if now < self._paused_until:
                return False
            self._paused_until = None
        if len(self._tasks) >= self._concurrency:
            return False
        choice = self._choose(now)
        if choice is None:
            return False
        key = self._lane_key(choice)
        self._busy.add(key)
        task = asyncio.ensure_future(self._execute(choice, key))
        self._tasks.add(task)
        self._flying[task] = choice.ids
        task.add_done_callback(self._landed)
        return True

    def _lane_key(self, choice: Choice) -> str:
        return f"#{choice.items[0].id}" if self.policy == Policy.BUTTONS else choice.lane

    def _choose(self, now: datetime) -> Choice | None:
        if self.policy == Policy.BUTTONS:
            for item in self.pending.ordered():
                if f"#{item.id}" not in self._busy:
                    return Choice((item,))
            return None
        if self.policy == Policy.CHAT:
            return self.pending.in_order(now, self._busy)
        budget = self._budget
        free = budget.free() if budget is not None else None
        reserve = budget.reserve if budget is not None else 0
        if free is not None:
            free -= len(self._tasks)  # started, maybe not yet spent
            if free <= 0:
                return None
        return self.pending.for_group(now, self._busy, free, reserve)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._flying.pop(task, None)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("a delivery task failed", exc_info=task.exception())

    async def _sleep(self) -> None:
        now = self._clock.now()
        timeout = TICK
        if self._paused_until is not None:
            timeout = min(timeout, (self._paused_until - now).total_seconds())
        due = self.pending.next_due(now)
        if due is not None:
            timeout = min(timeout, (due - now).total_seconds())
        if self._budget is not None and self._budget.free() == 0:
            timeout = min(timeout, self._budget.next_free_in())
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(timeout, 0.01))

    # ----- one delivery -------------------------------------------------------------------

    async def _execute(self, choice: Choice, key: str) -> None:
        try:
            await self._attempt(choice)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug: never a tight loop of tries, never a lost delivery
            log.exception("delivery %s failed unexpectedly", choice.ids)
            with contextlib.suppress(Exception):
                await self._again(choice, Retry(0, type(error).__name__))
        finally:
            self._busy.discard(key)

    async def _attempt(self, choice: Choice) -> None:
        """Perform, then record what it did (or put it back to try again)."""
        try:
            if not choice.prepare and any(i.not_before > i.created_at for i in choice.items):
                # it was held for what follows: take it as it is now (a later message, or
                # an album's item, may have joined it here or on another replica) and claim
                # it, so nothing joins it any more while it is sent
                fresh = await self._current(choice.ids)
                self.pending.discard(choice.ids)
                self.pending.put(fresh)
                if [i.id for i in fresh] != choice.ids:
                    return
                choice = Choice(tuple(fresh))
            outcome = await self._perform(choice)
        except Retry as retry:
            await self._again(choice, retry)
            return
        except Exception as error:
            if unavailable(error):
                await self._again(choice, Retry(0, f"database: {type(error).__name__}"))
                return
            log.exception("delivery %s failed unexpectedly", choice.ids)
            outcome = Outcome(finish="failed", error=f"{type(error).__name__}")
        first = choice.items[0].id
        if outcome.finish is None:
            steps = self._steps.get(first, 0) + 1
            self._steps[first] = steps
            if steps > MOST_STEPS and not choice.prepare:
                self._steps.pop(first, None)
                await self._again(choice, Retry(0, "no progress after several steps"))
                return
        await self._record(choice, outcome)
        if outcome.finish is not None:
            self.pending.discard(choice.ids)
            self._done.update(choice.ids)
            self._steps.pop(first, None)
        elif choice.prepare:
            self.pending.prepared.add(first)

    async def _again(self, choice: Choice, retry: Retry) -> None:
        """Put the delivery back: it goes again after a backoff that grows, up to a cap."""
        now = self._clock.now()
        head = choice.items[0]
        attempts = head.attempts + 1
        backoff = min(self._first_delay * 2 ** min(attempts - 1, 16), self._longest)
        backoff *= 0.75 + random.random() / 2  # noqa: S311 - jitter, not security
        delay = max(retry.after, backoff)
        not_before = now + timedelta(seconds=delay)
        log.warning(
            "delivery to %s not made (%s); again in %.1fs", self.destination, retry.why, delay
        )
        if retry.whole_chat and self.policy != Policy.BUTTONS:
            pause = now + timedelta(seconds=min(delay, max(retry.after, self._first_delay)))
            if self._paused_until is None or pause > self._paused_until:
                self._paused_until = pause
        for item in choice.items[:1]:  # the others (merged with it) are simply not started
            later = replace(item, attempts=attempts, not_before=not_before)
            if item.id in self.pending:
                self.pending.replace(later)
            with contextlib.suppress(*DATABASE_AWAY):
                await self._postpone(item, not_before, retry.why)
