"""Benchmark: the real bridge against a bare aiogram baseline, both on the fake Telegram server.

Run: ``cd /work/main && .venv/bin/python -m bench.run`` (``--quick`` for a smoke run,
``--profile`` for a cProfile of the bridge under the closed-loop load instead of the figures).
Everything (fake server, bridge, baseline, load generator) runs in one process and one event
loop, so latencies include time spent waiting for the others; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import math
import os
import platform
import pstats
import resource
import socket
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, select

from bench.baseline import SECRET as BASELINE_SECRET
from bench.baseline import Baseline
from bot.app import Application
from bot.config import Settings
from bridge.storage.database import make_engine, migrate
from bridge.storage.tables import ConversationRow, CustomerRow
from tests.fake_telegram import FakeTelegram

JSON = dict[str, Any]
Key = tuple[int, int]  # (from_chat_id, message_id) of a customer's message
TOKEN = "123456789:AAF-bench-token-for-support-bridge_0123"  # noqa: S105 - fake server only
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

# the targets
TARGET_RATIO = 0.80
TARGET_P99_MS = 15.0
TARGET_SPREAD = 0.10


# ---------------------------------------------------------------------------------- plumbing


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
class Target:
    """One app under test: where to POST its updates and the fake it talks to."""

    name: str
    url: str
    secret: str
    fake: FakeTelegram


@dataclass
class Result:
    sent: int
    relayed: int
    failures: int
    wall: float  # first POST to last relay, seconds
    latencies: list[float] = field(default_factory=list)  # seconds
    cpu: float = math.nan  # process CPU seconds spent from the first POST to the last relay

    @property
    def cpu_ms(self) -> float:
        """Process CPU per relayed message (fake server and load generator included)."""
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
    """When each customer message was copied into the group, read from the fake's call log."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.at: dict[Key, float] = {}
        self._seen = 0

    def scan(self) -> None:
        calls = self.fake.calls
        group = self.fake.operator_chat_id
        for call in calls[self._seen :]:
            params = call.params
            if call.method.lower() == "copymessage" and int(params.get("chat_id", 0)) == group:
                key = (int(params["from_chat_id"]), int(params["message_id"]))
                self.at.setdefault(key, call.at)
        self._seen = len(calls)

    async def wait(self, keys: Sequence[Key], timeout: float = 120.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if all(k in self.at for k in keys) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.01)


Stream = list[tuple[Key, bytes]]


def make_stream(fake: FakeTelegram, users: Sequence[JSON], count: int) -> Stream:
    """`count` text messages, round-robin over `users`, serialised before the clock starts."""
    stream: Stream = []
    for i in range(count):
        user = users[i % len(users)]
        update = fake.customer_message(user, text=f"Message {i}: hello from customer {user['id']}")
        stream.append(((user["id"], update["message"]["message_id"]), json.dumps(update).encode()))
    return stream


async def _post(
    session: aiohttp.ClientSession, target: Target, body: bytes, sent: dict[Key, float], key: Key
) -> bool:
    sent[key] = time.monotonic()
    headers = {"Content-Type": "application/json", SECRET_HEADER: target.secret}
    try:
        async with session.post(target.url, data=body, headers=headers) as response:
            await response.read()
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def _collect(
    relays: Relays, stream: Stream, sent: dict[Key, float], oks: list[bool], cpu0: float
) -> Result:
    keys = [k for k, _ in stream]
    await relays.wait(keys)
    cpu = cpu_seconds() - cpu0
    got = [k for k in keys if k in relays.at]
    latencies = [relays.at[k] - sent[k] for k in got]
    last = max((relays.at[k] for k in got), default=math.nan)
    return Result(
        sent=len(stream),
        relayed=len(got),
        failures=oks.count(False),
        wall=last - min(sent.values()),
        latencies=latencies,
        cpu=cpu,
    )


async def drive_closed(target: Target, stream: Stream, concurrency: int = 40) -> Result:
    """As fast as it goes: at most `concurrency` POSTs in flight (Telegram's default 40)."""
    relays = Relays(target.fake)
    relays.scan()
    sent: dict[Key, float] = {}
    queue = iter(stream)
    oks: list[bool] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for key, body in queue:
                oks.append(await _post(session, target, body, sent, key))

        cpu0 = cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return await _collect(relays, stream, sent, oks, cpu0)


async def drive_rate(target: Target, stream: Stream, rate: float) -> Result:
    """Open loop: POST i starts at t0 + i/rate whatever happened to the earlier ones."""
    relays = Relays(target.fake)
    relays.scan()
    sent: dict[Key, float] = {}
    oks: list[bool] = []
    tasks: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(key: Key, body: bytes) -> None:
            oks.append(await _post(session, target, body, sent, key))

        cpu0 = cpu_seconds()
        start = time.monotonic()
        for i, (key, body) in enumerate(stream):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(key, body)))
        await asyncio.gather(*tasks)
        return await _collect(relays, stream, sent, oks, cpu0)


def bridge_settings(fake: FakeTelegram, database_url: str) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token,
        "operator_chat_id": fake.operator_chat_id,
        "telegram_api_url": fake.url,
        "public_url": f"http://127.0.0.1:{port}",
        "http_host": "127.0.0.1",
        "http_port": port,
        "database_url": database_url,
        "working_hours": "24/7",
        "rate_limit_chat_per_second": 0,
        "rate_limit_group_per_minute": 0,
        "rate_limit_global_per_second": 0,
        "webhook_wait_seconds": 0,
        "log_level": "WARNING",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_fake() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def running_bridge(fake: FakeTelegram, database_url: str) -> AsyncIterator[Target]:
    app = Application(bridge_settings(fake, database_url))
    try:
        await app.start()
        url = f"http://127.0.0.1:{app.port}/telegram/webhook"
        yield Target("bridge", url, app.settings.webhook_secret, fake)
    finally:
        await app.stop()


@asynccontextmanager
async def running_baseline(fake: FakeTelegram) -> AsyncIterator[Target]:
    topic = fake.create_topic("Baseline: all customers").thread_id
    baseline = Baseline(fake.url, fake.token, fake.operator_chat_id, topic)
    try:
        await baseline.start()
        yield Target("baseline", baseline.url, BASELINE_SECRET, fake)
    finally:
        await baseline.stop()


async def prefill(database_url: str, active: Sequence[tuple[JSON, int]], total: int) -> None:
    """`total` Telegram customers with a topic and a conversation; `active` come first.

    The active customers' conversations are open; the fillers' are closed (history), as in a
    real database where most customers wrote once long ago.
    """
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        now = datetime.now(UTC)
        customers: list[JSON] = []
        for i in range(total):
            if i < len(active):
                user, topic = active[i]
                external, name = str(user["id"]), user["first_name"]
            else:
                external, topic, name = str(900_000_000 + i), 50_000_000 + i, f"Filler {i}"
            customers.append(
                {
                    "platform": "telegram",
                    "external_id": external,
                    "full_name": name,
                    "username": None,
                    "language": "uk",
                    "profile_url": f"tg://user?id={external}",
                    "details": {},
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "topic_id": topic,
                    "card_message_id": None,
                    "banned": False,
                    "unreachable": None,
                    "language_chosen": False,
                }
            )
        async with engine.begin() as conn:
            for start in range(0, total, 10_000):
                await conn.execute(insert(CustomerRow), customers[start : start + 10_000])
            ids = list(
                (await conn.execute(select(CustomerRow.id).order_by(CustomerRow.id))).scalars()
            )
            conversations = [
                {
                    "customer_id": customer_id,
                    "state": "new" if n < len(active) else "closed",
                    "opened_at": now,
                    "closed_at": None if n < len(active) else now,
                    "opened_offline": False,
                }
                for n, customer_id in enumerate(ids)
            ]
            for start in range(0, total, 10_000):
                await conn.execute(insert(ConversationRow), conversations[start : start + 10_000])
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------- scenarios


@dataclass
class Config:
    customers: int = 200
    messages: int = 2_000
    fixed_rate: float = 200
    fixed_messages: int = 1_000
    scale_rate: float = 20  # well below the bridge's capacity, so queueing does not dominate
    scale_messages: int = 600
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)


@dataclass
class Figures:
    first_contact: dict[str, Result] = field(default_factory=dict)
    closed: dict[str, Result] = field(default_factory=dict)
    fixed: dict[str, Result] = field(default_factory=dict)
    scale: dict[int, Result] = field(default_factory=dict)
    rss_before: float = math.nan
    rss_after: float = math.nan


async def head_to_head(target: Target, cfg: Config, figures: Figures) -> None:
    fake = target.fake
    users = [fake.add_user(f"Customer{i}", language_code="en") for i in range(cfg.customers)]
    # first contact: one message per new customer (the bridge opens a topic and posts a card)
    figures.first_contact[target.name] = await drive_closed(
        target, make_stream(fake, users, len(users))
    )
    figures.closed[target.name] = await drive_closed(target, make_stream(fake, users, cfg.messages))
    fixed = make_stream(fake, users, cfg.fixed_messages)
    figures.fixed[target.name] = await drive_rate(target, fixed, cfg.fixed_rate)


async def scaling(size: int, cfg: Config, figures: Figures, workdir: Path) -> None:
    async with running_fake() as fake:
        users = [fake.add_user(f"Customer{i}", language_code="en") for i in range(cfg.customers)]
        active = [(u, fake.create_topic(f"Customer{i}").thread_id) for i, u in enumerate(users)]
        url = f"sqlite+aiosqlite:///{workdir / f'scale-{size}.sqlite3'}"
        await prefill(url, active, size)
        rss_before = rss_mib()
        async with running_bridge(fake, url) as target:
            await drive_closed(target, make_stream(fake, users, len(users)))  # warm-up
            stream = make_stream(fake, users, cfg.scale_messages)
            figures.scale[size] = await drive_rate(target, stream, cfg.scale_rate)
            if size == max(cfg.sizes):
                figures.rss_before, figures.rss_after = rss_before, rss_mib()


async def run(cfg: Config) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        workdir = Path(tmp)
        async with (
            running_fake() as fake,
            running_bridge(fake, f"sqlite+aiosqlite:///{workdir / 'bridge.sqlite3'}") as target,
        ):
            await head_to_head(target, cfg, figures)
        async with running_fake() as fake, running_baseline(fake) as target:
            await head_to_head(target, cfg, figures)
        for size in cfg.sizes:
            await scaling(size, cfg, figures, workdir)
    return figures


async def profile(cfg: Config) -> str:
    """cProfile of the whole process while the bridge takes the closed-loop stream."""
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        async with (
            running_fake() as fake,
            running_bridge(fake, f"sqlite+aiosqlite:///{Path(tmp) / 'p.sqlite3'}") as target,
        ):
            users = [fake.add_user(f"C{i}", language_code="en") for i in range(cfg.customers)]
            await drive_closed(target, make_stream(fake, users, len(users)))
            stream = make_stream(fake, users, cfg.messages)
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


def verdicts(cfg: Config, f: Figures) -> list[tuple[str, str, str, bool]]:
    """(target, required, measured, holds) for each target of the issue."""
    ratio = f.closed["bridge"].throughput / f.closed["baseline"].throughput
    p99 = f.fixed["bridge"].ms(99)
    sizes = sorted(f.scale)
    base = f.scale[sizes[0]].mean_ms
    spreads = {n: f.scale[n].mean_ms / base - 1 for n in sizes}
    worst = max(spreads.values(), key=abs)
    cpu_base = f.scale[sizes[0]].cpu_ms
    spread_text = ", ".join(f"{n:,}: {spreads[n]:+.0%}" for n in sizes[1:])
    cpu_text = ", ".join(f"{n:,}: {f.scale[n].cpu_ms / cpu_base - 1:+.0%}" for n in sizes[1:])
    return [
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
        (
            f"Per-message cost, {sizes[0]:,} → {sizes[-1]:,} customers",
            f"within ±{TARGET_SPREAD:.0%}",
            f"mean latency vs {sizes[0]:,}: {spread_text} "
            f"({base:.1f} ms at {sizes[0]:,}); CPU per message: {cpu_text}",
            abs(worst) <= TARGET_SPREAD,
        ),
    ]


def table(cfg: Config, f: Figures) -> str:
    rows = [
        "| Scenario | App | Messages | Relayed | msg/s | p50 ms | p99 ms | mean ms | CPU ms/msg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(scenario: str, app: str, r: Result, rate: bool) -> None:
        tput = f"{r.throughput:.0f}" if rate else "–"
        rows.append(
            f"| {scenario} | {app} | {r.sent:,} | {r.relayed:,} | {tput} | "
            f"{r.ms(50):.1f} | {r.ms(99):.1f} | {r.mean_ms:.1f} | {r.cpu_ms:.2f} |"
        )

    for app in ("bridge", "baseline"):
        row("first message of each new customer (closed loop)", app, f.first_contact[app], False)
    for app in ("bridge", "baseline"):
        row(f"throughput, closed loop, {cfg.customers} customers", app, f.closed[app], True)
    for app in ("bridge", "baseline"):
        row(f"fixed rate {cfg.fixed_rate:.0f} msg/s (open loop)", app, f.fixed[app], False)
    for size in sorted(f.scale):
        row(
            f"{size:,} customers in SQLite, {cfg.scale_rate:.0f} msg/s",
            "bridge",
            f.scale[size],
            False,
        )
    failures = sum(
        r.failures for group in (f.first_contact, f.closed, f.fixed) for r in group.values()
    ) + sum(r.failures for r in f.scale.values())
    rows.append("")
    rows.append(
        f"Process RSS with {max(cfg.sizes):,} customers: {f.rss_after:.0f} MiB while the bridge "
        f"runs ({f.rss_before:.0f} MiB just before it started; the fake server and the load "
        f"generator share the process). Webhook POSTs not answered 200: {failures}."
    )
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
    return f"""# Benchmarks

Measured {info["date"]} with `.venv/bin/python -m bench.run` (code in `bench/`).

## Machine

- CPUs (nproc): {info["nproc"]}
- CPU: {info["cpu"]}
- Python {info["python"]} on {info["os"]}
- Database: SQLite (aiosqlite), a file in a temporary directory; one bridge process.

## Targets of the issue

The targets are set for a 2-core machine, SQLite, one process; this machine has
{info["nproc"]} CPUs and the run used SQLite and one process.
{backlog}

| Target | Required | Measured | Verdict |
|---|---|---|---|
{verdict_rows}

## Figures

{table(cfg, f)}

## Method

- **Fake Telegram.** `tests/fake_telegram.py` serves the Bot API over real HTTP on 127.0.0.1 and
  answers at once (no injected delays; its flood control is off). It records every call with
  `time.monotonic()` at the moment the request reaches its handler.
- **The bridge** is the real `bot.app.Application` in webhook mode: `WORKING_HOURS=24/7`, pacing
  off (`RATE_LIMIT_*=0`), `WEBHOOK_WAIT_SECONDS=0` (the webhook answers once the update is stored
  in the inbox; relaying follows), SQLite in a temporary directory, logs at WARNING.
- **The baseline** (`bench/baseline.py`) is a bare aiogram bot: aiogram's aiohttp webhook handler
  in background mode and one `copyMessage` per private message into one fixed topic, with no
  database at all. Each app gets its own fake server instance, and the apps run one after the
  other, not at the same time.
- **Load.** Customer messages are built by the fake (so `copyMessage` can find them) and serialised
  before timing starts, then POSTed to the app's webhook URL with the right secret header.
  {cfg.customers} customers, messages round-robin over them. Each app first gets one message per
  customer (first contact: the bridge opens a topic and posts the customer's card); that is
  shown separately and is not part of the other rows.
- **Throughput** (closed loop): {cfg.messages:,} messages, at most 40 POSTs in flight (Telegram's
  default `max_connections`). Messages relayed per second = `copyMessage` calls into the operator
  group seen at the fake, divided by the time from the first POST to the last such call.
- **Latency** of a message: from just before its webhook POST to the `copyMessage` call at the fake
  whose `from_chat_id` + `message_id` are that message's; both clocks are `time.monotonic()` in
  the same process. p50/p99 are nearest-rank percentiles.
- **CPU ms/msg:** user + system CPU time of the whole process (`getrusage`, all threads, so
  aiosqlite's worker threads count) from the first POST until the last relay, divided by the
  messages relayed. It includes the fake server and the load generator, so compare rows with
  each other rather than reading it as the bridge's own cost.
- **Fixed rate** (open loop): {cfg.fixed_messages:,} messages POSTed on a schedule of
  {cfg.fixed_rate:.0f}/s without waiting for answers, after the throughput run (customers already
  have topics).
- **Scaling with the database:** before the bridge starts, its SQLite database is filled directly
  with SQLAlchemy with 1,000 / 10,000 / 100,000 Telegram customers, each with a topic id and a
  conversation: {cfg.customers} of them are the fake's users with real topics and an open
  conversation, the rest are fillers whose conversation is closed (history). After a warm-up of
  one message per active customer, {cfg.scale_messages:,} messages at {cfg.scale_rate:.0f}/s;
  the per-message cost is their mean latency. RSS is VmRSS of the process from `/proc/self/status`.
- PostgreSQL was not measured in this run.

## Caveats

- **One process, one event loop.** The fake server, the app under test and the load generator
  share one Python process and one CPU core's worth of event loop. Every latency includes the
  time the fake spends answering and the generator spends posting, and throughput is the
  throughput of the three together. Real figures against Telegram will differ (network latency
  dominates there); these numbers are for comparing the bridge with the baseline and with
  itself, not absolute capacity.
- The fake server does more work per call than the real Bot API needs to from our side
  (deep copies of messages, a world model), which weighs on both apps alike.
- RSS includes the fake server's in-memory world and the recorded calls of all earlier runs.
- Each figure is from one run; expect a few percent of noise between runs.

## Leads

{leads}
"""


def print_figures(cfg: Config, f: Figures) -> None:
    print(table(cfg, f))
    print()
    for name, req, got, ok in verdicts(cfg, f):
        print(f"{'HOLDS' if ok else 'FAILS'}  {name}: {got} (target {req})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small numbers, no doc written")
    parser.add_argument("--profile", action="store_true", help="cProfile the bridge's load")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cfg = Config()
    if args.quick:
        cfg = Config(
            customers=20, messages=200, fixed_messages=200, scale_messages=100, sizes=(1_000, 5_000)
        )
    if args.profile:
        print(asyncio.run(profile(cfg)))
        return
    figures = asyncio.run(run(cfg))
    print_figures(cfg, figures)
    if not (args.quick or args.no_doc):
        leads = (
            (ROOT / "bench" / "leads.md").read_text().strip()
            if (ROOT / "bench" / "leads.md").exists()
            else LEADS
        )
        DOC.write_text(document(cfg, figures, machine(), leads))
        print(f"\nwritten to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
