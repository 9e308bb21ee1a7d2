"""Leases in the database: a role (polling Telegram) that only one process may hold.

Telegram hands each update to one getUpdates caller; two pollers on one database would split
the conversation between them. SQLite serves one process: two on one file would break the order
of lanes. The holder renews its lease; if it dies, the lease expires (at once when it ran on this
machine, as its process id tells).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.clock import Clock
from bridge.storage.tables import LeaseRow


def this_process() -> str:
    """Host, pid and a random tag: unique even for two bridges in one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:128]


def gone(holder: str) -> bool:
    """A holder on this machine whose process has ended (killed: it could not let go)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        name: str,
        ttl: timedelta = timedelta(seconds=30),
        holder: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.name = name
        self.ttl = ttl
        self.holder = holder or this_process()

    async def acquire(self) -> tuple[bool, str, datetime | None]:
        """Take or renew the lease; (ok, current holder, until when)."""
        now = self._clock.now()
        async with self._sessions() as session:
            row = await session.scalar(
                select(LeaseRow).where(LeaseRow.name == self.name).with_for_update()
            )
            if row is None:
                session.add(LeaseRow(name=self.name, holder=self.holder, expires_at=now + self.ttl))
            elif row.holder == self.holder or row.expires_at <= now or gone(row.holder):
                row.holder, row.expires_at = self.holder, now + self.ttl
            else:
                return False, row.holder, row.expires_at
            try:
                await session.commit()
            except IntegrityError:  # another process inserted it at the same moment
                await session.rollback()
                return False, "another process", None
        return True, self.holder, now + self.ttl

    async def renew(self) -> None:
        ok, holder, _ = await self.acquire()
        if not ok:
            raise RuntimeError(f"lease {self.name} was taken over by {holder}")

    async def release(self) -> None:
        async with self._sessions() as session:
            row = await session.get(LeaseRow, self.name)
            if row is not None and row.holder == self.holder:
                await session.delete(row)
                await session.commit()
