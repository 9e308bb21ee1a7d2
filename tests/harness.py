"""Starting the real bridge against the fake Telegram server, and reading what people see."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bot.app import Application
from bot.config import Settings
from bridge.clock import Clock
from bridge.errors import ConfigError
from standins.telegram import FakeTelegram

TOKEN = "123456789:AAF-test-token-for-support-bridge_0123"
# For the programs tests start (`python -m bot`, `support-bridge`): the code under test, not
# whatever checkout the virtualenv's editable install points at (a git worktree has its own).
SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)
JSON = dict[str, Any]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll an outside condition (another process) until it holds; fail after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)


POSTGRES_ADMIN = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ON_POSTGRES = os.environ.get("TEST_DATABASE", "sqlite") == "postgresql"
CREATED: set[str] = set()  # dropped when the test session ends (tests/conftest.py)


async def drop_created_databases() -> None:
    if not CREATED:
        return
    admin = await asyncpg.connect(POSTGRES_ADMIN.replace("postgresql+asyncpg", "postgresql"))
    try:
        for name in sorted(CREATED):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    CREATED.clear()


def database_url(db: Path) -> str:
    """SQLite file `db`, or (TEST_DATABASE=postgresql) a PostgreSQL database named after it."""
    if not ON_POSTGRES:
        return f"sqlite+aiosqlite:///{db}"
    return postgres_database_url(db)


def postgres_database_url(db: Path) -> str:
    """A PostgreSQL database of its own for `db`, on the TEST_DATABASE_URL server."""
    name = "sb_" + hashlib.sha1(str(db).encode()).hexdigest()[:16]  # noqa: S324 - a name
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it is not there yet."""
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN.replace("postgresql+asyncpg", "postgresql"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
        CREATED.add(name)
    finally:
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bridge_settings(fake: FakeTelegram, db: Path, *, webhook: bool, **overrides: Any) -> Settings:
    port = free_port()
    if webhook and overrides.get("viber_auth_token") and "public_url" not in overrides:
        overrides["public_url"] = f"http://127.0.0.1:{port}"  # Viber calls the bridge back
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token,
        "operator_chat_id": fake.operator_chat_id,
        "telegram_api_url": fake.url,
        "public_url": f"http://127.0.0.1:{port}" if webhook else None,
        "http_host": "127.0.0.1",
        "http_port": port,
        "database_url": database_url(db),
        "album_wait_seconds": 0.3,
        "polling_timeout_seconds": 1,
        "working_hours": "24/7",  # the real clock must not decide tests; hours tests inject one
        # pacing is tested on its own (test_rate_limit, the burst test); elsewhere it only slows
        "rate_limit_chat_per_second": 0,
        "rate_limit_group_per_minute": 0,
        "rate_limit_global_per_second": 0,
        "retry_first_delay_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_bridge(
    fake: FakeTelegram, db: Path, *, webhook: bool, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Application]:
    await ensure_database(database_url(db))
    for attempt in range(3):
        app = Application(bridge_settings(fake, db, webhook=webhook, **overrides), clock)
        try:
            await app.start()
            break
        except ConfigError as error:
            await app.stop()
            # a free port can be taken by someone else before we bind it: pick another
            if "HTTP_PORT" not in str(error) or attempt == 2:
                raise
        except BaseException:
            await app.stop()
            raise
    try:
        yield app
    finally:
        await app.stop()


class Scene:
    """A running bridge with its fake Telegram, plus the moves people make in tests."""

    def __init__(self, fake: FakeTelegram, app: Application, mode: str) -> None:
        self.fake = fake
        self.app = app
        self.mode = mode
        self.group = fake.operator_chat_id
        self.operator = fake.add_user("Iryna", last_name="Operator", username="iryna_ops")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.app.port}"

    async def deliver(self, update: JSON) -> JSON:
        status = await self.fake.deliver(update)
        assert status == 200, status
        return next(v for k, v in update.items() if k != "update_id")  # type: ignore[no-any-return]

    async def customer_says(self, user: JSON, **content: Any) -> JSON:
        return await self.deliver(self.fake.customer_message(user, **content))

    async def operator_says(self, topic: int, **content: Any) -> JSON:
        return await self.deliver(self.fake.operator_message(self.operator, topic, **content))

    async def topic_of(self, user: JSON) -> int:
        """The customer's topic: the one whose card links to their profile."""
        link = f"tg://user?id={user['id']}"

        def find() -> int | None:
            for thread_id, topic in self.fake.topics.items():
                if topic.deleted:
                    continue
                for message in self.fake.topic_messages(thread_id):
                    if link in message.get("html", ""):
                        return thread_id
            return None

        return int(await self.fake.wait_for(find))

    async def in_topic(self, topic: int, count: int = 1, **match: Any) -> list[JSON]:
        """Wait until `count` bot messages in the topic have all the `match` fields."""

        def found() -> list[JSON] | None:
            hits = [
                m
                for m in self.fake.sent_by_bot(self.group, topic)
                if all(m.get(k) == v if v is not ... else k in m for k, v in match.items())
            ]
            return hits if len(hits) >= count else None

        return await self.fake.wait_for(found)  # type: ignore[no-any-return]

    async def answer_to(self, press: JSON) -> JSON:
        """What the bot answered to a button press (the answer goes out on its own)."""
        query_id = press["callback_query"]["id"]
        answers = self.fake.callback_answers
        return await self.fake.wait_for(lambda: answers.get(query_id))  # type: ignore[no-any-return]

    async def settled(self) -> None:
        """Wait until the bridge has sent everything it decided (its outbox is drained)."""
        delivery = self.app.delivery
        assert delivery is not None

        async def idle() -> bool:
            return delivery.idle and await delivery.waiting() == 0

        await eventually(idle, within=10)

    async def shows(self, topic: int, words: str) -> JSON:
        """Wait until the topic shows a customer's words: as a copy, or under a card or note
        in a post of the bridge's own (a new topic's first post, a new conversation's)."""

        def found() -> JSON | None:
            for message in self.fake.sent_by_bot(self.group, topic):
                text = message.get("text") or message.get("caption") or ""
                if text == words or text.endswith(f"\n\n{words}"):
                    return message
            return None

        return await self.fake.wait_for(found)  # type: ignore[no-any-return]

    async def in_chat(self, user: JSON, count: int = 1, **match: Any) -> list[JSON]:
        """Wait until the customer's chat shows `count` bot messages matching `match`."""

        def found() -> list[JSON] | None:
            hits = [
                m
                for m in self.fake.sent_by_bot(user["id"])
                if all(m.get(k) == v if v is not ... else k in m for k, v in match.items())
            ]
            return hits if len(hits) >= count else None

        return await self.fake.wait_for(found)  # type: ignore[no-any-return]

    async def http(self, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.base_url + path, **kwargs) as response,
        ):
            return response.status, await response.text()
