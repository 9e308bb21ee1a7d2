"""Pacing: exact sliding windows, first come first served, albums count per item; replicas share
the windows through Redis (TEST_REDIS_URL) or PostgreSQL (TEST_DATABASE_URL) and together stay
within them; a shared store that fails never loses a send."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, load_settings
from bot.pacing_setup import open_pacing_store
from bot.redis_pacing import RedisPacingStore
from bot.telegram.rate_limit import RateLimiter
from bridge.errors import ConfigError
from bridge.pacing.memory import MemoryPacingStore
from bridge.pacing.pacer import Pacer
from bridge.pacing.postgres import PACING_SENDS, PostgresPacingStore
from bridge.pacing.store import Booking, PacingStore, Reservation
from bridge.pacing.windows import MARGIN, PAD, Window, reserve
from bridge.storage.database import make_engine, migrate
from tests.harness import TOKEN, ensure_database, free_port

REDIS = os.environ.get("TEST_REDIS_URL")
POSTGRES = os.environ.get("TEST_DATABASE_URL")
NO_REDIS = "TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)"
NO_POSTGRES = "TEST_DATABASE_URL is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
ROUNDING = 1e-5  # shared stores keep moments to the microsecond


class Booked:
    """One window's bookings, kept the way a store keeps them."""

    def __init__(self, window: Window | None) -> None:
        assert window is not None
        self.window = window
        self.moments: list[float] = []

    def reserve(self, count: int, now: float) -> float:
        moments = reserve(self.moments, self.window, count, now)
        self.moments += moments
        return moments[-1]


def test_one_per_second_per_chat_spaces_sends() -> None:
    chat, other = Booked(Window.per_second(1)), Booked(Window.per_second(1))
    assert chat.reserve(1, now=100.0) == 100.0
    assert chat.reserve(1, now=100.1) == 100.0 + MARGIN + PAD
    assert other.reserve(1, now=100.1) == 100.1  # another chat is not held up
    assert chat.reserve(1, now=105.0) == 105.0  # the window has passed


def test_group_window_allows_a_burst_then_waits_for_the_oldest_to_expire() -> None:
    group = Booked(Window.lasting(20, 60))
    moments = [group.reserve(1, now=10.0 + i * 0.01) for i in range(21)]
    assert moments[:20] == [10.0 + i * 0.01 for i in range(20)]
    assert moments[20] == 10.0 + 60 * MARGIN + PAD  # waits for the first to leave the window


def test_albums_count_per_item_and_order_is_kept() -> None:
    window = Booked(Window.lasting(3, 1))
    assert window.reserve(3, now=0.0) == 0.0
    later = window.reserve(2, now=0.5)
    assert later == MARGIN + PAD  # both wait until the first three leave the window
    assert window.reserve(1, now=0.6) == MARGIN + PAD  # the 3rd slot of that window
    assert window.reserve(1, now=0.7) == 2 * (MARGIN + PAD)  # then the next window


def test_zero_turns_a_limit_off_and_fractions_stretch_the_window() -> None:
    assert Window.per_second(0) is None
    assert Window.lasting(0, 60) is None
    assert Window.per_second(0.5) == Window(1, 2 * MARGIN + PAD)


@dataclass
class FakeClock:
    """Time that moves only when a test says so (any epoch: shared stores take it as given)."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


def most_within(moments: Sequence[float], seconds: float) -> int:
    """The largest number of sends in any window of `seconds` (starting at a send)."""
    ordered = sorted(moments)
    return max(sum(1 for m in ordered if start <= m < start + seconds) for start in ordered)


async def test_a_flooding_chat_does_not_hold_up_another_in_one_process() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, 0, 30, clock=clock)
    flood = [(await limiter.reserve(7)).moment for _ in range(5)]
    assert flood == pytest.approx([1_000 + n * (MARGIN + PAD) for n in range(5)])
    assert (await limiter.reserve(8)).moment == 1_000.0


# Replicas sharing a store ------------------------------------------------------------------


@dataclass
class Replicas:
    """Limiters as separate replicas would build them: each its own store client, one key space."""

    kind: str
    database_url: str | None
    namespace: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex}")
    stores: list[PacingStore] = field(default_factory=list)
    engines: list[AsyncEngine] = field(default_factory=list)

    def store(self) -> PacingStore:
        if self.kind == "redis":
            assert REDIS
            store: PacingStore = RedisPacingStore.from_url(REDIS)
        else:
            assert self.database_url
            engine = make_engine(self.database_url)
            self.engines.append(engine)
            store = PostgresPacingStore(engine)
        self.stores.append(store)
        return store

    def limiter(
        self,
        chat: float = 0,
        group: int = 0,
        overall: int = 0,
        clock: FakeClock | None = None,
    ) -> RateLimiter:
        return RateLimiter(chat, group, overall, self.store(), self.namespace, clock)

    async def close(self) -> None:
        for store in self.stores:
            await store.close()
        for engine in self.engines:
            await engine.dispose()


@pytest.fixture(scope="module")
async def pacing_database() -> AsyncIterator[str | None]:
    """A fresh migrated PostgreSQL database for this module (dropped when the session ends)."""
    if not POSTGRES:
        yield None
        return
    url = POSTGRES.rsplit("/", 1)[0] + "/sb_pacing_" + uuid.uuid4().hex[:12]
    await ensure_database(url)
    engine = make_engine(url)
    await migrate(engine)
    await engine.dispose()
    yield url


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.skipif(not REDIS, reason=NO_REDIS)),
        pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES, reason=NO_POSTGRES)),
    ]
)
async def replicas(
    request: pytest.FixtureRequest, pacing_database: str | None
) -> AsyncIterator[Replicas]:
    shared = Replicas(request.param, pacing_database)
    yield shared
    await shared.close()


async def test_two_replicas_together_stay_within_the_overall_limit(replicas: Replicas) -> None:
    clock = FakeClock()
    first = replicas.limiter(overall=5, clock=clock)
    second = replicas.limiter(overall=5, clock=clock)
    alone = RateLimiter(0, 0, 5, clock=clock)  # one process doing all of it
    shared, expected = [], []
    for n in range(30):
        replica = first if n % 2 == 0 else second
        shared.append((await replica.reserve(100 + n % 7)).moment)
        expected.append((await alone.reserve(100 + n % 7)).moment)
        clock.now += 0.05  # 20 a second arrive; 5 a second may go
    assert most_within(shared, 1.0) == 5
    assert shared == sorted(shared)  # first come, first served across the replicas
    assert shared == pytest.approx(expected, abs=ROUNDING)  # the same schedule as one process
    assert shared[-1] > 1_000 + 5.5  # the limit held them back, it did not just wave through


async def test_a_chat_limit_is_shared_and_a_flooder_holds_no_one_else_up(
    replicas: Replicas,
) -> None:
    clock = FakeClock()
    first, second = replicas.limiter(chat=1, clock=clock), replicas.limiter(chat=1, clock=clock)
    flood = [(await (first, second)[n % 2].reserve(42)).moment for n in range(6)]
    assert flood == pytest.approx([1_000 + n * (MARGIN + PAD) for n in range(6)], abs=ROUNDING)
    assert (await second.reserve(43)).moment == pytest.approx(1_000.0, abs=ROUNDING)


async def test_an_album_counts_per_item_in_a_shared_group_window(replicas: Replicas) -> None:
    clock = FakeClock()
    first, second = replicas.limiter(group=3, clock=clock), replicas.limiter(group=3, clock=clock)
    album = await first.reserve(-100123, count=3)
    assert album.delay == 0
    clock.now += 1
    later = await second.reserve(-100123)
    assert later.moment == pytest.approx(1_000 + 60 * MARGIN + PAD, abs=ROUNDING)
    assert later.delay == pytest.approx(60 * MARGIN + PAD - 1, abs=ROUNDING)


async def test_concurrent_reservations_of_two_replicas_never_share_a_slot(
    replicas: Replicas,
) -> None:
    """On the store's own clock, all at once: only atomic reservations keep the limit."""
    first, second = replicas.limiter(overall=5), replicas.limiter(overall=5)
    calls = [(first if n % 2 == 0 else second, 300 + n) for n in range(24)]
    done = await asyncio.gather(*(replica.reserve(chat) for replica, chat in calls))
    moments = [reservation.moment for reservation in done]
    window = Window.per_second(5)
    assert window is not None
    assert most_within(moments, window.seconds - ROUNDING) == 5
    for replica in (first, second):  # each replica's sends leave in the order they asked
        own = [r.moment for (limiter, _), r in zip(calls, done, strict=True) if limiter is replica]
        assert own == sorted(own)


async def test_redis_keys_expire_by_themselves() -> None:
    if not REDIS:
        pytest.skip(NO_REDIS)
    shared = Replicas("redis", None)
    try:
        limiter = shared.limiter(chat=1, overall=5)
        await limiter.reserve(42)
        await limiter.reserve(42)  # waits about a second: the key lives about that much longer
        store = shared.stores[0]
        assert isinstance(store, RedisPacingStore)
        client = store._client
        chat_ms = await client.pttl(f"support-bridge:pacing:{shared.namespace}:chat:42")
        all_ms = await client.pttl(f"support-bridge:pacing:{shared.namespace}:all")
        assert 1_000 < chat_ms <= 2_000 * (MARGIN + PAD) + 10
        assert 0 < all_ms <= 1_000 * (MARGIN + PAD) + 10
    finally:
        await shared.close()


async def test_postgresql_rows_are_pruned_as_reservations_go(pacing_database: str | None) -> None:
    if not pacing_database:
        pytest.skip(NO_POSTGRES)
    shared = Replicas("postgresql", pacing_database)
    try:
        clock = FakeClock(500_000.0)
        limiter = shared.limiter(chat=1, overall=5, clock=clock)
        for _ in range(3):
            await limiter.reserve(42)
        rows = (
            select(func.count())
            .select_from(PACING_SENDS)
            .where(PACING_SENDS.c.key.like(f"{shared.namespace}:%"))
        )
        engine = shared.engines[0]
        async with engine.connect() as connection:
            assert await connection.scalar(rows) == 6  # 3 sends, each in two windows
        clock.now += 600
        await limiter.reserve(42)
        async with engine.connect() as connection:
            assert await connection.scalar(rows) == 2  # only the new send's two bookings
    finally:
        await shared.close()


async def test_the_pacing_table_exists_on_sqlite_too(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pacing.db'}")
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert "pacing_sends" in tables
    finally:
        await engine.dispose()


# A shared store that fails -----------------------------------------------------------------


async def test_an_unreachable_redis_falls_back_to_pacing_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisPacingStore.from_url(f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0")
    await check_fallback(store, caplog)


async def test_an_unreachable_postgresql_falls_back_to_pacing_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(f"postgresql+asyncpg://postgres:s3cret-pass@127.0.0.1:{free_port()}/x")
    try:
        await check_fallback(PostgresPacingStore(engine), caplog)
    finally:
        await engine.dispose()


async def check_fallback(store: PacingStore, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, 0, 1, store, clock=clock)
    try:
        with caplog.at_level(logging.WARNING):
            moments = [(await limiter.reserve(n)).moment for n in (1, 2)]
    finally:
        await store.close()
    assert moments == pytest.approx([1_000, 1_000 + MARGIN + PAD])  # still paced, in-process
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per outage, not once per send
    assert store.name in warnings[0].getMessage()
    assert "s3cret" not in caplog.text


@dataclass
class FlakyStore:
    """Fails its first reservation, then books like the in-memory store."""

    name: str = "flaky"
    failures: int = 1
    inner: MemoryPacingStore = field(default_factory=MemoryPacingStore)

    async def reserve(
        self, bookings: Sequence[Booking], count: int, now: float | None = None
    ) -> Reservation:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store down")
        return await self.inner.reserve(bookings, count, now)

    async def close(self) -> None:
        await self.inner.close()


async def test_the_store_is_used_again_once_it_answers(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    pacer = Pacer(store, FakeClock(), rest=0)
    booking = [Booking("all", Window(1, 1.0))]
    with caplog.at_level(logging.INFO):
        await pacer.reserve(booking)  # fails over to this process
        await pacer.reserve(booking)  # the store again
    levels = [r.levelname for r in caplog.records if r.name == "bridge.pacing.pacer"]
    assert levels == ["WARNING", "INFO"]
    assert store.inner._booked == {"all": [1_000.0]}  # only the second one went to the store


# Choosing the store at start ---------------------------------------------------------------


async def test_the_store_follows_the_settings(tmp_path: Path) -> None:
    sqlite = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'choice.db'}")
    postgres = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    try:
        assert isinstance(await open_pacing_store(None, sqlite), MemoryPacingStore)
        assert isinstance(await open_pacing_store(None, postgres), PostgresPacingStore)
        if REDIS:
            store = await open_pacing_store(REDIS, postgres)
            assert isinstance(store, RedisPacingStore)
            await store.close()
    finally:
        await sqlite.dispose()
        await postgres.dispose()


async def test_an_unreachable_redis_at_start_is_one_clear_sentence(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'start.db'}")
    try:
        with pytest.raises(ConfigError) as raised:
            await open_pacing_store(f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0", engine)
    finally:
        await engine.dispose()
    message = str(raised.value)
    assert message.startswith("REDIS_URL is set but Redis cannot be used (ConnectionError)")
    assert message.count(".") == 1
    assert "s3cret" not in message


def test_redis_url_must_name_redis() -> None:
    def settings(redis_url: str) -> Settings:
        return load_settings(
            Settings, telegram_bot_token=TOKEN, operator_chat_id=-100123, redis_url=redis_url
        )

    with pytest.raises(ConfigError) as raised:
        settings("http://127.0.0.1:6379")
    assert str(raised.value) == (
        "REDIS_URL is invalid (must start with redis://, rediss:// or unix://): "
        "fix it in .env or the environment."
    )
    assert settings("").redis_url is None
    assert settings("rediss://:pw@cache:6380/1").redis_url == "rediss://:pw@cache:6380/1"
    assert "pw@" not in repr(settings("redis://:pw@cache:6379/0"))
