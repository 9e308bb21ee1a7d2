"""Retention: how long the bridge keeps what customers and operators wrote, and the rest.

- Message links (a message's ids on both sides, with the first 200 characters of its words)
  and the words kept elsewhere for a conversation (rating comments, the words under a card,
  operators' messages held back): `RETENTION_DAYS`. What `/stats` counts of the links stays
  as tallies, and conversations keep their times and ratings, so old periods report the same.
- Handled updates in the inbox (the whole command, words and profile included):
  `KEEP_UPDATES`. Finished deliveries in the outbox: `KEEP_DELIVERIES`. Media links: until
  they expire.
- A customer's profile (name, username, language, first contact, their topic) is kept until
  they are erased (`support-bridge forget-customer`).

Every replica runs the job: each step is idempotent and short (links go in batches, each in a
transaction of its own), so the bridge's own writes are never held up for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bridge.clock import Clock
from bridge.inbox import KEEP_FINISHED as REDELIVERY_WINDOW
from bridge.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

# A handled update's key must outlive the platforms' redelivery, or a late redelivery would be
# handled again; no longer, since the command holds everything the customer wrote.
KEEP_UPDATES = REDELIVERY_WINDOW
# Nothing reads a finished delivery again: a day leaves time to look into a report of one
# that failed (its error is kept with it), then its words go.
KEEP_DELIVERIES = timedelta(days=1)
LINK_BATCH = 1000  # links deleted per transaction: on SQLite a transaction holds every writer


@dataclass(frozen=True)
class Forgotten:
    """How many rows one pass deleted or cleared, by kind."""

    links: int = 0
    texts: int = 0
    held: int = 0
    updates: int = 0
    deliveries: int = 0
    media: int = 0


class Retention:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, keep: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._keep = keep

    async def run(self) -> Forgotten:
        """One pass over everything that may be kept for a limited time."""
        now = self._clock.now()
        before = now - self._keep
        links = 0
        while True:
            async with self._uow() as tx:
                deleted = await tx.retention.forget_links(before, LINK_BATCH)
                await tx.commit()
            links += deleted
            if deleted < LINK_BATCH:
                break
        async with self._uow() as tx:
            forgotten = Forgotten(
                links=links,
                texts=await tx.retention.clear_texts(before),
                held=await tx.retention.forget_held(before),
                updates=await tx.inbox.prune(now - KEEP_UPDATES),
                deliveries=await tx.outbox.prune(now - KEEP_DELIVERIES),
                media=await tx.retention.forget_expired_media(now),
            )
            await tx.commit()
        log.info(
            "retention: deleted %d message link(s), %d held message(s), %d handled update(s), "
            "%d finished deliveries and %d expired media link(s); cleared %d text(s)",
            forgotten.links,
            forgotten.held,
            forgotten.updates,
            forgotten.deliveries,
            forgotten.media,
            forgotten.texts,
        )
        return forgotten
