"""Every message arrives, however long Telegram is away.

Telegram's front answers 502 with its HTML page to every call for four minutes (of the
bridge's clock) while known and new customers and an operator write; then it recovers. Nothing
is given up: everything arrives, in order, without a restart, at most once more than sent per
conversation, and the team hears once, in General, that deliveries wait. /metrics shows them
waiting meanwhile.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from standins.telegram import FakeTelegram
from tests.bridge_process import known_and_new_arrive
from tests.harness import TOKEN, Scene, running_bridge
from tests.viber_harness import ShiftedClock


def gauge(metrics: str, name: str, destination: str) -> float:
    found = re.search(rf'^{name}{{destination="{destination}"}} (\S+)$', metrics, re.M)
    assert found, (name, destination)
    return float(found.group(1))


async def test_four_minutes_of_502_lose_nothing(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    clock = ShiftedClock()
    try:
        async with running_bridge(
            fake,
            tmp_path / "outage.db",
            webhook=True,
            clock=clock,
            delivery_retry_max_seconds=0.5,
            delivery_check_seconds=0.2,
            delivery_attempts=2,
        ) as app:
            scene = Scene(fake, app, "webhook")
            known = fake.add_user("Known")
            await scene.customer_says(known, text="Known 0")
            topic = await scene.topic_of(known)
            await scene.settled()

            fake.outage(502, html=True)
            newcomer = fake.add_user("Newcomer")
            for n in range(1, 4):
                await scene.customer_says(known, text=f"Known {n}")
                await scene.operator_says(topic, text=f"to Known {n}")
            for n in range(2):
                await scene.customer_says(newcomer, text=f"Newcomer {n}")
            refused = len(fake.calls)
            await fake.wait_for(lambda: len(fake.calls) > refused + 10)  # still trying
            clock.offset += timedelta(minutes=4)
            status, metrics = await scene.http("GET", "/metrics")
            assert status == 200
            assert gauge(metrics, "support_bridge_outbox_pending", "group") >= 4
            assert gauge(metrics, "support_bridge_outbox_pending", "telegram") >= 3
            assert gauge(metrics, "support_bridge_outbox_oldest_pending_seconds", "group") >= 240
            clock.offset += timedelta(minutes=2)  # past DELIVERY_ALERT_MINUTES
            await fake.wait_for(lambda: len(fake.calls) > refused + 30)

            fake.end_outage()
            new_topic = await scene.topic_of(newcomer)
            await known_and_new_arrive(fake, known, topic, new_topic, 4)
            alert = await fake.wait_for(
                lambda: [
                    m
                    for m in fake.sent_by_bot(fake.operator_chat_id)
                    if "have been waiting since" in m.get("text", "")
                ]
            )
            assert "message_thread_id" not in alert[0]  # in General
            await scene.settled()
            alerts = [
                m
                for m in fake.sent_by_bot(fake.operator_chat_id)
                if "have been waiting since" in m.get("text", "")
            ]
            assert len(alerts) == len({m["text"].split(" to ")[1] for m in alerts})  # once each
            made = [c for c in fake.calls if c.method == "createForumTopic" and c.performed]
            assert len(made) == 2  # one topic each, however many tries it took
    finally:
        await fake.stop()
