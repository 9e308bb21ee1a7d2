"""Prometheus metrics (`GET /metrics`) and the readiness check (`GET /readyz`).

Counters are fed by the core through the `Metrics` port and by the adapters (429s, webhook
latency); queue depth and open conversations are read from the database at scrape time, so
every replica reports the same truth.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.model import Platform
from bridge.storage.tables import ConversationRow, InboxRow

log = logging.getLogger(__name__)

DESTINATION_KINDS = ("group", "telegram", "viber")
# First responses: seconds are normal, a minute is acceptable, beyond is slow.
RESPONSE_BUCKETS = (5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400)


class PrometheusMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "support_bridge_messages_relayed",
            "Messages relayed, by customer platform and direction.",
            ["platform", "direction"],
            registry=self.registry,
        )
        self.failures = Counter(
            "support_bridge_delivery_failures",
            "Messages not delivered, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.floods = Counter(
            "support_bridge_rate_limited",
            "429 answers from Telegram and status 12 from Viber.",
            ["platform"],
            registry=self.registry,
        )
        self.webhook = Histogram(
            "support_bridge_webhook_seconds",
            "Time to answer a webhook call.",
            ["platform"],
            registry=self.registry,
        )
        self.refused = Counter(
            "support_bridge_webhook_refused_total",
            "Webhook calls answered 4xx (a wrong secret or signature, a replay, a malformed or "
            "oversized body), by platform and status.",
            ["platform", "status"],
            registry=self.registry,
        )
        self.first_responses = Histogram(
            "support_bridge_first_response_seconds",
            "From a conversation's first message to the first operator message that arrived.",
            buckets=RESPONSE_BUCKETS,
            registry=self.registry,
        )
        self.inbox_depth = Gauge(
            "support_bridge_inbox_pending",
            "Updates stored but not yet processed.",
            registry=self.registry,
        )
        self.inbox_age = Gauge(
            "support_bridge_inbox_oldest_pending_seconds",
            "Age of the oldest pending update.",
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "support_bridge_outbox_pending",
            "Deliveries decided but not yet sent, by destination kind "
            "(group: the operator group; telegram, viber: customers' chats).",
            ["destination"],
            registry=self.registry,
        )
        self.outbox_age = Gauge(
            "support_bridge_outbox_oldest_pending_seconds",
            "Age of the oldest delivery waiting, by destination kind.",
            ["destination"],
            registry=self.registry,
        )
        self.open_conversations = Gauge(
            "support_bridge_open_conversations",
            "Conversations not closed.",
            registry=self.registry,
        )

    # the core's Metrics port
    def relayed(self, platform: Platform, direction: str, count: int = 1) -> None:
        self.messages.labels(platform.value, direction).inc(count)

    def delivery_failed(self, reason: str) -> None:
        self.failures.labels(reason).inc()

    def first_response(self, seconds: float) -> None:
        self.first_responses.observe(max(seconds, 0.0))

    def rate_limited(self, platform: str) -> None:
        self.floods.labels(platform).inc()

    def show_outbox(self, depth: list[tuple[str, int, datetime]], now: datetime) -> None:
        """Pending deliveries per destination (from the outbox), summed per kind."""
        counts: dict[str, int] = dict.fromkeys(DESTINATION_KINDS, 0)
        oldest: dict[str, datetime] = {}
        for destination, count, since in depth:
            kind = destination.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + count
            if kind not in oldest or since < oldest[kind]:
                oldest[kind] = since
        for kind, count in counts.items():
            self.outbox_depth.labels(kind).set(count)
            age = (now - oldest[kind]).total_seconds() if kind in oldest else 0.0
            self.outbox_age.labels(kind).set(max(age, 0.0))

    async def refresh(self, engine: AsyncEngine) -> None:
        """Read the queue and the open conversations; cheap indexed queries."""
        async with engine.connect() as connection:
            pending, oldest = (
                await connection.execute(
                    select(func.count(), func.min(InboxRow.received_at)).where(
                        InboxRow.state == "pending"
                    )
                )
            ).one()
            open_count = await connection.scalar(
                select(func.count())
                .select_from(ConversationRow)
                .where(ConversationRow.closed_at.is_(None))
            )
        self.inbox_depth.set(pending or 0)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self.inbox_age.set(max(age, 0.0))
        self.open_conversations.set(open_count or 0)


def metrics_endpoint(
    metrics: PrometheusMetrics,
    engine: AsyncEngine,
    outbox: Callable[[], Awaitable[list[tuple[str, int, datetime]]]],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def scrape(request: web.Request) -> web.Response:
        try:
            await metrics.refresh(engine)
            metrics.show_outbox(await outbox(), now())
        except Exception as error:  # still export the counters when the database is away
            log.warning("metrics: database not read (%s)", error.__class__.__name__)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return scrape


Check = Callable[[], Awaitable[object]]


class CheckFailed(Exception):
    """A check's own account of what fails, fit to be shown as it is (nothing private)."""


def readiness_endpoint(
    checks: dict[str, Check],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """200 when the database and every platform API answer; 503 naming what does not."""

    async def ready(request: web.Request) -> web.Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=5)
                results[name] = "ok"
            except CheckFailed as error:
                results[name] = f"failing: {error}"
            except Exception as error:
                results[name] = f"failing: {error.__class__.__name__}"
        status = 200 if all(v == "ok" for v in results.values()) else 503
        return web.json_response(results, status=status)

    return ready


async def database_ready(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@web.middleware
async def timing_middleware(
    request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Webhook latency by platform (what Telegram and Viber wait for), and what was refused."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:  # e.g. 413 from the body size limit
        status = error.status
        raise
    finally:
        metrics: PrometheusMetrics | None = request.app.get(METRICS)
        if metrics is not None and request.path.endswith("/webhook"):
            platform = request.path.strip("/").split("/")[0]
            metrics.webhook.labels(platform).observe(time.perf_counter() - started)
            if 400 <= status < 500:
                metrics.refused.labels(platform, str(status)).inc()


METRICS = web.AppKey("metrics", PrometheusMetrics)
