"""Shared fixtures: a migrated storage engine on SQLite and PostgreSQL, and the session-wide
clean-up of PostgreSQL databases made for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.storage.database import make_engine, migrate
from tests.harness import drop_created_databases
from tests.log_watch import LogWatch

POSTGRES = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session", autouse=True)
def drop_test_databases() -> Iterator[None]:
    yield
    asyncio.run(drop_created_databases())


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES,
                reason="TEST_DATABASE_URL is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)",
            ),
        ),
    ]
)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on a fresh SQLite file, and on PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'storage.db'}")
    else:
        assert POSTGRES
        engine = make_engine(POSTGRES)
        async with engine.begin() as connection:  # a clean schema, whatever ran before
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
def logs_keep_secrets() -> Iterator[LogWatch]:
    """No test may see the bridge log a secret or what a customer wrote (tests/log_watch.py)."""
    with LogWatch() as watch:
        yield watch
    leaks = watch.leaks()
    if leaks:
        pytest.fail("the logs show what they must not:\n" + "\n".join(leaks[:10]), pytrace=False)
