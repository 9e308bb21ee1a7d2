"""Benchmark: the real bridge against a bare aiogram baseline, on fake Telegram and Viber servers.

Run: ``cd /work/main && .venv/bin/python -m bench.run`` (``--quick`` for a smoke run,
``--profile`` for a cProfile of the bridge under the closed-loop load instead of the figures,
``--doc PATH`` to write the document elsewhere, ``--pg-url`` for the PostgreSQL admin URL).
Everything (fake servers, bridge, baseline, load generator) runs in one process and one event
loop, so latencies include time spent waiting for the others; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import itertools
import json
import logging
import math
import os
import platform
import pstats
import re
import resource
import socket
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import JSON as SqlJson
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bench.baseline import SECRET as BASELINE_SECRET
from bench.baseline import VIBER_SIGNATURE, Baseline
from bot.app import Application
from bot.config import Settings
from bot.garbage_collection import restore, settle_after_start
from bridge.storage.database import make_engine, migrate
from bridge.storage.tables import ConversationRow, CustomerRow, UtcDateTime
from standins.telegram import FakeTelegram
from standins.viber import FakeViber, signature_of

JSON = dict[str, Any]
# A customer message: ("telegram:<chat id>", message_id) or ("viber", sequence number)
Key = tuple[str, int]
TELEGRAM, VIBER = "telegram", "viber"
SQLITE, POSTGRES = "SQLite", "PostgreSQL"
TOKEN = "123456789:AAF-bench-token-for-support-bridge_0123"  # noqa: S105 - fake server only
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
VIBER_TEXT = re.compile(r"Viber message (\d+):")
TELEGRAM_TEXT = re.compile(r"Telegram message (\d+):")
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

# the targets
TARGET_RATIO = 0.80
TARGET_P99_MS = 15.0
TARGET_SPREAD = 0.10


# ---------------------------------------------------------------------------------- plumbing


def say(message: str) -> None:
    """Progress on stderr, so a long run shows where it is."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib() -> float:
    """Resident set size of this process now (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Fakes:
    """The fake Telegram and Viber servers one app talks to."""

    telegram: FakeTelegram
    viber: FakeViber
    viber_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    telegram_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # a Telegram text's sequence number -> its key, for relays that post the text itself
    telegram_keys: dict[int, Key] = field(default_factory=dict)


@dataclass
class Target:
    """One app under test: where to POST its updates and the fakes it talks to."""

    name: str
    telegram_url: str
    viber_url: str
    secret: str
    fakes: Fakes


@dataclass(frozen=True)
class Customer:
    platform: str  # TELEGRAM or VIBER
    user: JSON  # the fake's user object

    @property
    def name(self) -> str:
        return str(self.user.get("first_name") or self.user["name"])


@dataclass(frozen=True)
class Item:
    """One customer message, serialised (and for Viber signed) before the clock starts."""

    key: Key
    platform: str
    body: bytes
    signature: str = ""  # X-Viber-Content-Signature of a Viber callback


Stream = list[Item]


@dataclass
class Result:
    sent: int
    relayed: int
    failures: int
    wall: float  # first POST to last relay, seconds
    latencies: list[float] = field(default_factory=list)  # seconds
    cpu: float = math.nan  # process CPU seconds spent from the first POST to the last relay
    group_ops: float = math.nan  # operations charged to the operator group, per message relayed
    parts: dict[str, Result] = field(default_factory=dict)  # per platform, same wall clock

    @property
    def cpu_ms(self) -> float:
        """Process CPU per relayed message (fake servers and load generator included)."""
        return self.cpu / self.relayed * 1000 if self.relayed else math.nan

    @property
    def throughput(self) -> float:
        return self.relayed / self.wall if self.wall > 0 else math.nan

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else math.nan


class Relays:
    """When each customer message reached the group, read from the fake Telegram's call log.

    A Telegram message is relayed by a ``copyMessage`` whose ``from_chat_id`` + ``message_id``
    are the customer's, or by a ``sendMessage`` into the group that carries its text (a new
    customer's card and first words share one post); a Viber text by a ``sendMessage`` into the
    group whose text carries the message's unique sequence number.
    """

    def __init__(self, fakes: Fakes) -> None:
        self.fake = fakes.telegram
        self._telegram_keys = fakes.telegram_keys
        self._ops0 = self.fake.operation_count(self.fake.operator_chat_id)
        self.at: dict[Key, float] = {}
        self._seen = 0

    def scan(self) -> None:
        calls = self.fake.calls
        group = self.fake.operator_chat_id
        for call in calls[self._seen :]:
            params = call.params
            method = call.method.lower()
            if method not in ("copymessage", "sendmessage"):
                continue
            if int(params.get("chat_id", 0)) != group:
                continue
            if method == "copymessage":
                key = (f"{TELEGRAM}:{int(params['from_chat_id'])}", int(params["message_id"]))
                self.at.setdefault(key, call.at)
            else:
                posted = str(params.get("text", ""))
                for found in VIBER_TEXT.finditer(posted):
                    self.at.setdefault((VIBER, int(found.group(1))), call.at)
                for found in TELEGRAM_TEXT.finditer(posted):
                    key = self._telegram_keys.get(int(found.group(1)))
                    if key is not None:
                        self.at.setdefault(key, call.at)
        self._seen = len(calls)

    async def group_operations(self, quiet: float = 0.5, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Operations charged to the group since this started, once the bot has been quiet
        for `quiet` seconds (a topic's icon may follow the last relay)."""
        deadline = time.monotonic() + timeout
        seen = len(self.fake.calls)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < quiet:
            await asyncio.sleep(0.05)
            if len(self.fake.calls) != seen:
                seen, quiet_since = len(self.fake.calls), time.monotonic()
        return self.fake.operation_count(self.fake.operator_chat_id) - self._ops0

    async def wait(self, keys: Sequence[Key], timeout: float = 120.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if all(k in self.at for k in keys) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.01)


def make_customers(fakes: Fakes, count: int, viber_share: float) -> list[Customer]:
    """`count` customers; every 1/viber_share-th one is on Viber, spread evenly."""
    customers: list[Customer] = []
    for i in range(count):
        if math.floor((i + 1) * viber_share) > math.floor(i * viber_share):
            user = fakes.viber.add_user(f"ViberCustomer{i}", language="en")
            customers.append(Customer(VIBER, user))
        else:
            user = fakes.telegram.add_user(f"Customer{i}", language_code="en")
            customers.append(Customer(TELEGRAM, user))
    return customers


def make_stream(fakes: Fakes, customers: Sequence[Customer], count: int) -> Stream:
    """`count` text messages, round-robin over `customers`, built before the clock starts."""
    stream: Stream = []
    for i in range(count):
        customer = customers[i % len(customers)]
        if customer.platform == TELEGRAM:
            user = customer.user
            n = next(fakes.telegram_seq)
            text = f"Telegram message {n}: hello from customer {user['id']}"
            update = fakes.telegram.customer_message(user, text=text)
            key = (f"{TELEGRAM}:{user['id']}", int(update["message"]["message_id"]))
            fakes.telegram_keys[n] = key
            stream.append(Item(key, TELEGRAM, json.dumps(update).encode()))
        else:
            n = next(fakes.viber_seq)
            text = f"Viber message {n}: hello from {customer.name}"
            event = fakes.viber.message_event(customer.user, fakes.viber.text(text))
            body = json.dumps(event).encode()
            signature = signature_of(body, fakes.viber.auth_token)
            stream.append(Item((VIBER, n), VIBER, body, signature))
    return stream


async def _post(
    session: aiohttp.ClientSession, target: Target, item: Item, sent: dict[Key, float]
) -> bool:
    if item.platform == TELEGRAM:
        url, headers = target.telegram_url, {SECRET_HEADER: target.secret}
    else:
        url, headers = target.viber_url, {VIBER_SIGNATURE: item.signature}
    headers["Content-Type"] = "application/json"
    sent[item.key] = time.monotonic()
    try:
        async with session.post(url, data=item.body, headers=headers) as response:
            await response.read()
            return response.status == 200
    except aiohttp.ClientError:
        return False


def _result(
    stream: Stream, relays: Relays, sent: dict[Key, float], failures: int, start: float
) -> Result:
    keys = [item.key for item in stream]
    got = [k for k in keys if k in relays.at]
    last = max((relays.at[k] for k in got), default=math.nan)
    return Result(
        sent=len(stream),
        relayed=len(got),
        failures=failures,
        wall=last - start,
        latencies=[relays.at[k] - sent[k] for k in got],
    )


async def _collect(
    relays: Relays, stream: Stream, sent: dict[Key, float], oks: dict[Key, bool], cpu0: float
) -> Result:
    await relays.wait([item.key for item in stream])
    cpu = cpu_seconds() - cpu0
    start = min(sent.values())
    fails = [k for k, ok in oks.items() if not ok]
    result = _result(stream, relays, sent, len(fails), start)
    result.cpu = cpu
    result.group_ops = await relays.group_operations() / max(1, result.relayed)
    for name in (TELEGRAM, VIBER):
        part = [item for item in stream if item.platform == name]
        if part:
            failed = sum(1 for item in part if not oks.get(item.key, False))
            result.parts[name] = _result(part, relays, sent, failed, start)
    return result


async def drive_closed(target: Target, stream: Stream, concurrency: int = 40) -> Result:
    """As fast as it goes: at most `concurrency` POSTs in flight (Telegram's default 40)."""
    relays = Relays(target.fakes)
    relays.scan()
    sent: dict[Key, float] = {}
    queue = iter(stream)
    oks: dict[Key, bool] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for item in queue:
                oks[item.key] = await _post(session, target, item, sent)

        cpu0 = cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return await _collect(relays, stream, sent, oks, cpu0)


async def drive_rate(target: Target, stream: Stream, rate: float) -> Result:
    """Open loop: POST i starts at t0 + i/rate whatever happened to the earlier ones."""
    relays = Relays(target.fakes)
    relays.scan()
    sent: dict[Key, float] = {}
    oks: dict[Key, bool] = {}
    tasks: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(item: Item) -> None:
            oks[item.key] = await _post(session, target, item, sent)

        cpu0 = cpu_seconds()
        start = time.monotonic()
        for i, item in enumerate(stream):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(item)))
        await asyncio.gather(*tasks)
        return await _collect(relays, stream, sent, oks, cpu0)


def bridge_settings(fakes: Fakes, database_url: str) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "telegram_bot_token": fakes.telegram.token,
        "operator_chat_id": fakes.telegram.operator_chat_id,
        "telegram_api_url": fakes.telegram.url,
        "viber_auth_token": fakes.viber.auth_token,
        "viber_api_url": fakes.viber.url,
        "public_url": f"http://127.0.0.1:{port}",
        "http_host": "127.0.0.1",
        "http_port": port,
        "database_url": database_url,
        "working_hours": "24/7",
        "rate_limit_chat_per_second": 0,
        "rate_limit_group_per_minute": 0,
        "rate_limit_global_per_second": 0,
        "webhook_wait_seconds": 0,
        # the SLA reminder is periodic work, not a message's cost: keep it out of the rows
        "sla_first_response_seconds": 24 * 3600,
        "log_level": "WARNING",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_fakes() -> AsyncIterator[Fakes]:
    telegram, viber = FakeTelegram(TOKEN), FakeViber()
    await telegram.start()
    await viber.start()
    try:
        yield Fakes(telegram, viber)
    finally:
        await viber.stop()
        await telegram.stop()


@asynccontextmanager
async def running_bridge(fakes: Fakes, database_url: str) -> AsyncIterator[Target]:
    app = Application(bridge_settings(fakes, database_url))
    thresholds = gc.get_threshold()
    try:
        await app.start()
        thresholds = settle_after_start()  # as `support-bridge run` does after its start
        base = f"http://127.0.0.1:{app.port}"
        yield Target(
            "bridge",
            f"{base}/telegram/webhook",
            f"{base}/viber/webhook",
            app.settings.webhook_secret,
            fakes,
        )
    finally:
        await app.stop()
        restore(thresholds)  # the baseline runs in this process too, with Python's defaults


@asynccontextmanager
async def running_baseline(fakes: Fakes) -> AsyncIterator[Target]:
    telegram = fakes.telegram
    topic = telegram.create_topic("Baseline: all customers").thread_id
    baseline = Baseline(
        telegram.url, telegram.token, telegram.operator_chat_id, topic, fakes.viber.auth_token
    )
    try:
        await baseline.start()
        yield Target("baseline", baseline.url, baseline.viber_url, BASELINE_SECRET, fakes)
    finally:
        await baseline.stop()


# ---------------------------------------------------------------------------------- databases


def shown(url: str) -> str:
    """`url` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the --pg-url given"


def asyncpg_dsn(url: str) -> str:
    """The plain libpq-style DSN asyncpg takes, from an SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_version(admin_url: str) -> str:
    """The server's version and the settings that matter most for writes, or an exception
    saying why PostgreSQL cannot be used."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=5)
    try:
        version = await conn.fetchval("SHOW server_version")
        settings = [
            f"{name} {await conn.fetchval(f'SHOW {name}')}"
            for name in ("shared_buffers", "synchronous_commit", "fsync", "max_connections")
        ]
        return f"{version}; {', '.join(settings)}"
    finally:
        await conn.close()


async def _admin(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(
    backend: str, size: int, workdir: Path, admin_url: str
) -> AsyncIterator[str]:
    """A fresh, empty database for one scaling row: an SQLite file, or a PostgreSQL database
    named ``bench_<pid>_<size>`` created through `admin_url` and dropped afterwards."""
    if backend == SQLITE:
        yield f"sqlite+aiosqlite:///{workdir / f'scale-{size}.sqlite3'}"
        return
    name = f"bench_{os.getpid()}_{size}"
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def prefill(
    database_url: str, active: Sequence[tuple[Customer, int]], total: int, viber_share: float
) -> None:
    """`total` customers with a topic and a conversation; `active` come first.

    The active customers' conversations are open; the fillers' are closed (history), as in a
    real database where most customers wrote once long ago.  Fillers are on Viber in about the
    same share as the stream.  The active rows are a Core executemany; the fillers and all
    conversations are one ``INSERT ... SELECT`` each, the fillers generated by a recursive CTE
    (portable to SQLite and PostgreSQL), so 100,000 rows take seconds, not minutes.  PostgreSQL
    is ``ANALYZE``d afterwards, so the planner has statistics and autovacuum does not analyse
    in the middle of the measurement.
    """
    moment = datetime.now(UTC)
    now = bindparam("now", moment, type_=UtcDateTime())
    common: JSON = {
        "username": None,
        "language": "en",
        "details": {},
        "first_seen_at": moment,
        "last_seen_at": moment,
        "card_message_id": None,
        "banned": False,
        "unreachable": None,
        "language_chosen": False,
    }
    rows = [
        {
            **common,
            "platform": customer.platform,
            "external_id": str(customer.user["id"]),
            "full_name": customer.name,
            "profile_url": (
                f"tg://user?id={customer.user['id']}" if customer.platform == TELEGRAM else None
            ),
            "topic_id": topic,
        }
        for customer, topic in active
    ]
    # filler i, len(active) <= i < total; on Viber when floor(i * percent / 100) steps up
    percent = round(viber_share * 100)
    anchor = select(literal_column(str(len(active)), Integer).label("i"))
    seq = anchor.cte("seq", recursive=True)
    seq = seq.union_all(select(seq.c.i + 1).where(seq.c.i + 1 < total))
    i = seq.c.i
    viber = (i + 1) * percent // 100 > i * percent // 100
    external = cast(i + 900_000_000, String)
    fillers = {
        "platform": case((viber, literal(VIBER)), else_=literal(TELEGRAM)),
        "external_id": case((viber, literal("bench-filler-") + cast(i, String)), else_=external),
        "full_name": literal("Filler ") + cast(i, String),
        "language": literal("en"),
        "profile_url": case((viber, null()), else_=literal("tg://user?id=") + external),
        "details": literal({}, SqlJson),
        "topic_id": i + 50_000_000,
        "first_seen_at": now,
        "last_seen_at": now,
        "banned": literal(False),
        "language_chosen": literal(False),
    }
    opened = CustomerRow.id <= bindparam("last_active", type_=Integer)
    conversations = {
        "customer_id": CustomerRow.id,
        "state": case((opened, literal("new")), else_=literal("closed")),
        "opened_at": now,
        "closed_at": case((opened, null()), else_=now),
        "opened_offline": literal(False),
    }
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            if rows:
                await conn.execute(insert(CustomerRow), rows)
            last_active = (await conn.execute(select(func.max(CustomerRow.id)))).scalar() or 0
            if total > len(active):
                filler_rows = select(*fillers.values()).where(i < total)
                await conn.execute(insert(CustomerRow).from_select(list(fillers), filler_rows))
            conversation_rows = select(*conversations.values()).order_by(CustomerRow.id)
            await conn.execute(
                insert(ConversationRow).from_select(list(conversations), conversation_rows),
                {"last_active": last_active},
            )
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------- scenarios


@dataclass
class Config:
    customers: int = 200
    viber_share: float = 0.25
    messages: int = 2_000
    fixed_rate: float = 200
    fixed_messages: int = 1_000
    scale_rate: float = 20  # well below the bridge's capacity, so queueing does not dominate
    scale_messages: int = 600
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    pg_url: str = PG_ADMIN_URL
    postgres: bool = True


@dataclass
class Figures:
    first_contact: dict[str, Result] = field(default_factory=dict)
    closed: dict[str, Result] = field(default_factory=dict)
    fixed: dict[str, Result] = field(default_factory=dict)
    scale: dict[str, dict[int, Result]] = field(default_factory=dict)  # backend → size → row
    prefill_s: dict[str, dict[int, float]] = field(default_factory=dict)
    rss: dict[str, tuple[float, float]] = field(default_factory=dict)  # (before, while running)
    postgres_version: str = ""
    postgres_skipped: str = ""  # why PostgreSQL was not measured


async def head_to_head(target: Target, cfg: Config, figures: Figures) -> None:
    fakes = target.fakes
    customers = make_customers(fakes, cfg.customers, cfg.viber_share)
    # first contact: one message per new customer (the bridge opens a topic and posts a card)
    say(f"{target.name}: first contact, {len(customers)} customers")
    figures.first_contact[target.name] = await drive_closed(
        target, make_stream(fakes, customers, len(customers))
    )
    say(f"{target.name}: closed loop, {cfg.messages:,} messages")
    stream = make_stream(fakes, customers, cfg.messages)
    figures.closed[target.name] = await drive_closed(target, stream)
    say(f"{target.name}: {cfg.fixed_messages:,} messages at {cfg.fixed_rate:.0f}/s")
    fixed = make_stream(fakes, customers, cfg.fixed_messages)
    figures.fixed[target.name] = await drive_rate(target, fixed, cfg.fixed_rate)


async def scaling(backend: str, size: int, cfg: Config, figures: Figures, workdir: Path) -> None:
    async with (
        running_fakes() as fakes,
        scratch_database(backend, size, workdir, cfg.pg_url) as url,
    ):
        customers = make_customers(fakes, cfg.customers, cfg.viber_share)
        topics = [fakes.telegram.create_topic(c.name).thread_id for c in customers]
        started = time.monotonic()
        await prefill(url, list(zip(customers, topics, strict=True)), size, cfg.viber_share)
        took = time.monotonic() - started
        figures.prefill_s.setdefault(backend, {})[size] = took
        say(f"{backend}, {size:,} customers: prefilled in {took:.1f} s, measuring")
        rss_before = rss_mib()
        async with running_bridge(fakes, url) as target:
            await drive_closed(target, make_stream(fakes, customers, len(customers)))  # warm-up
            stream = make_stream(fakes, customers, cfg.scale_messages)
            result = await drive_rate(target, stream, cfg.scale_rate)
            figures.scale.setdefault(backend, {})[size] = result
            if size == max(cfg.sizes):
                figures.rss[backend] = (rss_before, rss_mib())


async def run(cfg: Config) -> Figures:
    figures = Figures()
    backends = [SQLITE]
    if not cfg.postgres:
        figures.postgres_skipped = "turned off with --no-postgres"
    else:
        try:
            figures.postgres_version = await postgres_version(cfg.pg_url)
            backends.append(POSTGRES)
        except (OSError, TimeoutError, asyncpg.PostgresError, ValueError, ArgumentError) as error:
            figures.postgres_skipped = (
                f"{shown(cfg.pg_url)} is not usable ({error.__class__.__name__}: {error})"
            )
    if figures.postgres_skipped:
        say(f"PostgreSQL rows skipped: {figures.postgres_skipped}")
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        workdir = Path(tmp)
        async with (
            running_fakes() as fakes,
            running_bridge(fakes, f"sqlite+aiosqlite:///{workdir / 'bridge.sqlite3'}") as target,
        ):
            await head_to_head(target, cfg, figures)
        async with running_fakes() as fakes, running_baseline(fakes) as target:
            await head_to_head(target, cfg, figures)
        for backend in backends:
            for size in cfg.sizes:
                await scaling(backend, size, cfg, figures, workdir)
    return figures


async def profile(cfg: Config) -> str:
    """cProfile of the whole process while the bridge takes the closed-loop stream."""
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        async with (
            running_fakes() as fakes,
            running_bridge(fakes, f"sqlite+aiosqlite:///{Path(tmp) / 'p.sqlite3'}") as target,
        ):
            customers = make_customers(fakes, cfg.customers, cfg.viber_share)
            await drive_closed(target, make_stream(fakes, customers, len(customers)))
            stream = make_stream(fakes, customers, cfg.messages)
            profiler = cProfile.Profile()
            profiler.enable()
            await drive_closed(target, stream)
            profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


# ---------------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cost_verdict(backend: str, rows: dict[int, Result]) -> tuple[str, str, str, bool]:
    """Cost is CPU per message and the typical (p50) latency; the mean is shown too, but a few
    stalls of other work move it up or down by more than the cost of a message does."""
    sizes = sorted(rows)
    first = rows[sizes[0]]

    def spreads(value: Callable[[Result], float]) -> dict[int, float]:
        return {n: value(rows[n]) / value(first) - 1 for n in sizes[1:]}

    cpu = spreads(lambda r: r.cpu_ms)
    p50 = spreads(lambda r: r.ms(50))
    mean = spreads(lambda r: r.mean_ms)

    def text(found: dict[int, float]) -> str:
        return ", ".join(f"{n:,}: {v:+.0%}" for n, v in found.items())

    worst = max((*cpu.values(), *p50.values()), key=abs, default=0.0)
    return (
        f"Per-message cost, {sizes[0]:,} → {sizes[-1]:,} customers ({backend})",
        f"within ±{TARGET_SPREAD:.0%} (CPU per message and p50)",
        f"CPU per message vs {sizes[0]:,}: {text(cpu)} ({first.cpu_ms:.1f} ms at "
        f"{sizes[0]:,}); p50: {text(p50)} ({first.ms(50):.1f} ms); mean (not judged): "
        f"{text(mean)}",
        abs(worst) <= TARGET_SPREAD,
    )


def verdicts(cfg: Config, f: Figures) -> list[tuple[str, str, str, bool]]:
    """(target, required, measured, holds) for each target of the issue."""
    ratio = f.closed["bridge"].throughput / f.closed["baseline"].throughput
    p99 = f.fixed["bridge"].ms(99)
    checks = [
        (
            "Throughput, bridge / baseline",
            f"≥ {TARGET_RATIO:.0%}",
            f"{ratio:.0%} ({f.closed['bridge'].throughput:.0f} vs "
            f"{f.closed['baseline'].throughput:.0f} msg/s)",
            ratio >= TARGET_RATIO,
        ),
        (
            f"Bridge p99 latency at {cfg.fixed_rate:.0f} msg/s",
            f"< {TARGET_P99_MS:.0f} ms",
            f"{p99:.1f} ms",
            p99 < TARGET_P99_MS,
        ),
    ]
    checks += [_cost_verdict(backend, rows) for backend, rows in f.scale.items()]
    return checks


def _pair(r: Result | None) -> str:
    return f"{r.ms(50):.1f} / {r.ms(99):.1f}" if r is not None and r.latencies else "–"


def table(cfg: Config, f: Figures) -> str:
    rows = [
        "| Scenario | App | Messages (Viber) | Relayed | msg/s | p50 ms | p99 ms | mean ms "
        "| CPU ms/msg | group ops/msg | Telegram p50 / p99 ms | Viber p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(scenario: str, app: str, r: Result, rate: bool) -> None:
        tput = f"{r.throughput:.0f}" if rate else "–"
        viber = r.parts.get(VIBER)
        rows.append(
            f"| {scenario} | {app} | {r.sent:,} ({viber.sent if viber else 0:,}) | "
            f"{r.relayed:,} | {tput} | {r.ms(50):.1f} | {r.ms(99):.1f} | {r.mean_ms:.1f} | "
            f"{r.cpu_ms:.2f} | {r.group_ops:.2f} | {_pair(r.parts.get(TELEGRAM))} | "
            f"{_pair(viber)} |"
        )

    for app in ("bridge", "baseline"):
        row("first message of each new customer (closed loop)", app, f.first_contact[app], False)
    for app in ("bridge", "baseline"):
        row(f"throughput, closed loop, {cfg.customers} customers", app, f.closed[app], True)
    for app in ("bridge", "baseline"):
        row(f"fixed rate {cfg.fixed_rate:.0f} msg/s (open loop)", app, f.fixed[app], False)
    for backend, sizes in f.scale.items():
        for size, result in sorted(sizes.items()):
            scenario = f"{size:,} customers in {backend}, {cfg.scale_rate:.0f} msg/s"
            row(scenario, "bridge", result, False)
    results = [r for group in (f.first_contact, f.closed, f.fixed) for r in group.values()]
    results += [r for sizes in f.scale.values() for r in sizes.values()]
    notes = [
        f"Process RSS with {max(cfg.sizes):,} customers in {backend}: {after:.0f} MiB while "
        f"the bridge runs ({before:.0f} MiB just before it started)."
        for backend, (before, after) in f.rss.items()
    ]
    notes.append(
        "The fake servers and the load generator share the process, and memory is not given "
        "back between rows."
    )
    prefills = "; ".join(
        f"{backend} " + ", ".join(f"{n:,}: {s:.1f} s" for n, s in sorted(times.items()))
        for backend, times in f.prefill_s.items()
    )
    notes.append(f"Prefill time (not part of any figure): {prefills}.")
    notes.append(f"Webhook POSTs not answered 200: {sum(r.failures for r in results)}.")
    rows += ["", " ".join(notes)]
    if f.postgres_skipped:
        rows.append(f"\nPostgreSQL rows not measured: {f.postgres_skipped}.")
    return "\n".join(rows)


LEADS = """\
A cProfile of the whole process under the closed-loop load (`python -m bench.run --profile`)
is the place to start. See "Leads" below for what it showed on this machine."""


def document(cfg: Config, f: Figures, info: dict[str, str], leads: str) -> str:
    checks = verdicts(cfg, f)
    capacity = f.closed["bridge"].throughput
    backlog = ""
    if capacity < cfg.fixed_rate:
        backlog = (
            f"\nThe bridge's closed-loop capacity here ({capacity:.0f} msg/s) is below the "
            f"{cfg.fixed_rate:.0f} msg/s of the fixed-rate run, so during that run its backlog "
            "grows the whole time and the p99 mostly measures the queue, not one message's cost."
        )
    verdict_rows = "\n".join(
        f"| {name} | {req} | {got} | {'**holds**' if ok else '**does not hold**'} |"
        for name, req, got, ok in checks
    )
    sizes = " / ".join(f"{n:,}" for n in cfg.sizes)
    share = f"{cfg.viber_share:.0%}"
    if f.postgres_version:
        postgres = (
            f"PostgreSQL {f.postgres_version}; on 127.0.0.1 (asyncpg), for the scaling "
            "rows, a fresh database per row."
        )
        pg_method = textwrap.fill(
            f"**PostgreSQL:** the same scaling rows on PostgreSQL {f.postgres_version}, on "
            "the same machine, reached over TCP on 127.0.0.1 with asyncpg. Each row gets a "
            "database of its own, `bench_<pid>_<size>`, created through the admin URL "
            "(`--pg-url`) before the prefill and dropped with `WITH (FORCE)` after the row; the "
            "prefill ends with `ANALYZE`, so the planner has statistics and autovacuum does not "
            "analyse during the measurement. The head-to-head rows use SQLite only. The server "
            f"shares the {info['nproc']} CPUs with the benchmark process, and its CPU time is "
            "not in the CPU ms/msg column (another process).",
            width=96,
            initial_indent="- ",
            subsequent_indent="  ",
        )
    else:
        postgres = f"PostgreSQL not measured ({f.postgres_skipped})."
        pg_method = f"- PostgreSQL was not measured in this run: {f.postgres_skipped}."
    return f"""# Benchmarks

Measured {info["date"]} with `.venv/bin/python -m bench.run` (code in `bench/`).

## Machine

- CPUs (nproc): {info["nproc"]}
- CPU: {info["cpu"]}
- Python {info["python"]} on {info["os"]}
- Database: SQLite (aiosqlite), a file in a temporary directory; one bridge process.
  {postgres}

## Targets of the issue

The targets are set for a 2-core machine, SQLite, one process; this machine has
{info["nproc"]} CPUs and the head-to-head rows used SQLite and one process.
{backlog}

| Target | Required | Measured | Verdict |
|---|---|---|---|
{verdict_rows}

## Figures

{table(cfg, f)}

## Method

- **Fake servers.** `standins/telegram.py` serves the Bot API and `standins/viber.py` the
  Viber REST API, both over real HTTP on 127.0.0.1. Both answer at once (no injected delays;
  the fake Telegram's flood control is off). The fake Telegram records every call with
  `time.monotonic()` at the moment the request reaches its handler; every figure below is read
  from that log.
- **The bridge** is the real `bot.app.Application` in webhook mode with the Viber channel on
  (`VIBER_AUTH_TOKEN`, `VIBER_API_URL` at the fake Viber, `PUBLIC_URL` at the bridge itself, so
  the start registers `/viber/webhook` with the fake): `WORKING_HOURS=24/7`, pacing off
  (`RATE_LIMIT_*=0`), `WEBHOOK_WAIT_SECONDS=0` (a webhook answers once the update is stored in
  the inbox; relaying follows), SQLite in a temporary directory, logs at WARNING. Once it
  has started, the garbage collector is settled as `support-bridge run` does it
  (`bot/garbage_collection.py`: what the start left alive is frozen, young collections are
  rarer), and put back to Python's defaults before the baseline runs.
- **The baseline** (`bench/baseline.py`) is a bare aiogram bot with no database at all, one
  aiohttp server for both webhooks: Telegram updates go through aiogram's webhook handler in
  background mode to one `copyMessage` into one fixed topic; a Viber callback has its signature
  checked and its JSON parsed, is answered at once, and one `sendMessage` with its text into the
  same topic follows in the background. Each app gets its own pair of fake servers, and the apps
  run one after the other, not at the same time.
- **Load.** {cfg.customers} customers, {share} of them on Viber (spread evenly through the
  list, `--viber-share`), messages round-robin over them, all text.
  Telegram messages are built by the fake (so `copyMessage` can find them); Viber messages are
  `message` callbacks with a unique sequence number in the text, signed with
  `X-Viber-Content-Signature` (HMAC-SHA256 of the body with the auth token). Everything is
  serialised and signed before timing starts, then POSTed to the app's Telegram webhook (with
  the secret header) or Viber webhook. Each app first gets one message per customer (first
  contact: the bridge opens a topic and posts the customer's card); that is shown separately
  and is not part of the other rows.
- **Throughput** (closed loop): {cfg.messages:,} messages, at most 40 POSTs in flight over both
  webhooks together (Telegram's default `max_connections`). Messages relayed per second =
  relays into the operator group seen at the fake Telegram, divided by the time from the first
  POST to the last relay.
- **Latency** of a message: from just before its webhook POST to the Bot API call at the fake
  Telegram that carries it into the operator group: for a Telegram message the `copyMessage`
  whose `from_chat_id` + `message_id` are that message's, for a Viber text the `sendMessage`
  into the group whose text has that message's sequence number. Both clocks are
  `time.monotonic()` in the same process. p50/p99 are nearest-rank percentiles, over all
  messages and per platform (the last two columns).
- **CPU ms/msg:** user + system CPU time of the whole process (`getrusage`, all threads, so
  aiosqlite's worker threads count) from the first POST until the last relay, divided by the
  messages relayed. It includes the fake servers and the load generator, so compare rows with
  each other rather than reading it as the bridge's own cost.
- **Group ops/msg:** the operations the fake Telegram charged to the operator group (every
  call that writes into it: sends, copies per item, edits, reactions, topic operations; what
  Telegram's ~20-a-minute group budget counts) from the first POST until the bot has been quiet
  for half a second after the last relay, divided by the messages relayed. With pacing off here
  no texts are merged, so this is the cost without pressure.
- **Fixed rate** (open loop): {cfg.fixed_messages:,} messages POSTed on a schedule of
  {cfg.fixed_rate:.0f}/s without waiting for answers, after the throughput run (customers already
  have topics).
- **Scaling with the database:** before the bridge starts, its database (migrated by the
  bridge's own Alembic migrations) is filled directly with SQLAlchemy Core with {sizes}
  customers, each with a topic id and a conversation: {cfg.customers} of them are the fakes'
  users (the same Telegram/Viber mix as above, an executemany) with real topics and an open
  conversation, the rest are fillers ({share} Viber) whose conversation is closed (history),
  generated inside the database by one `INSERT ... SELECT` from a recursive CTE, then one
  `INSERT ... SELECT` for all conversations. After a warm-up of one message per
  active customer, {cfg.scale_messages:,} messages at {cfg.scale_rate:.0f}/s. The per-message
  cost is judged by CPU per message and p50 latency; the mean is shown too but not judged,
  since one stall of other work (a checkpoint, a periodic job) moves it by more than a message
  costs, up or down from row to row. The SLA reminder is set to a day in every row (it is a
  periodic job whose reminders would otherwise land in the middle of the rows). RSS is VmRSS of
  the process from `/proc/self/status`.
{pg_method}

## Caveats

- **One process, one event loop.** The fake servers, the app under test and the load generator
  share one Python process and one CPU core's worth of event loop. Every latency includes the
  time the fakes spend answering and the generator spends posting, and throughput is the
  throughput of them all together. Real figures against Telegram and Viber will differ
  (network latency dominates there); these numbers are for comparing the bridge with the
  baseline and with itself, not absolute capacity.
- The fake servers do more work per call than the real APIs need to from our side (deep copies
  of messages, a world model, payload validation), which weighs on both apps alike. The bridge
  also calls the fake Viber (e.g. to acknowledge a new conversation); the baseline never does.
- RSS includes the fake servers' in-memory worlds and the recorded calls of all earlier runs;
  the PostgreSQL server's own memory is not in it.
- Each figure is from one run; expect a few percent of noise between runs.

## Leads

{leads}
"""  # noqa: S608 - prose that mentions SQL, not a query


def print_figures(cfg: Config, f: Figures) -> None:
    print(table(cfg, f))
    print()
    for name, req, got, ok in verdicts(cfg, f):
        print(f"{'HOLDS' if ok else 'FAILS'}  {name}: {got} (target {req})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small numbers, no doc by default")
    parser.add_argument("--profile", action="store_true", help="cProfile the bridge's load")
    parser.add_argument("--no-doc", action="store_true", help="write no document")
    parser.add_argument(
        "--doc", type=Path, help=f"write the document here (default {DOC.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--pg-url", default=PG_ADMIN_URL, help=f"PostgreSQL admin URL (default {PG_ADMIN_URL})"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument(
        "--viber-share", type=float, default=0.25, help="share of Viber customers (0..1)"
    )
    args = parser.parse_args()
    if not 0 <= args.viber_share <= 1:
        parser.error("--viber-share must be between 0 and 1")
    logging.basicConfig(level=logging.WARNING)
    common: dict[str, Any] = {
        "viber_share": args.viber_share,
        "pg_url": args.pg_url,
        "postgres": not args.no_postgres,
    }
    cfg = Config(**common)
    if args.quick:
        cfg = Config(
            customers=20,
            messages=150,
            fixed_messages=150,
            scale_messages=60,
            sizes=(1_000, 5_000),
            **common,
        )
    if args.profile:
        print(asyncio.run(profile(cfg)))
        return
    figures = asyncio.run(run(cfg))
    print_figures(cfg, figures)
    doc = None if args.no_doc else args.doc or (None if args.quick else DOC)
    if doc is not None:
        leads_file = ROOT / "bench" / "leads.md"
        leads = leads_file.read_text().strip() if leads_file.exists() else LEADS
        doc.write_text(document(cfg, figures, machine(), leads))
        print(f"\nwritten to {doc}")


if __name__ == "__main__":
    main()
