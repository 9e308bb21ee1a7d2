"""Who may work a lane right now: one process on one machine, or one of several replicas.

In one process the in-memory `Lanes` already keep a lane's work in order, so `LocalLaneLocks`
grants every lane at once. Several replicas on one PostgreSQL share the inbox; there a lane must
be worked by one replica at a time (`bridge.storage.advisory_locks`), or two replicas could send
one customer's messages out of order or open two topics for a new customer.
"""

from __future__ import annotations

from typing import Protocol


class LaneLocks(Protocol):
    @property
    def shared(self) -> bool:
        """True when other processes work the same inbox (lanes must be claimed)."""
        ...

    async def try_take(self, lane: str) -> bool:
        """Claim the lane without waiting; False when another process works it."""
        ...

    async def release(self, lane: str) -> None: ...

    async def close(self) -> None: ...


class LocalLaneLocks:
    """One process: the in-memory lanes are the whole truth."""

    shared = False

    async def try_take(self, lane: str) -> bool:
        return True

    async def release(self, lane: str) -> None:
        return None

    async def close(self) -> None:
        return None
