"""The errors by which the database says "not now" rather than "never".

A locked SQLite file, a full disk, a dropped or refused connection, a pool wait that ran out:
writing the same thing again later can work, so a caller that must not lose what it writes
(the intake storing an update) waits and tries again instead of giving up. Every error the
driver reports is counted in, not only OperationalError: asyncpg's "disk full" or "the server
is shutting down" reach SQLAlchemy as a plain DBAPIError. A refused connection surfaces as the
OSError itself.
"""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, OSError)

# "Never": the same write fails the same way again (a constraint, bad data, a bug in a query).
NEVER: tuple[type[Exception], ...] = (
    IntegrityError,
    DataError,
    ProgrammingError,
    NotSupportedError,
)


def unavailable(error: BaseException) -> bool:
    """The database said "not now": worth the same write again later."""
    return isinstance(error, DATABASE_UNAVAILABLE) and not isinstance(error, NEVER)
