"""Fault injection through the fake Telegram server: 429 storms, 5xx bursts, timeouts, retries
that run out, a customer who blocks the bot, outsiders pressing buttons."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standins.telegram import FakeTelegram
from tests.harness import JSON, TOKEN, Scene, running_bridge


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = Path(tmp_path_factory.mktemp("faults")) / "bridge.db"
    async with running_bridge(
        fake,
        db,
        webhook=True,
        delivery_attempts=3,
        telegram_timeout_seconds=1,
        delivery_retry_max_seconds=0.3,
    ) as app:
        yield Scene(fake, app, "webhook")
    await fake.stop()


async def customer_with_topic(scene: Scene, name: str) -> tuple[JSON, int]:
    user = scene.fake.add_user(name)
    await scene.customer_says(user, text=f"hello from {name}")
    return user, await scene.topic_of(user)


def copies_of(scene: Scene, topic: int, text: str) -> list[JSON]:
    return [m for m in scene.fake.topic_messages(topic) if m.get("text") == text]


async def test_a_429_storm_is_honoured_exactly_and_nothing_is_lost(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Storm")
    scene.fake.fail("copyMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=2)
    await scene.customer_says(user, text="during the storm")
    await scene.in_topic(topic, text="during the storm")
    attempts = [c for c in scene.fake.calls if c.method == "copyMessage"][-3:]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= 1.0 for gap in gaps), gaps  # retry_after waited out, not guessed
    assert len(copies_of(scene, topic, "during the storm")) == 1


async def test_a_5xx_burst_is_retried_with_backoff(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Bursty")
    scene.fake.fail("copyMessage", 502, "Bad Gateway", times=2)
    await scene.customer_says(user, text="through the outage")
    await scene.in_topic(topic, text="through the outage")
    assert len(copies_of(scene, topic, "through the outage")) == 1


async def test_a_timeout_is_retried(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Slow")
    scene.fake.delay("copyMessage", 2.5)  # longer than the 1 s request timeout
    await scene.customer_says(user, text="slow network")
    await scene.in_topic(topic, text="slow network")
    # Telegram may still perform a call the client gave up on: at most one extra copy.
    await scene.fake.wait_for(lambda: len(copies_of(scene, topic, "slow network")) >= 1)
    assert len(copies_of(scene, topic, "slow network")) <= 2


async def test_an_operator_message_that_keeps_failing_is_retried_until_it_goes(
    scene: Scene,
) -> None:
    user, topic = await customer_with_topic(scene, "Unlucky")
    scene.fake.fail(
        "copyMessage",
        500,
        "Internal Server Error",
        times=12,  # four rounds of the bridge's quick retries, more than it used to allow
        when=lambda params: params.get("chat_id") == user["id"],
    )
    await scene.operator_says(topic, text="are you there?")
    await scene.in_chat(user, text="are you there?")
    copies = [c for c in scene.fake.calls_to("copyMessage") if c["chat_id"] == user["id"]]
    assert len(copies) == 13  # every failure, then the one that went
    assert [m["text"] for m in scene.fake.sent_by_bot(user["id"])].count("are you there?") == 1
    assert not [
        m for m in scene.fake.sent_by_bot(scene.group, topic) if "Not delivered" in m["text"]
    ]


async def test_a_customer_blocking_the_bot_is_shown_and_replies_refused(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Blocker")
    await scene.deliver(scene.fake.member_update(user, blocked=True))
    await scene.in_topic(
        topic, text="🚫 The customer blocked the bot: messages to them are not delivered."
    )
    calls_before = len(scene.fake.calls_to("copyMessage"))
    await scene.operator_says(topic, text="hello?")
    await scene.fake.wait_for(
        lambda: "blocked the bot" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )
    assert len(scene.fake.calls_to("copyMessage")) == calls_before  # refused at once
    await scene.deliver(scene.fake.member_update(user, blocked=False))
    await scene.in_topic(topic, text="✅ The customer is back: messages are delivered again.")


async def test_buttons_pressed_by_outsiders_do_nothing(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Guarded")
    outsider = scene.fake.add_user("Outsider")
    scene.fake.set_member_status(outsider["id"], "left")
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    await scene.deliver(scene.fake.callback_query(outsider, card, "card:close"))
    await scene.deliver(scene.fake.callback_query(outsider, card, "card:ban"))
    assert not scene.fake.topics[topic].closed
    await scene.customer_says(user, text="still relayed")
    await scene.in_topic(topic, text="still relayed")


async def test_a_customer_message_outlasts_a_run_of_5xx(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Patient")
    scene.fake.fail(
        "copyMessage",
        502,
        "Bad Gateway",
        times=12,
        when=lambda params: params.get("from_chat_id") == user["id"],
        html=True,  # Telegram's front answers its HTML page, which does not decode as JSON
    )
    await scene.customer_says(user, text="my car was stolen")
    await scene.in_topic(topic, text="my car was stolen")
    assert len(copies_of(scene, topic, "my car was stolen")) == 1


async def test_an_album_is_one_delivery_that_outlasts_send_failures(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Albumist")
    scene.fake.fail("sendMediaGroup", 502, "Bad Gateway", times=8, html=True)
    for index in range(3):
        await scene.customer_says(
            user, media_group_id="claim-photos", photo=scene.fake.photo(), caption=f"part {index}"
        )
    copies = await scene.in_topic(topic, count=3, photo=...)
    assert [m["caption"] for m in copies] == ["part 0", "part 1", "part 2"]
    assert len({m["media_group_id"] for m in copies}) == 1  # still one album
    tries = scene.fake.calls_to("sendMediaGroup")
    assert len(tries) == 9 and all(len(t["media"]) == 3 for t in tries)


async def test_a_copy_telegram_refuses_is_shown_another_way_or_explained(scene: Scene) -> None:
    user, topic = await customer_with_topic(scene, "Quizzer")
    into_topic = lambda params: params.get("chat_id") == scene.group  # noqa: E731
    scene.fake.fail("copyMessage", 400, "Bad Request: message can't be copied", when=into_topic)
    await scene.customer_says(user, text="which one is cheaper, A or B?")
    await scene.in_topic(topic, text="which one is cheaper, A or B?")  # sent as new content

    refusal = "Bad Request: wrong file identifier/HTTP URL specified"
    scene.fake.fail("copyMessage", 400, refusal, when=into_topic)
    scene.fake.fail("sendDocument", 400, refusal, when=into_topic)
    await scene.customer_says(user, document=scene.fake.document("policy.pdf"), caption="my doc")
    note = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group, topic)
            if "could not be shown here" in m.get("text", "")
        ]
    )
    assert "«my doc»" in note[0]["text"] and "wrong file" in note[0]["text"]
    status, metrics = await scene.http("GET", "/metrics")
    assert status == 200
    assert 'support_bridge_delivery_failures_total{reason="unsupported"}' in metrics
