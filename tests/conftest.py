"""Session-wide clean-up: PostgreSQL databases made for end-to-end tests are dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.harness import drop_created_databases


@pytest.fixture(scope="session", autouse=True)
def drop_test_databases() -> Iterator[None]:
    yield
    asyncio.run(drop_created_databases())
