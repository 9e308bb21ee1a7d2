"""The real process is killed with SIGKILL in the middle of a burst of customer and operator
messages, restarted on the same database, and every message arrives, in order, with at most
one duplicate per conversation (the update in flight when the process died)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from standins.telegram import FakeTelegram
from tests.bridge_process import BridgeProcess, arrive_in_order, texts, topic_where
from tests.harness import JSON, TOKEN

CUSTOMERS = 4
MESSAGES = 12  # per customer, and as many operator replies


async def deliver_in_order(fake: FakeTelegram, updates: list[JSON], up: asyncio.Event) -> None:
    """Like Telegram: each update is retried until the bridge answers 200, then the next."""
    for update in updates:
        while True:
            try:
                if await fake.deliver(update) == 200:
                    break
            except aiohttp.ClientError:
                pass
            await up.wait()  # the bridge is down: wait for it to come back, then retry


async def test_sigkill_mid_burst_loses_nothing_and_keeps_order(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    bridge = BridgeProcess(fake, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}")
    operator = fake.add_user("Iryna", last_name="Operator")
    users = [fake.add_user(f"Crash{n}") for n in range(CUSTOMERS)]
    try:
        await bridge.start()
        for user in users:  # first contact: one topic each
            assert (
                await fake.deliver(fake.customer_message(user, text=f"{user['first_name']} 0"))
                == 200
            )
        topics = {}
        for user in users:
            link = f"tg://user?id={user['id']}"
            topics[user["id"]] = await topic_where(
                fake, lambda m, link=link: link in m.get("html", "")
            )

        streams = []
        for user in users:
            name = user["first_name"]
            topic = topics[user["id"]]
            customer = [fake.customer_message(user, text=f"{name} {i}") for i in range(1, MESSAGES)]
            replies = [
                fake.operator_message(operator, topic, text=f"to {name} {i}")
                for i in range(MESSAGES)
            ]
            streams += [customer, replies]
        up = asyncio.Event()
        up.set()
        senders = [asyncio.create_task(deliver_in_order(fake, s, up)) for s in streams]

        await fake.wait_for(lambda: len(fake.calls_to("copyMessage")) >= CUSTOMERS * MESSAGES // 2)
        up.clear()
        await bridge.kill()  # mid-burst, no warning
        copied_before_crash = len(fake.calls_to("copyMessage"))
        total = CUSTOMERS * (2 * MESSAGES - 1)
        assert copied_before_crash < total  # the crash really hit work in flight
        await bridge.start()  # same database: pending updates resume
        up.set()
        await asyncio.wait_for(asyncio.gather(*senders), timeout=60)

        for user in users:
            name = user["first_name"]
            topic = topics[user["id"]]
            await arrive_in_order(
                fake.wait_for,
                lambda topic=topic, name=name: texts(fake.topic_messages(topic), f"{name} "),
                [f"{name} {i}" for i in range(MESSAGES)],
            )
            await arrive_in_order(
                fake.wait_for,
                lambda user=user, name=name: texts(fake.sent_by_bot(user["id"]), f"to {name} "),
                [f"to {name} {i}" for i in range(MESSAGES)],
            )
        assert len(fake.calls_to("createForumTopic")) == CUSTOMERS  # no extra topics
    finally:
        await bridge.stop()
        await fake.stop()


async def test_an_album_waiting_for_its_last_items_survives_a_sigkill(tmp_path: Path) -> None:
    """The items of an album are stored as they come; the album waits for the rest, the
    process dies meanwhile, and after the restart it goes as one album."""
    fake = FakeTelegram(TOKEN)
    await fake.start()
    url = f"sqlite+aiosqlite:///{tmp_path / 'album.db'}"
    bridge = BridgeProcess(fake, tmp_path, url, ALBUM_WAIT_SECONDS="3")
    user = fake.add_user("Photographer")
    try:
        await bridge.start()
        assert await fake.deliver(fake.customer_message(user, text="photos follow")) == 200
        link = f"tg://user?id={user['id']}"
        topic = await topic_where(fake, lambda m: link in m.get("html", ""))
        for index in range(3):
            update = fake.customer_message(
                user, media_group_id="wreck", photo=fake.photo(), caption=f"side {index}"
            )
            assert await fake.deliver(update) == 200  # stored: the album now waits
        await bridge.kill()
        assert not fake.calls_to("sendMediaGroup")  # it died before the album went
        await bridge.start()
        copies = await fake.wait_for(
            lambda: (
                photos
                if len(photos := [m for m in fake.topic_messages(topic) if "photo" in m]) >= 3
                else None
            ),
            timeout=30,
        )
        assert [m["caption"] for m in copies] == ["side 0", "side 1", "side 2"]
        assert len({m["media_group_id"] for m in copies}) == 1
    finally:
        await bridge.stop()
        await fake.stop()
