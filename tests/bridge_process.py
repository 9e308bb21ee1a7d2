"""The bridge as a separate process (`python -m bot`) that a test can kill without warning."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fake_telegram import FakeTelegram
from tests.harness import eventually, free_port


class BridgeProcess:
    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
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
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.cwd = workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await eventually(self.healthy, within=60)

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
