"""Business connections as Telegram last reported them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.business import BusinessAccount
from bridge.storage.tables import BusinessAccountRow


class SqlBusinessAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, connection_id: str) -> BusinessAccount | None:
        row = await self._session.get(BusinessAccountRow, connection_id)
        return _account(row) if row is not None else None

    async def all(self) -> list[BusinessAccount]:
        rows = await self._session.scalars(
            select(BusinessAccountRow).order_by(BusinessAccountRow.owner_name)
        )
        return [_account(row) for row in rows]

    async def save(self, account: BusinessAccount) -> None:
        """Store what Telegram reports now (one lane per connection: no concurrent writers)."""
        assert account.updated_at is not None
        row = await self._session.get(BusinessAccountRow, account.connection_id)
        if row is None:
            row = BusinessAccountRow(connection_id=account.connection_id)
            self._session.add(row)
        row.owner_id = account.owner_id
        row.owner_name = account.owner_name[:256]
        row.owner_username = account.owner_username[:64] if account.owner_username else None
        row.enabled = account.enabled
        row.can_reply = account.can_reply
        row.can_read = account.can_read
        row.updated_at = account.updated_at
        await self._session.flush()


def _account(row: BusinessAccountRow) -> BusinessAccount:
    return BusinessAccount(
        connection_id=row.connection_id,
        owner_id=row.owner_id,
        owner_name=row.owner_name,
        owner_username=row.owner_username,
        enabled=row.enabled,
        can_reply=row.can_reply,
        can_read=row.can_read,
        updated_at=row.updated_at,
    )
