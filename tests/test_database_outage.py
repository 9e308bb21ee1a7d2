"""Every message arrives, however long the database is away.

SQLite's write lock is taken by another connection for 40 seconds (four times SQLite's busy
timeout) while deliveries are in flight and known and new customers and an operator keep
writing, in webhook mode and in polling mode at once. Updates that cannot be stored wait at
Telegram (the webhook answers 503 and Telegram delivers again; polling does not move its
offset); deliveries that went out wait to be recorded and are not sent again. When the lock is
gone everything arrives, in order, at most once more per conversation, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from standins.telegram import FakeTelegram
from tests.bridge_process import known_and_new_arrive
from tests.harness import JSON, ON_POSTGRES, TOKEN, Scene, eventually, running_bridge
from tests.sqlite_lock import WriteLock, write_lock

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the outage is SQLite's write lock")

LOCK_SECONDS = 40.0


async def in_order(fake: FakeTelegram, updates: list[JSON]) -> None:
    """Like Telegram: each update again until it is taken, then the next."""
    for update in updates:
        await fake.deliver_until_accepted(update, timeout=LOCK_SECONDS + 30)


async def outlive_a_locked_database(scene: Scene, lock: WriteLock) -> None:
    fake, mode = scene.fake, scene.mode
    known = fake.add_user("Known", last_name=mode)
    await scene.customer_says(known, text="Known 0")
    topic = await scene.topic_of(known)
    await scene.settled()

    # deliveries in flight when the lock comes: Telegram is slow to take them
    fake.delay("copyMessage", 1.5, times=4)
    early = [fake.customer_message(known, text=f"Known {n}") for n in (1, 2)]
    early += [fake.operator_message(scene.operator, topic, text="to Known 1")]
    for update in early:
        assert await fake.deliver(update) == 200
    await fake.wait_for(lambda: len(fake.calls_to("copyMessage")) >= 1)
    await lock.take()
    newcomer = fake.add_user("Newcomer", last_name=mode)
    writers = [
        in_order(fake, [fake.customer_message(known, text=f"Known {n}") for n in (3, 4)]),
        in_order(fake, [fake.customer_message(newcomer, text=f"Newcomer {n}") for n in (0, 1)]),
        in_order(
            fake,
            [fake.operator_message(scene.operator, topic, text=f"to Known {n}") for n in (2, 3)],
        ),
    ]
    sending = [asyncio.ensure_future(writer) for writer in writers]
    await asyncio.sleep(LOCK_SECONDS)  # the outage itself: the lock is held this long
    await lock.release()
    await asyncio.gather(*sending)

    new_topic = await scene.topic_of(newcomer)
    await known_and_new_arrive(fake, known, topic, new_topic, 5)

    async def healthy() -> bool:
        return (await scene.http("GET", "/healthz"))[0] == 200

    await eventually(healthy, within=15)
    made = [c for c in fake.calls if c.method == "createForumTopic" and c.performed]
    assert len(made) == 2


async def test_forty_seconds_of_a_locked_database_lose_nothing(tmp_path: Path) -> None:
    """Both modes at once: the outage is the same forty seconds for both."""
    async with contextlib.AsyncExitStack() as stack:
        scenes = []
        for mode in ("webhook", "polling"):  # one after the other: migrations share a context
            fake = FakeTelegram(TOKEN)
            await fake.start()
            stack.push_async_callback(fake.stop)
            db = tmp_path / f"{mode}.db"
            app = await stack.enter_async_context(
                running_bridge(
                    fake,
                    db,
                    webhook=mode == "webhook",
                    sla_first_response_seconds=3600,
                    delivery_retry_max_seconds=1,
                )
            )
            lock = await stack.enter_async_context(write_lock(db))
            scenes.append(outlive_a_locked_database(Scene(fake, app, mode), lock))
        await asyncio.gather(*scenes)
