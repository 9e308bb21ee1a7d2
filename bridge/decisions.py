"""Running a decision: a handler's state, its deliveries and its done mark in one commit.

The commit is shared with the decisions of other lanes that arrive meanwhile (group commit);
once it is made, the new deliveries are handed to the workers that send them, so the common
case never reads them back from the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bridge.clock import Clock
from bridge.group_commit import BatchedWrites, Work
from bridge.handlers.context import Context, Rules
from bridge.model import OutboxItem
from bridge.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
Notify = Callable[[Sequence[OutboxItem], Sequence[int]], None]  # stored or changed, dropped


def ignore(items: Sequence[OutboxItem], dropped: Sequence[int]) -> None:
    """Until the delivery service exists (start-up), nobody is told; workers read the outbox."""


class Decisions:
    def __init__(
        self, uow: UnitOfWorkFactory, rules: Rules, clock: Clock, notify: Notify = ignore
    ) -> None:
        self._writes = BatchedWrites(uow)
        self.rules = rules
        self._clock = clock
        self.notify = notify

    async def run(self, decide: Callable[[Context], Awaitable[T]], also: Work | None = None) -> T:
        """Decide in a transaction, store what was decided (and `also`), commit, hand over."""
        outcome: list[tuple[T, list[OutboxItem], list[int]]] = []

        async def work(tx: UnitOfWork) -> None:
            outcome.clear()  # a shared commit that failed is made again alone
            ctx = Context(tx, self.rules, self._clock.now())
            result = await decide(ctx)
            stored, dropped = await ctx.store()
            if also is not None:
                await also(tx)
            outcome.append((result, stored, dropped))

        await self._writes.run(work)
        result, stored, dropped = outcome[0]
        if stored or dropped:
            self.notify(stored, dropped)
        return result
