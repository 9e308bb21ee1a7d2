"""Garbage collection tuned for a long-running service that imports a lot at start.

Python's full collections walk every object alive, and a started bridge holds a few hundred
thousand that live as long as the process: aiogram's types, pydantic's validators,
SQLAlchemy's metadata. Measured under load (bench/), a full collection took about 0.4 s, a
stall of every message in flight, and collections took a fifth of the process's time.
Freezing what exists once the bridge has started takes it out of every later collection,
and a larger first threshold makes young collections rarer; cycles made later are still
collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def settle_after_start() -> tuple[int, int, int]:
    """Freeze what the start left alive and raise the young threshold; returns the old ones."""
    before = gc.get_threshold()
    gc.collect()  # what the start left as garbage goes now, not into the frozen set
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, before[1], before[2])
    return before


def restore(thresholds: tuple[int, int, int]) -> None:
    """Undo `settle_after_start` (for a process that runs more than the bridge, e.g. bench/)."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)
