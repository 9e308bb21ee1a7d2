"""Background loops: the supervisor restarts one that ends and stops the bridge for a fatal one;
the backoff they wait by; the intake health `/healthz` reports."""

from __future__ import annotations

import asyncio

import pytest

from bot.backoff import Backoff
from bot.intake_health import IntakeHealth
from bot.metrics import CheckFailed
from bot.supervision import Supervisor
from bridge.errors import ConfigError

PRIVATE = "a customer's words that must stay out of logs"


async def test_a_loop_that_raises_or_returns_is_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(first_delay=0.01, most_delay=0.05)
    runs = 0
    third_run = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ValueError(PRIVATE)
        if runs == 2:
            return  # a loop must not end by itself either
        third_run.set()
        await asyncio.Event().wait()  # runs until cancelled

    task = supervisor.start("flaky loop", flaky)
    await asyncio.wait_for(third_run.wait(), timeout=5)
    assert supervisor.restarts == {"flaky loop": 2}
    ended = [r.getMessage() for r in caplog.records if "ended unexpectedly" in r.getMessage()]
    assert len(ended) == 2, ended
    assert "flaky loop ended unexpectedly (ValueError at tests/test_supervision.py:" in ended[0]
    assert "(it returned)" in ended[1]
    assert PRIVATE not in caplog.text

    task.cancel()  # cancellation ends it for good: no restart
    with pytest.raises(asyncio.CancelledError):
        await task
    assert supervisor.restarts == {"flaky loop": 2}


async def test_a_fatal_failure_ends_until_with_one_sentence() -> None:
    supervisor = Supervisor(first_delay=0.01)
    stop = asyncio.Event()

    async def revoked() -> None:
        raise PermissionError("401")

    def fatal(error: BaseException) -> str | None:
        return (
            "The token was revoked: set a new one." if isinstance(error, PermissionError) else None
        )

    task = supervisor.start("polling", revoked, fatal=fatal)
    with pytest.raises(ConfigError, match=r"^The token was revoked: set a new one\.$"):
        await asyncio.wait_for(supervisor.until(stop), timeout=5)
    assert task.done()
    assert supervisor.restarts == {"polling": 0}


async def test_until_returns_when_asked_to_stop() -> None:
    supervisor = Supervisor()
    stop = asyncio.Event()
    waiting = asyncio.create_task(supervisor.until(stop))
    await asyncio.sleep(0)
    assert not waiting.done()
    stop.set()
    await asyncio.wait_for(waiting, timeout=5)


def test_backoff_doubles_up_to_the_cap_with_jitter_and_honours_what_was_asked() -> None:
    backoff = Backoff(first=0.5, most=30.0)
    waits = [backoff.next() for _ in range(10)]
    for wait, base in zip(waits, [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30], strict=True):
        assert 0.75 * base <= wait <= 1.25 * base
    assert backoff.failures == 10
    assert backoff.next(at_least=90.0) == 90.0
    for _ in range(10_000):  # days of failures neither overflow nor pass the cap
        backoff.next()
    assert backoff.next() <= 37.5
    backoff.reset()
    assert 0.375 <= backoff.next() <= 0.625


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_intake_health_fails_until_a_success_and_counts_a_store_that_hangs() -> None:
    clock = Clock()
    health = IntakeHealth(stalled_after=5.0, clock=clock)
    assert health.problems() == {}
    await health.check()

    health.failed("telegram", "getUpdates: TelegramServerError: Bad Gateway")
    clock.now += 3
    health.failed("telegram", "getUpdates: TelegramNetworkError")  # since the first failure
    assert health.problems() == {"telegram": "getUpdates: TelegramNetworkError (for 3 s)"}
    with pytest.raises(CheckFailed, match="telegram: getUpdates"):
        await health.check()
    health.succeeded("telegram")
    assert health.problems() == {}

    with health.storing("telegram"):
        clock.now += 4.9
        assert health.problems() == {}
        clock.now += 0.2
        assert health.problems() == {"telegram": "storing updates has been waiting for 5 s"}
    assert health.problems() == {}

    async def disk_full() -> None:
        clock.now += 60  # a webhook's call also waits for processing: not a stall
        assert health.problems() == {}
        raise OSError(28, PRIVATE)

    async def store() -> None:
        with health.storing("viber", timed=False):
            await disk_full()

    with pytest.raises(OSError, match="must stay out"):
        await store()
    assert health.problems() == {"viber": "storing updates: OSError (for 0 s)"}
    with health.storing("viber", timed=False):
        pass
    assert health.problems() == {}
