"""One destination's pending deliveries in memory, and which to send next.

Order holds per lane (a conversation): a lane's next delivery waits until the one before it
was sent. Between lanes of a group, a scarce slot goes to words first, then notes and topic
changes, and within a class to the lane served least recently (oldest first among lanes not
served yet), so a customer who floods gets one turn in as many as there are others waiting.
Cosmetics (coalesced topic names, reactions) go only while the budget has room to spare.
Under pressure a lane's waiting texts are merged into one post.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.deliveries import PostWords, Priority
from bridge.model import ContentKind, OutboxItem

MERGE_MOST = 10  # texts in one merged post


@dataclass(frozen=True)
class Choice:
    """What to send now: one delivery, or a lane's texts merged into one post.

    `prepare`: only make ready what the delivery needs (its topic) while it is still held.
    """

    items: tuple[OutboxItem, ...]
    prepare: bool = False

    @property
    def lane(self) -> str:
        return self.items[0].lane

    @property
    def ids(self) -> list[int]:
        return [item.id for item in self.items]


class Pending:
    """Kept sorted by id and indexed by lane as items come and go, because the group's worker
    chooses once per send and a backlog can hold thousands: a choice looks at lane heads only."""

    def __init__(self) -> None:
        self._items: dict[int, OutboxItem] = {}  # by id, ascending while `_sorted`
        self._sorted = True
        self._lanes: dict[str, dict[int, OutboxItem]] = {}  # words and notes, ascending ids
        self._cosmetics: dict[int, OutboxItem] = {}
        self.prepared: set[int] = set()  # held deliveries whose topic was seen to already
        self._turns = itertools.count()
        self._served: dict[str, int] = {}  # lane → the turn it was last chosen in

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: int) -> bool:
        return item_id in self._items

    def put(self, items: Iterable[OutboxItem]) -> None:
        for item in items:
            self._remove(item.id)
            if self._items and item.id < next(reversed(self._items)):
                self._sorted = False
            self._items[item.id] = item
            if item.priority >= Priority.COSMETIC:
                self._cosmetics[item.id] = item
                continue
            lane = self._lanes.setdefault(item.lane, {})
            later = bool(lane) and item.id < next(reversed(lane))
            lane[item.id] = item
            if later:
                self._lanes[item.lane] = dict(sorted(lane.items()))

    def _remove(self, item_id: int) -> None:
        item = self._items.pop(item_id, None)
        if item is None:
            return
        self._cosmetics.pop(item_id, None)
        lane = self._lanes.get(item.lane)
        if lane is not None:
            lane.pop(item_id, None)
            if not lane:
                del self._lanes[item.lane]
                self._served.pop(item.lane, None)  # back with new words: first in line

    def discard(self, ids: Iterable[int]) -> None:
        for item_id in ids:
            self._remove(item_id)
            self.prepared.discard(item_id)

    def replace(self, item: OutboxItem) -> None:
        if item.id in self._items:
            self.put([item])

    def ordered(self) -> list[OutboxItem]:
        if not self._sorted:
            self._items = dict(sorted(self._items.items()))
            self._sorted = True
        return list(self._items.values())

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest moment a held delivery may go."""
        later = [i.not_before for i in self._items.values() if i.not_before > now]
        return min(later) if later else None

    def in_order(self, now: datetime, busy: set[str]) -> Choice | None:
        """A customer's chat: strictly first in, first out."""
        if not self._items:
            return None
        head = (
            self._items[min(self._items)] if not self._sorted else next(iter(self._items.values()))
        )
        if head.lane in busy or head.not_before > now:
            return None
        return Choice((head,))

    def independent(self, busy: set[str]) -> list[Choice]:
        """Button answers: each on its own, all at once."""
        return [Choice((item,)) for item in self.ordered() if str(item.id) not in busy]

    def for_group(
        self, now: datetime, busy: set[str], free: int | None, reserve: int
    ) -> Choice | None:
        """The operator group: words, then notes, then cosmetics, oldest first per class."""
        heads = [next(iter(lane.values())) for lane in self._lanes.values()]
        ready = [h for h in heads if h.lane not in busy and h.not_before <= now]
        if ready:
            head = min(ready, key=lambda h: (h.priority, self._served.get(h.lane, -1), h.id))
            self._served[head.lane] = next(self._turns)
            under_pressure = free is not None and free <= reserve
            if under_pressure and head.kind == PostWords.kind:
                return Choice(merged(list(self._lanes[head.lane].values()), now))
            return Choice((head,))
        for head in sorted(heads, key=lambda h: h.id):  # a held first post: make its topic
            if (
                head.lane not in busy
                and head.kind == PostWords.kind
                and head.id not in self.prepared
            ):
                return Choice((head,), prepare=True)
        if free is None or free > reserve:
            for item_id in sorted(self._cosmetics):
                item = self._cosmetics[item_id]
                if item.lane not in busy and item.not_before <= now:
                    return Choice((item,))
        return None


def merged(lane: Sequence[OutboxItem], now: datetime) -> tuple[OutboxItem, ...]:
    """The lane's first delivery, with the text-only posts right after it when it is one."""
    first = lane[0]
    if not _texts_only(first):
        return (first,)
    taken = [first]
    for item in lane[1:]:
        if item.kind != PostWords.kind or item.not_before > now or not _texts_only(item):
            break
        if len(taken) >= MERGE_MOST:
            break
        taken.append(item)
    return tuple(taken)


def _texts_only(item: OutboxItem) -> bool:
    """Customers' words without files; an owner's words keep their own header, unmerged."""
    if item.payload.get("from_customer") is False:
        return False
    messages = item.payload.get("messages") or []
    return bool(messages) and all(m.get("kind") == ContentKind.TEXT.value for m in messages)
