"""The bridge as a separate process (`python -m bot`) that a test can kill without warning."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from standins.telegram import FakeTelegram
from tests.harness import JSON, SOURCE_ROOT, eventually, free_port
from tests.log_watch import PROCESS_LOGS


class BridgeProcess:
    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": SOURCE_ROOT,
            "HOME": str(workdir),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "OPERATOR_CHAT_ID": str(fake.operator_chat_id),
            "TELEGRAM_API_URL": fake.url,
            "PUBLIC_URL": self.url,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "DATABASE_URL": database_url,
            "WORKING_HOURS": "24/7",
            "RATE_LIMIT_CHAT_PER_SECOND": "0",
            "RATE_LIMIT_GROUP_PER_MINUTE": "0",
            "RATE_LIMIT_GLOBAL_PER_SECOND": "0",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.cwd = workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self._log_file()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        os.close(log)  # the child has its own
        await eventually(self.healthy, within=60)

    def _log_file(self) -> int:
        """Its stderr goes to a file the log watch reads after the test (tests/log_watch.py)."""
        path = self.cwd / f"bridge-{self.port}.log"
        PROCESS_LOGS.append(path)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    async def healthy(self) -> bool:
        if self.process is not None and self.process.returncode is not None:
            raise AssertionError(f"the bridge exited with {self.process.returncode}")
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{self.url}/healthz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), timeout=30)


def collapse(texts: list[str]) -> tuple[list[str], int]:
    """Drop immediate repeats; returns the sequence and how many repeats there were."""
    out: list[str] = []
    for text in texts:
        if not out or out[-1] != text:
            out.append(text)
    return out, len(texts) - len(out)


def words_in(messages: list[JSON], prefixes: str | tuple[str, ...]) -> list[str]:
    """The texts starting with a prefix, in order: copies, and the paragraphs of the bridge's
    own posts (a new customer's card with their first words, texts merged under pressure)."""
    found = []
    for message in messages:
        for part in (message.get("text") or "").split("\n\n"):
            if part.startswith(prefixes):
                found.append(part)
    return found


def texts(messages: list[JSON], prefix: str) -> list[str]:
    return words_in(messages, prefix)


async def topic_where(fake: FakeTelegram, shows: Callable[[JSON], bool]) -> int:
    """The topic holding a message for which `shows` is true (a card, a first message)."""
    return int(
        await fake.wait_for(
            lambda: next(
                (t for t in fake.topics if any(shows(m) for m in fake.topic_messages(t))), None
            )
        )
    )


async def known_and_new_arrive(
    fake: FakeTelegram, known: JSON, topic: int, new_topic: int, known_count: int
) -> None:
    """After an outage: the known customer's words ("Known 0".."Known n") in their topic, the
    newcomer's two in a new one, and the operator's answers ("to Known 1".."3") in the known
    customer's chat, each in order."""
    await arrive_in_order(
        fake.wait_for,
        lambda: words_in(fake.topic_messages(topic), "Known "),
        [f"Known {n}" for n in range(known_count)],
    )
    await arrive_in_order(
        fake.wait_for,
        lambda: words_in(fake.topic_messages(new_topic), "Newcomer "),
        ["Newcomer 0", "Newcomer 1"],
    )
    await arrive_in_order(
        fake.wait_for,
        lambda: words_in(fake.sent_by_bot(known["id"]), "to Known "),
        [f"to Known {n}" for n in range(1, 4)],
    )


async def arrive_in_order(
    wait_for: Callable[..., Awaitable[Any]], current: Callable[[], list[str]], wanted: list[str]
) -> None:
    """Every wanted text arrives, in order; a repeat is only the update in flight at a kill."""
    await wait_for(lambda: set(current()) >= set(wanted), timeout=60)
    seen, repeats = collapse(current())
    assert seen == wanted, current()
    assert repeats <= 1, current()
