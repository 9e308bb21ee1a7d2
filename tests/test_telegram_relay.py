"""End to end, in webhook and in polling mode: customers ↔ topics, every kind, albums, replies,
edits, delivery marks and the topic's state marker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge.model import TopicState
from bridge.topic_names import STATE_MARKERS
from standins.telegram import FakeTelegram, utf16_len
from tests.harness import TOKEN, Scene, running_bridge


@pytest.fixture(scope="module", params=["webhook", "polling"])
async def scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scene]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = Path(tmp_path_factory.mktemp("relay")) / "bridge.db"
    async with running_bridge(fake, db, webhook=request.param == "webhook") as app:
        yield Scene(fake, app, request.param)
    await fake.stop()


async def test_mode_is_set_up_and_health_answers(scene: Scene) -> None:
    assert await scene.http("GET", "/healthz") == (200, '{"status": "ok"}')
    if scene.mode == "webhook":
        hook = scene.fake.webhook
        assert hook["url"] == f"{scene.base_url}/telegram/webhook"
        assert hook["secret_token"]
        assert "callback_query" in (hook["allowed_updates"] or [])
    else:
        assert scene.fake.calls_to("deleteWebhook")
        assert scene.fake.calls_to("getUpdates")


async def test_first_message_creates_topic_with_card_and_formatted_copy(scene: Scene) -> None:
    user = scene.fake.add_user(
        "Olena", last_name="Kovalenko", username="olena_k", language_code="uk"
    )
    bold = [{"type": "bold", "offset": 0, "length": 5}]
    await scene.customer_says(user, text="Hello, I need a policy", entities=bold)
    topic = await scene.topic_of(user)

    assert scene.fake.topics[topic].name == f"{STATE_MARKERS[TopicState.NEW]} Olena Kovalenko"
    (card,) = await scene.in_topic(topic, count=1)  # one post: the card above the words
    for expected in (
        "Olena Kovalenko",
        "Telegram",
        "@olena_k",
        "Language: uk",
        "First contact:",
        "Earlier conversations: 0",
    ):
        assert expected in card["text"], card["text"]
    buttons = [b["callback_data"] for b in card["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["card:take", "card:wait", "card:close", "card:ban"]
    assert card["text"].endswith("\n\nHello, I need a policy")
    words_at = utf16_len(card["text"]) - utf16_len("Hello, I need a policy")
    assert {"type": "bold", "offset": words_at, "length": 5} in card["entities"]
    assert len(scene.fake.operations(scene.group)) == 2  # the topic and that one post

    await scene.customer_says(user, text="And a second question", entities=bold)
    copy = (await scene.in_topic(topic, text="And a second question"))[0]
    assert copy["entities"] == bold  # later messages are copies


async def test_an_edit_of_the_words_under_the_card_is_shown_as_a_note(scene: Scene) -> None:
    user = scene.fake.add_user("Early", last_name="Editor")
    original = await scene.customer_says(user, text="My plate is AA1234")
    topic = await scene.topic_of(user)
    (card,) = await scene.in_topic(topic, count=1)
    await scene.deliver(
        scene.fake.edit_message(user["id"], original["message_id"], text="My plate is AA1235")
    )
    note = (
        await scene.in_topic(topic, text="✏️ The customer edited this message:\nMy plate is AA1235")
    )[0]
    assert note["reply_to_message"]["message_id"] == card["message_id"]


CONTENT_KINDS: dict[str, Any] = {
    "photo": lambda f: {"photo": f.photo(), "caption": "my car"},
    "video": lambda f: {"video": f.video()},
    "animation": lambda f: {"animation": f.animation(), "document": f.animation()},
    "document": lambda f: {"document": f.document("claim.pdf")},
    "audio": lambda f: {"audio": f.audio()},
    "voice": lambda f: {"voice": f.voice()},
    "video_note": lambda f: {"video_note": f.video_note()},
    "sticker": lambda f: {"sticker": f.sticker()},
    "location": lambda f: {"location": {"latitude": 50.45, "longitude": 30.52}},
    "venue": lambda f: {
        "venue": {
            "location": {"latitude": 50.45, "longitude": 30.52},
            "title": "Office",
            "address": "Khreshchatyk 1",
        },
        "location": {"latitude": 50.45, "longitude": 30.52},
    },
    "contact": lambda f: {"contact": {"phone_number": "+380501234567", "first_name": "Olena"}},
    "poll": lambda f: {
        "poll": {
            "id": "5",
            "question": "Which policy?",
            "options": [
                {"persistent_id": "a", "text": "Car", "voter_count": 0},
                {"persistent_id": "b", "text": "Home", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }
    },
}


async def test_every_kind_reaches_the_topic(scene: Scene) -> None:
    user = scene.fake.add_user("Kinds", last_name="Tester")
    await scene.customer_says(user, text="let me show you")
    topic = await scene.topic_of(user)
    for kind, make in CONTENT_KINDS.items():
        await scene.customer_says(user, **make(scene.fake))
        copies = await scene.in_topic(topic, **{kind: ...})
        assert copies, kind
    photo = (await scene.in_topic(topic, photo=...))[0]
    assert photo["caption"] == "my car"


async def test_every_kind_reaches_the_customer(scene: Scene) -> None:
    user = scene.fake.add_user("Receiver")
    await scene.customer_says(user, text="send me things")
    topic = await scene.topic_of(user)
    for kind, make in CONTENT_KINDS.items():
        await scene.operator_says(topic, **make(scene.fake))
        assert await scene.in_chat(user, **{kind: ...}), kind


async def test_albums_stay_albums_both_ways(scene: Scene) -> None:
    user = scene.fake.add_user("Album")
    await scene.customer_says(user, text="photos of the damage")
    topic = await scene.topic_of(user)
    for index in range(3):
        await scene.customer_says(
            user, media_group_id="album-1", photo=scene.fake.photo(), caption=f"side {index}"
        )
    copies = await scene.in_topic(topic, count=3, photo=...)
    assert len({m.get("media_group_id") for m in copies}) == 1
    assert copies[0].get("media_group_id")
    assert [m["caption"] for m in copies] == ["side 0", "side 1", "side 2"]

    for index in range(2):
        await scene.operator_says(
            topic, media_group_id="ops-album", document=scene.fake.document(f"form{index}.pdf")
        )
    got = await scene.in_chat(user, count=2, document=...)
    assert got[0].get("media_group_id") and got[0]["media_group_id"] == got[1]["media_group_id"]
    assert [m["document"]["file_name"] for m in got] == ["form0.pdf", "form1.pdf"]


async def test_operator_reply_delivered_marked_and_replies_map_both_ways(scene: Scene) -> None:
    user = scene.fake.add_user("Replier")
    await scene.customer_says(user, text="Hello")
    topic = await scene.topic_of(user)
    original = await scene.customer_says(user, text="When does my policy start?")
    copy = (await scene.in_topic(topic, text="When does my policy start?"))[0]

    answer = await scene.operator_says(topic, text="Tomorrow at 00:00", reply_to=copy["message_id"])
    delivered = (await scene.in_chat(user, text="Tomorrow at 00:00"))[0]
    assert delivered["reply_to_message"]["message_id"] == original["message_id"]
    await scene.fake.wait_for(
        lambda: scene.fake.message(scene.group, answer["message_id"]).get("reactions")
    )
    assert scene.fake.message(scene.group, answer["message_id"])["reactions"] == ["👍"]
    await scene.fake.wait_for(
        lambda: scene.fake.topics[topic].name.startswith(STATE_MARKERS[TopicState.ANSWERED])
    )

    await scene.customer_says(user, text="Thanks!", reply_to=delivered["message_id"])
    thanks = (await scene.in_topic(topic, text="Thanks!"))[0]
    assert thanks["reply_to_message"]["message_id"] == answer["message_id"]
    await scene.fake.wait_for(
        lambda: scene.fake.topics[topic].name.startswith(STATE_MARKERS[TopicState.WAITING])
    )


async def test_edits_reach_the_other_side(scene: Scene) -> None:
    user = scene.fake.add_user("Editor")
    await scene.customer_says(user, text="Hello")
    topic = await scene.topic_of(user)
    original = await scene.customer_says(user, text="My numbr is 123")
    copy = (await scene.in_topic(topic, text="My numbr is 123"))[0]
    await scene.deliver(
        scene.fake.edit_message(user["id"], original["message_id"], text="My number is 123")
    )
    await scene.fake.wait_for(
        lambda: scene.fake.message(scene.group, copy["message_id"])["text"] == "My number is 123"
    )

    photo = await scene.customer_says(user, photo=scene.fake.photo(), caption="old caption")
    photo_copy = (await scene.in_topic(topic, caption="old caption"))[0]
    await scene.deliver(
        scene.fake.edit_message(user["id"], photo["message_id"], caption="new caption")
    )
    await scene.fake.wait_for(
        lambda: (
            scene.fake.message(scene.group, photo_copy["message_id"]).get("caption")
            == "new caption"
        )
    )

    sent = await scene.operator_says(topic, text="Your polcy is ready")
    delivered = (await scene.in_chat(user, text="Your polcy is ready"))[0]
    await scene.deliver(
        scene.fake.edit_message(scene.group, sent["message_id"], text="Your policy is ready")
    )
    await scene.fake.wait_for(
        lambda: (
            scene.fake.message(user["id"], delivered["message_id"])["text"]
            == "Your policy is ready"
        )
    )


async def test_an_edit_telegram_cannot_apply_becomes_a_marked_correction(scene: Scene) -> None:
    user = scene.fake.add_user("Corrector")
    await scene.customer_says(user, text="Hello")
    topic = await scene.topic_of(user)
    original = await scene.customer_says(user, text="Claim 77")
    copy = (await scene.in_topic(topic, text="Claim 77"))[0]
    scene.fake.fail("editMessageText", 400, "Bad Request: message can't be edited")
    await scene.deliver(
        scene.fake.edit_message(user["id"], original["message_id"], text="Claim 78")
    )
    note = (await scene.in_topic(topic, text="✏️ The customer edited this message:\nClaim 78"))[0]
    assert note["reply_to_message"]["message_id"] == copy["message_id"]


async def test_internal_notes_stay_in_the_topic(scene: Scene) -> None:
    user = scene.fake.add_user("Noted")
    await scene.customer_says(user, text="hello")
    topic = await scene.topic_of(user)
    await scene.operator_says(topic, text="! check his claim history first")
    await scene.operator_says(topic, text="Hello! How can I help?")
    got = await scene.in_chat(user, text="Hello! How can I help?")
    assert all(
        "check his claim" not in (m.get("text") or "") for m in scene.fake.sent_by_bot(user["id"])
    )
    assert got


async def test_an_operator_edit_telegram_cannot_apply_is_sent_as_a_correction(scene: Scene) -> None:
    user = scene.fake.add_user("Corrected", language_code="en")
    await scene.customer_says(user, text="What is the franchise?")
    topic = await scene.topic_of(user)
    sent = await scene.operator_says(topic, text="It is 500 UAH")
    delivered = (await scene.in_chat(user, text="It is 500 UAH"))[0]
    await scene.settled()  # the card, redrawn to show who answered first owns it, is edited too
    scene.fake.fail("editMessageText", 400, "Bad Request: message can't be edited")
    await scene.deliver(
        scene.fake.edit_message(scene.group, sent["message_id"], text="It is 1000 UAH")
    )
    correction = (await scene.in_chat(user, text="✏️ Correction: It is 1000 UAH"))[0]
    assert correction["reply_to_message"]["message_id"] == delivered["message_id"]
