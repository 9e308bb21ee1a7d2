"""Engine set-up and migrations, shared by `support-bridge run` and `support-bridge migrate`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    InvalidRequestError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bridge.errors import ConfigError
from bridge.storage.sqlite_cursors import make_cursors_in_place

MIGRATING = 0x5B_0001  # the advisory lock key held while migrating


def _check_sqlite_folder(url: str) -> None:
    """A missing or read-only folder is the usual SQLite mistake: say so before connecting."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(
            f"The folder of the SQLite file in DATABASE_URL ({folder}) does not exist or is not "
            "writable: create it or point DATABASE_URL elsewhere."
        )


def _sqlite_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in (database or "")


def make_engine(url: str) -> AsyncEngine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and foreign keys.

    A SQLite file gets one pooled connection. SQLite has one writer anyway; with several
    connections, transactions of concurrent lanes collided on its write lock, each waiting
    in the busy handler (sleeping, holding a pooled connection, then "database is locked"
    under load) and every connection's thread competing for the GIL. Through one connection
    they queue in the pool instead (first come, first served), and since no transaction
    spans a platform call, each holds it for a moment only.
    """
    # hide_parameters: an error's text then leaves out the statement's values (an update's
    # payload, a customer's message), and errors end up in logs
    options: dict[str, Any] = {
        "pool_pre_ping": not url.startswith("sqlite"),
        "hide_parameters": True,
    }
    if url.startswith("sqlite"):
        _check_sqlite_folder(url)
        if _sqlite_file(url):
            # a backlog of lanes may queue longer than the default 30 s; each turn is short
            options.update(pool_size=1, max_overflow=0, pool_timeout=600)
    try:
        engine = create_async_engine(url, **options)
    except (ArgumentError, NoSuchModuleError, InvalidRequestError, ImportError, ValueError) as exc:
        raise ConfigError(
            f"DATABASE_URL is not a usable async SQLAlchemy URL ({exc.__class__.__name__}): "
            "use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _skip_idle_rollbacks(engine.sync_engine.dialect)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    make_cursors_in_place(record.driver_connection)


def _skip_idle_rollbacks(dialect: Any) -> None:
    """Roll back only when SQLite has a transaction open.

    SQLAlchemy rolls back when a read-only session closes and again when the pool takes the
    connection back, also right after a commit. sqlite3 opens no transaction for a SELECT, so
    those rollbacks have nothing to end, yet each is a trip to aiosqlite's thread and back:
    four of the 26 per relayed message. `in_transaction` is sqlite3's own flag.
    """
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "_connection", None)  # the aiosqlite connection
        if getattr(driver, "in_transaction", True):
            rollback(dbapi_connection)

    dialect.do_rollback = do_rollback


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bridge.storage:migrations")
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # replicas starting together take turns
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATING}
                )
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
        if engine.dialect.name == "sqlite":  # a migration may have turned foreign keys off
            await engine.dispose()
    except (OSError, OperationalError, InterfaceError) as error:
        raise ConfigError(
            f"The database in DATABASE_URL cannot be used ({error.__class__.__name__}): "
            "check the URL, that the server runs and that the file's folder is writable."
        ) from None
