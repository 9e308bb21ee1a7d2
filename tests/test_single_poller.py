"""Polling is single-instance: a second poller on the same database refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from standins.telegram import FakeTelegram
from tests.harness import ON_POSTGRES, TOKEN, running_bridge


async def test_a_second_poller_refuses_and_may_start_once_the_first_stops(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = tmp_path / "shared.db"
    try:
        async with running_bridge(fake, db, webhook=False):
            with pytest.raises(ConfigError) as refused:
                async with running_bridge(fake, db, webhook=False):
                    pass
            sentence = str(refused.value)
            assert "already polls Telegram with this database" in sentence
            assert "set PUBLIC_URL" in sentence
            async with running_bridge(fake, tmp_path / "other.db", webhook=False):
                pass  # another database: another deployment, no conflict
        async with running_bridge(fake, db, webhook=False):
            pass  # the first let go when it stopped
    finally:
        await fake.stop()


async def test_a_second_process_on_one_sqlite_file_refuses_in_webhook_mode(tmp_path: Path) -> None:
    if ON_POSTGRES:
        pytest.skip("this run puts every bridge on PostgreSQL, where replicas are welcome")
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = tmp_path / "one.db"
    try:
        async with running_bridge(fake, db, webhook=True):
            with pytest.raises(ConfigError) as refused:
                async with running_bridge(fake, db, webhook=True):
                    pass
            sentence = str(refused.value)
            assert "already runs on this SQLite database" in sentence
            assert "PostgreSQL" in sentence
        async with running_bridge(fake, db, webhook=True):
            pass  # the first let go when it stopped
    finally:
        await fake.stop()
