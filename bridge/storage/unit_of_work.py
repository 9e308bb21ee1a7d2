"""The unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.storage.business_accounts import SqlBusinessAccounts
from bridge.storage.customer_data import SqlCustomerData
from bridge.storage.repositories import (
    SqlConversations,
    SqlCustomers,
    SqlHeldMessages,
    SqlInbox,
    SqlMediaLinks,
    SqlMessageLinks,
    SqlNotices,
    SqlOperators,
    SqlOutbox,
    SqlSnippets,
)
from bridge.storage.retention import SqlRetention


class SqlUnitOfWork:
    customers: SqlCustomers
    conversations: SqlConversations
    links: SqlMessageLinks
    inbox: SqlInbox
    media: SqlMediaLinks
    held: SqlHeldMessages
    outbox: SqlOutbox
    notices: SqlNotices
    operators: SqlOperators
    retention: SqlRetention
    customer_data: SqlCustomerData
    snippets: SqlSnippets
    business: SqlBusinessAccounts

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self.customers = SqlCustomers(self._session)
        self.conversations = SqlConversations(self._session)
        self.links = SqlMessageLinks(self._session)
        self.inbox = SqlInbox(self._session)
        self.media = SqlMediaLinks(self._session)
        self.held = SqlHeldMessages(self._session)
        self.outbox = SqlOutbox(self._session)
        self.notices = SqlNotices(self._session)
        self.operators = SqlOperators(self._session)
        self.retention = SqlRetention(self._session)
        self.customer_data = SqlCustomerData(self._session)
        self.snippets = SqlSnippets(self._session)
        self.business = SqlBusinessAccounts(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._session.close()  # rolls back whatever was not committed

    async def commit(self) -> None:
        await self._session.commit()


class SqlUnitOfWorkFactory:
    """Makes a fresh unit of work per use; the composition root hands this to the core."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
