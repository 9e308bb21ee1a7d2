"""The polling loop alone, with a scripted Bot API and intake: failures of getUpdates and of
storing are waited out, the offset moves only past stored updates, a revoked token is fatal.

Failures the fake Telegram server cannot produce (an HTML error page, a network error, a
database that refuses a write) are scripted here; `test_intake_outage` drives the real thing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update
from sqlalchemy.exc import OperationalError

from bot.backoff import Backoff
from bot.intake_health import IntakeHealth
from bot.telegram.polling import fatal, poll
from bridge.errors import RetryLater

PRIVATE = "my policy number is 42"


def locked() -> OperationalError:
    return OperationalError(
        "INSERT INTO inbox ...", (PRIVATE,), sqlite3.OperationalError("database is locked")
    )


class ScriptedBot:
    """getUpdates answers from a script (a batch, or an error to raise), then waits forever."""

    def __init__(self, *answers: list[Update] | Exception) -> None:
        self.answers = list(answers)
        self.offsets: list[int | None] = []
        self.done = asyncio.Event()

    async def get_updates(self, offset: int | None = None, **_: Any) -> list[Update]:
        self.offsets.append(offset)
        if not self.answers:
            self.done.set()
            await asyncio.Event().wait()
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class ScriptedIntake:
    """Stores updates, failing for the ones given a list of errors (one per attempt)."""

    def __init__(self, health: IntakeHealth, failures: dict[int, list[Exception]]) -> None:
        self.health = health
        self.failures = failures
        self.attempts: list[int] = []
        self.stored: list[int] = []
        self.seen_health: list[dict[str, str]] = []

    async def submit(self, update: Update) -> None:
        self.attempts.append(update.update_id)
        self.seen_health.append(self.health.problems())
        errors = self.failures.get(update.update_id)
        if errors:
            raise errors.pop(0)
        self.stored.append(update.update_id)


def updates(*ids: int) -> list[Update]:
    return [Update(update_id=i) for i in ids]


def server_error(text: str) -> TelegramServerError:
    return TelegramServerError(method=GetUpdates(), message=text)


async def run(bot: ScriptedBot, intake: ScriptedIntake, health: IntakeHealth) -> None:
    """Poll until the script is used up (then the loop waits in getUpdates) and stop it."""
    task = asyncio.create_task(
        poll(bot, intake, [], 1, health, Backoff(first=0.001, most=0.01))  # type: ignore[arg-type]
    )
    done = asyncio.create_task(bot.done.wait())
    await asyncio.wait([task, done], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert bot.done.is_set(), task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_failures_are_waited_out_and_the_offset_moves_only_past_stored_updates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = IntakeHealth()
    bot = ScriptedBot(
        ClientDecodeError("Failed to decode object", ValueError(), f"<html>{PRIVATE}</html>"),
        server_error("Bad Gateway"),
        TelegramNetworkError(method=GetUpdates(), message="ClientOSError: reset by peer"),
        updates(10, 11, 12),
        updates(13),
    )
    intake = ScriptedIntake(
        health, {11: [locked(), OSError(28, "No space left on device"), RetryLater(0.001)]}
    )
    await run(bot, intake, health)

    # 10 is not stored again; 11 is retried until stored; 12 waits for it; nothing skipped
    assert intake.attempts == [10, 11, 11, 11, 11, 12, 13]
    assert intake.stored == [10, 11, 12, 13]
    assert bot.offsets == [None, None, None, None, 13, 14]
    # while it failed, /healthz would have said why, without the update
    assert intake.seen_health[0] == {}  # getUpdates worked again: not failing any more
    assert intake.seen_health[2] == {
        "telegram": "storing updates: OperationalError: database is locked (for 0 s)"
    }
    assert health.problems() == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 6, warnings
    assert "getUpdates failed (ClientDecodeError)" in warnings[0]
    assert "getUpdates failed (TelegramServerError: Bad Gateway)" in warnings[1]
    assert "update 11 not stored (OperationalError: database is locked)" in warnings[3]
    assert PRIVATE not in caplog.text


async def test_a_rejected_token_ends_the_loop_as_fatal() -> None:
    health = IntakeHealth()
    bot = ScriptedBot(TelegramUnauthorizedError(method=GetUpdates(), message="Unauthorized"))
    task = asyncio.create_task(poll(bot, ScriptedIntake(health, {}), [], 1, health))  # type: ignore[arg-type]
    with pytest.raises(TelegramUnauthorizedError) as raised:
        await asyncio.wait_for(task, timeout=5)
    sentence = fatal(raised.value)
    assert sentence is not None
    assert "TELEGRAM_BOT_TOKEN" in sentence
    assert health.problems() == {
        "telegram": "polling stopped: TelegramUnauthorizedError: Unauthorized (for 0 s)"
    }
    assert fatal(server_error("Bad Gateway")) is None


async def test_an_unexpected_error_is_left_to_the_supervisor() -> None:
    health = IntakeHealth()
    bot = ScriptedBot(updates(1))
    intake = ScriptedIntake(health, {1: [ValueError(PRIVATE)]})
    task = asyncio.create_task(poll(bot, intake, [], 1, health))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="policy"):
        await asyncio.wait_for(task, timeout=5)
    assert health.problems() == {"telegram": "polling stopped: ValueError (for 0 s)"}
