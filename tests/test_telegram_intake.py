"""End to end: the webhook's defences, duplicate updates, the first-message race, restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standins.telegram import FakeTelegram
from tests.harness import TOKEN, Scene, running_bridge


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("intake")) / "bridge.db"


@pytest.fixture(scope="module")
async def scene(fake: FakeTelegram, db: Path) -> AsyncIterator[Scene]:
    async with running_bridge(fake, db, webhook=True, max_body_bytes=64 * 1024) as app:
        yield Scene(fake, app, "webhook")


async def test_wrong_or_missing_secret_is_refused_and_nothing_happens(scene: Scene) -> None:
    user = scene.fake.add_user("Intruder")
    update = scene.fake.customer_message(user, text="let me in")
    assert (await scene.fake.post_webhook(update, secret="wrong"))[0] == 401
    assert (await scene.fake.post_webhook(update, secret=None))[0] == 401
    assert not any(c.method == "createForumTopic" for c in scene.fake.calls)


async def test_malformed_and_oversized_bodies_get_clear_4xx(scene: Scene) -> None:
    secret = scene.fake.webhook["secret_token"]
    status, body = await scene.fake.post_webhook(b"{not json", secret=secret)
    assert (status, json.loads(body)) == (400, {"error": "not a Telegram update"})
    status, _ = await scene.fake.post_webhook(b'{"update_id": "nope"}', secret=secret)
    assert status == 400
    status, _ = await scene.fake.post_webhook(b"[1, 2, 3]", secret=secret)
    assert status == 400
    huge = json.dumps({"update_id": 1, "padding": "x" * 100_000}).encode()
    status, _ = await scene.fake.post_webhook(huge, secret=secret)
    assert status == 413
    assert await scene.http("GET", "/healthz") == (200, '{"status": "ok"}')


async def test_the_same_update_twice_is_processed_once(scene: Scene) -> None:
    user = scene.fake.add_user("Twice")
    update = scene.fake.customer_message(user, text="only once please")
    assert await scene.fake.deliver(update) == 200
    assert await scene.fake.deliver(update) == 200
    topic = await scene.topic_of(user)
    await scene.shows(topic, "only once please")
    shown = [m for m in scene.fake.topic_messages(topic) if "only once" in m.get("text", "")]
    assert len(shown) == 1


async def test_two_quick_first_messages_make_exactly_one_topic(scene: Scene) -> None:
    user = scene.fake.add_user("Racer")
    first = scene.fake.customer_message(user, text="first")
    second = scene.fake.customer_message(user, text="second")
    statuses = await asyncio.gather(scene.fake.deliver(first), scene.fake.deliver(second))
    assert statuses == [200, 200]
    topic = await scene.topic_of(user)
    creates = [c for c in scene.fake.calls_to("createForumTopic") if "Racer" in c["name"]]
    assert len(creates) == 1
    # a new customer's first messages wait a moment for each other: one post with the card
    (post,) = await scene.in_topic(topic, count=1)
    assert post["text"].endswith("\n\nfirst\n\nsecond")


async def test_restart_on_the_same_database_keeps_the_message_map(
    fake: FakeTelegram, db: Path, scene: Scene
) -> None:
    user = fake.add_user("Returning")
    await scene.customer_says(user, text="Hello")
    topic = await scene.topic_of(user)
    original = await scene.customer_says(user, text="Policy 42, please")
    copy = (await scene.in_topic(topic, text="Policy 42, please"))[0]
    await scene.app.stop()

    async with running_bridge(fake, db, webhook=False) as app:
        again = Scene(fake, app, "polling")
        await again.operator_says(topic, text="Here it is", reply_to=copy["message_id"])
        delivered = (await again.in_chat(user, text="Here it is"))[0]
        assert delivered["reply_to_message"]["message_id"] == original["message_id"]
        await again.deliver(
            fake.edit_message(user["id"], original["message_id"], text="Policy 43, please")
        )
        await fake.wait_for(
            lambda: (
                fake.message(fake.operator_chat_id, copy["message_id"])["text"]
                == "Policy 43, please"
            )
        )
        assert len([c for c in fake.calls_to("createForumTopic") if "Returning" in c["name"]]) == 1
