"""Viber callbacks older than Viber's hour of retries (plus clock skew), or stamped far in the
future, are replays: refused with 403, logged without content, never stored or relayed."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.viber_harness import ViberScene, viber_bridge

MINUTE = timedelta(minutes=1)
OLDEST = timedelta(hours=1, minutes=5)  # Viber's hour of retries, plus 5 minutes of skew
AHEAD = timedelta(minutes=5)


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("replays")) / "bridge.db"
    async with viber_bridge(db) as scene:
        yield scene


async def refused(scene: ViberScene) -> float:
    """`support_bridge_webhook_refused_total` for Viber's 403s, from /metrics."""
    status, body = await scene.http("GET", "/metrics")
    assert status == 200
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "support_bridge_webhook_refused_total" and sample.labels == {
                "platform": "viber",
                "status": "403",
            }:
                return sample.value
    return 0.0


def relayed(scene: ViberScene, words: str) -> bool:
    return any(words in json.dumps(call.params, ensure_ascii=False) for call in scene.fake.calls)


@pytest.mark.parametrize(
    ("shift", "why"),
    [
        pytest.param(-(OLDEST + MINUTE), "too old", id="66-minutes-old"),
        pytest.param(-timedelta(days=30), "too old", id="a-month-old"),
        pytest.param(AHEAD + MINUTE, "future", id="6-minutes-ahead"),
    ],
)
async def test_a_replayed_message_is_refused_and_never_reaches_the_topic(
    scene: ViberScene, caplog: pytest.LogCaptureFixture, shift: timedelta, why: str
) -> None:
    user = scene.viber.add_user(f"Replay Victim {why} {shift.total_seconds():.0f}")
    viber = scene.viber
    recorded = viber.message_event(user, viber.text("recorded words"))
    replay = viber.sent_at(recorded, scene.clock.now() + shift)
    before = await refused(scene)
    with caplog.at_level(logging.INFO):
        status, body = await viber.send_callback(replay)
    assert status == 403
    assert await refused(scene) == before + 1  # counted where the admin looks
    assert "too old or from the future" in body
    warnings = [r for r in caplog.records if "replay" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "recorded words" not in logged and user["id"] not in logged
    # The customer's lane is worked in order: had the replay been stored, it would show first.
    await scene.customer_sends(user, viber.text("fresh words"))
    topic = await scene.viber_topic(user)
    await scene.shows(topic, "fresh words")
    assert not relayed(scene, "recorded words")


async def test_viber_s_own_late_retries_still_get_through(scene: ViberScene) -> None:
    """A retry 64 minutes after the first try, or a clock 4 minutes ahead, is still Viber."""
    viber = scene.viber
    for shift, words in (
        (-(OLDEST - MINUTE), "retried for an hour"),
        (AHEAD - MINUTE, "clock a little ahead"),
    ):
        user = viber.add_user(f"Late Retry {words}")
        event = viber.sent_at(
            viber.message_event(user, viber.text(words)), scene.clock.now() + shift
        )
        assert (await viber.send_callback(event))[0] == 200
        await scene.shows(await scene.viber_topic(user), words)


async def test_the_signature_is_checked_before_the_age(scene: ViberScene) -> None:
    user = scene.viber.add_user("Forged Replay")
    old = scene.viber.sent_at(
        scene.viber.message_event(user, scene.viber.text("forged and old")),
        scene.clock.now() - timedelta(days=1),
    )
    status, body = await scene.viber.send_callback(old, signature="ab" * 32)
    assert (status, json.loads(body)) == (403, {"error": "wrong signature"})


async def test_a_replayed_conversation_start_gets_no_welcome(scene: ViberScene) -> None:
    user = scene.viber.add_user("Old Opener", subscribed=False)
    opened = scene.viber.conversation_started(user)
    old = scene.viber.sent_at(opened, scene.clock.now() - timedelta(hours=3))
    status, body = await scene.viber.send_callback(old)
    assert status == 403
    assert "welcome" not in body and "keyboard" not in body.lower()
    assert scene.viber.received(user["id"]) == []


@pytest.mark.parametrize("stamp", ["1795514400000", 1.7955144e12, None, True, 10**30], ids=repr)
async def test_a_timestamp_that_is_not_epoch_milliseconds_is_malformed(
    scene: ViberScene, stamp: object
) -> None:
    user = scene.viber.add_user("Odd Stamp")
    event = {**scene.viber.message_event(user, scene.viber.text("odd stamp")), "timestamp": stamp}
    status, _ = await scene.viber.send_callback(json.dumps(event).encode())
    assert status == 400
    assert not relayed(scene, "odd stamp")
