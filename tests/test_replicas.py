"""Two replicas on one PostgreSQL behind a round-robin balancer work as one bridge.

Telegram and Viber customers and their operators write through both replicas at once; one
replica is killed with SIGKILL mid-way and never comes back. Every message still arrives, in
order, each customer has exactly one topic, and a repeat can only be the one update that was in
flight in the killed replica (the bound the README documents for a crash).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import aiohttp
import pytest

from standins.telegram import FakeTelegram
from standins.viber import FakeViber
from tests.bridge_process import BridgeProcess, arrive_in_order, texts, topic_where
from tests.harness import JSON, TOKEN, ensure_database, postgres_database_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two replicas need PostgreSQL: set TEST_DATABASE_URL (CI does)",
)

TELEGRAM_CUSTOMERS = 3
VIBER_CUSTOMERS = 2
MESSAGES = 10  # per customer, and as many operator replies


class Balancer:
    """Round robin over the replicas; a replica that fails is skipped, like a load balancer
    in front of webhooks that Telegram and Viber retry until they get 200."""

    def __init__(self, replicas: list[BridgeProcess], fake: FakeTelegram, viber: FakeViber):
        self.replicas = replicas
        self.fake = fake
        self.viber = viber
        self._turn = itertools.count()
        self.session = aiohttp.ClientSession()

    async def _post(self, replica: BridgeProcess, update: JSON) -> bool:
        secret = self.fake.webhook["secret_token"]
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        try:
            async with self.session.post(
                f"{replica.url}/telegram/webhook", json=update, headers=headers
            ) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def _callback(self, replica: BridgeProcess, event: JSON) -> bool:
        try:
            status, _ = await self.viber.send_callback(event, url=f"{replica.url}/viber/webhook")
        except AssertionError:  # the fake's word for a connection that failed
            return False
        return status == 200

    async def telegram(self, update: JSON) -> None:
        await self._until_accepted(lambda replica: self._post(replica, update))

    async def viber_event(self, event: JSON) -> None:
        await self._until_accepted(lambda replica: self._callback(replica, event))

    async def _until_accepted(self, send) -> None:  # type: ignore[no-untyped-def]
        for attempt in range(200):
            replica = self.replicas[next(self._turn) % len(self.replicas)]
            if await send(replica):
                return
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))  # a platform's retry pause
        raise AssertionError("no replica accepted the update")

    async def close(self) -> None:
        await self.session.close()


async def in_order(send, items: list[JSON]) -> None:  # type: ignore[no-untyped-def]
    """Like the platforms: the next update of a chat goes once the previous got its 200."""
    for item in items:
        await send(item)


async def test_two_replicas_one_killed_lose_nothing_and_keep_order(tmp_path: Path) -> None:
    url = postgres_database_url(tmp_path / "replicas")
    await ensure_database(url)
    fake = FakeTelegram(TOKEN)
    viber = FakeViber()
    await fake.start()
    await viber.start()
    env = {
        "VIBER_AUTH_TOKEN": viber.auth_token,
        "VIBER_API_URL": viber.url,
        "VIBER_BOT_NAME": "Insurer",
        "WEBHOOK_WAIT_SECONDS": "0",  # answer once stored: the next update may overtake
        "INBOX_SWEEP_SECONDS": "0.5",
        "RETRY_FIRST_DELAY_SECONDS": "0.05",
    }
    replicas = [BridgeProcess(fake, tmp_path, url, **env) for _ in range(2)]
    balancer = Balancer(replicas, fake, viber)
    operator = fake.add_user("Iryna", last_name="Operator")
    tg_users = [fake.add_user(f"Tele{n}") for n in range(TELEGRAM_CUSTOMERS)]
    vb_users = [viber.add_user(f"Vibe{n}") for n in range(VIBER_CUSTOMERS)]
    try:
        for replica in replicas:
            await replica.start()

        # First contact: each new customer's first two messages reach both replicas at once.
        first = []
        for user in tg_users:
            name = user["first_name"]
            for i, replica in enumerate(replicas):
                update = fake.customer_message(user, text=f"{name} hello {i}")
                first.append(balancer._post(replica, update))
        for user in vb_users:
            for i, replica in enumerate(replicas):
                event = viber.message_event(user, viber.text(f"{user['name']} hello {i}"))
                first.append(balancer._callback(replica, event))
        assert all(await asyncio.gather(*first))

        topics: dict[str, int] = {}
        for user in tg_users:
            link = f"tg://user?id={user['id']}"
            topics[user["first_name"]] = await topic_where(
                fake, lambda m, link=link: link in m.get("html", "")
            )
        for user in vb_users:
            hello = f"{user['name']} hello"
            topics[user["name"]] = await topic_where(  # the card post with the first words
                fake, lambda m, hello=hello: bool(texts([m], hello))
            )

        streams = []
        for user in tg_users:
            name = user["first_name"]
            updates = [fake.customer_message(user, text=f"{name} {i}") for i in range(MESSAGES)]
            streams.append(in_order(balancer.telegram, updates))
        for user in vb_users:
            name = user["name"]
            events = [viber.message_event(user, viber.text(f"{name} {i}")) for i in range(MESSAGES)]
            streams.append(in_order(balancer.viber_event, events))
        for name, topic in topics.items():
            replies = [
                fake.operator_message(operator, topic, text=f"to {name} {i}")
                for i in range(MESSAGES)
            ]
            streams.append(in_order(balancer.telegram, replies))
        senders = [asyncio.create_task(stream) for stream in streams]

        total = len(topics) * MESSAGES
        relayed = lambda: sum(  # noqa: E731
            len(texts(fake.topic_messages(t), f"{n} ")) for n, t in topics.items()
        )
        await fake.wait_for(lambda: relayed() >= total // 3, timeout=60)
        await replicas[0].kill()  # mid-way, no warning, and it stays down
        assert relayed() < total  # the kill really hit work in flight
        await asyncio.wait_for(asyncio.gather(*senders), timeout=120)

        for name, topic in topics.items():
            await arrive_in_order(
                fake.wait_for,
                lambda topic=topic, name=name: [
                    t for t in texts(fake.topic_messages(topic), f"{name} ") if "hello" not in t
                ],
                [f"{name} {i}" for i in range(MESSAGES)],
            )
            hellos = sorted(texts(fake.topic_messages(topic), f"{name} hello"))
            assert hellos == [f"{name} hello 0", f"{name} hello 1"]  # both, once each
        for user in tg_users:
            name = user["first_name"]
            await arrive_in_order(
                fake.wait_for,
                lambda user=user, name=name: texts(fake.sent_by_bot(user["id"]), f"to {name} "),
                [f"to {name} {i}" for i in range(MESSAGES)],
            )
        for user in vb_users:
            name = user["name"]
            await arrive_in_order(
                viber.wait_for,
                lambda user=user, name=name: texts(viber.received(user["id"]), f"to {name} "),
                [f"to {name} {i}" for i in range(MESSAGES)],
            )

        assert len(fake.calls_to("createForumTopic")) == len(topics)  # one topic per customer
        assert replicas[1].alive
    finally:
        await balancer.close()
        for replica in replicas:
            await replica.stop()
        await viber.stop()
        await fake.stop()
