"""End to end: Viber customers through the real app, the fake Viber REST API and fake Telegram."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bridge.texts import Texts
from tests.buttons import action_of
from tests.harness import JSON
from tests.viber_harness import ViberScene, viber_bridge

TEXTS = Texts.shipped("uk")
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-from-viber" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("viber")) / "bridge.db"
    async with viber_bridge(db, viber_bot_name="Insurance Support") as scene:
        yield scene


async def test_webhook_is_registered_after_its_callback_was_answered(scene: ViberScene) -> None:
    assert scene.viber.webhook_url == f"{scene.base_url}/viber/webhook"
    assert {"delivered", "seen", "failed", "subscribed", "unsubscribed"} <= set(
        scene.viber.event_types
    )
    assert scene.viber.callbacks[0].event == {
        **(scene.viber.callbacks[0].event or {}),
        "event": "webhook",
    }
    assert scene.viber.callbacks[0].status == 200


async def test_conversation_started_gets_the_welcome_with_keyboard(scene: ViberScene) -> None:
    user = scene.viber.add_user("Welcome Guest", language="en", subscribed=False)
    status, body = await scene.viber.send_callback(scene.viber.conversation_started(user))
    assert status == 200
    welcome = json.loads(body)
    assert welcome["text"] == TEXTS.get("greeting", "en")
    assert welcome["sender"]["name"] == "Insurance Support"
    actions = [button["ActionBody"] for button in welcome["keyboard"]["Buttons"]]
    assert "op" in [action_of(a) for a in actions]
    assert scene.viber.welcome_errors == []


async def test_first_message_makes_a_topic_with_a_viber_card(scene: ViberScene) -> None:
    user = scene.viber.add_user(
        "Mykola Viber", language="uk", country="UA", avatar="https://cdn.viber.example/a.jpg"
    )
    await scene.customer_sends(user, scene.viber.text("Добрий день! Питання щодо КАСКО"))
    topic = await scene.viber_topic(user)
    (card,) = await scene.in_topic(topic, count=1)  # the card above the words, one post
    for expected in (
        "Mykola Viber",
        f"Platform: Viber (id {user['id']})",  # what forget-customer and export-customer need
        "Country: UA",
        "Language: uk",
        "API version: 10",
    ):
        assert expected in card["text"], card["text"]
    assert 'href="https://cdn.viber.example/a.jpg"' in card["html"]
    assert card["text"].endswith("\n\nДобрий день! Питання щодо КАСКО")
    assert scene.fake.topics[topic].name == "🆕 Mykola Viber · Viber"


async def test_customer_content_reaches_the_topic(scene: ViberScene) -> None:
    user = scene.viber.add_user("Content Sender")
    viber = scene.viber
    photo_url = viber.host_media(JPEG, "image/jpeg", "damage.jpg")
    doc_url = viber.host_media(b"%PDF-1.4 claim form", "application/pdf", "claim.pdf")
    video_url = viber.host_media(b"fake-mp4-bytes", "video/mp4", "clip.mp4")
    sticker_url = viber.host_media(b"\x89PNG\r\n\x1a\nsticker", "image/png", "sticker.png")
    await scene.customer_sends(user, viber.picture(photo_url, text="the scratch"))
    topic = await scene.viber_topic(user)
    photo = (await scene.in_topic(topic, photo=...))[0]
    assert photo["caption"] == "the scratch"
    assert scene.fake.file_data(photo["photo"][-1]["file_id"]) == JPEG  # uploaded, not a URL

    await scene.customer_sends(user, viber.file(doc_url, "claim.pdf", 19))
    document = (await scene.in_topic(topic, document=...))[0]
    assert document["document"]["file_name"] == "claim.pdf"
    await scene.customer_sends(user, viber.video(video_url))
    await scene.in_topic(topic, video=...)
    await scene.customer_sends(user, viber.sticker(40133, media=sticker_url))
    await scene.in_topic(topic, count=2, photo=...)
    await scene.customer_sends(user, viber.location(50.4501, 30.5234))
    location = (await scene.in_topic(topic, location=...))[0]
    assert round(location["location"]["latitude"], 3) == 50.450
    await scene.customer_sends(user, viber.contact("Olha", "+380671112233"))
    contact = (await scene.in_topic(topic, contact=...))[0]
    assert contact["contact"]["phone_number"] == "+380671112233"
    await scene.customer_sends(user, viber.url_message("https://insurer.example/policy/1"))
    await scene.in_topic(topic, text="https://insurer.example/policy/1")


async def test_long_viber_texts_and_captions_are_split_for_telegram(scene: ViberScene) -> None:
    user = scene.viber.add_user("Long Writer")
    sentence = "Я хочу детально описати, що сталося з моїм автомобілем на парковці. "
    long_text = sentence * 90  # about 6,000 characters: more than one Telegram message
    await scene.customer_sends(user, scene.viber.text(long_text))
    topic = await scene.viber_topic(user)
    parts = await scene.in_topic(topic, count=3, text=...)  # the card, then two parts
    pieces = [m["text"] for m in parts if m["text"].startswith("Я хочу")]
    assert all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces).split() == long_text.split()

    caption = "Фото пошкоджень з різних боків. " * 50  # longer than a 1,024-character caption
    url = scene.viber.host_media(b"\xff\xd8\xff\xe0long-caption", "image/jpeg", "dents.jpg")
    await scene.customer_sends(user, scene.viber.picture(url, text=caption))
    photo = (await scene.in_topic(topic, photo=...))[0]
    assert "caption" not in photo
    follow = await scene.in_topic(topic, text=caption.strip())
    assert follow[0]["reply_to_message"]["message_id"] == photo["message_id"]


async def test_a_file_too_large_for_telegram_becomes_a_link(scene: ViberScene) -> None:
    user = scene.viber.add_user("Big File")
    url = scene.viber.host_media(b"tiny", "video/mp4", "huge.mp4")
    await scene.customer_sends(user, scene.viber.file(url, "huge.mp4", 80 * 1024 * 1024))
    topic = await scene.viber_topic(user)
    note = (await scene.in_topic(topic, count=2, text=...))[-1]
    assert "too large for Telegram" in note["text"]
    assert url in note["html"]


async def test_operator_content_reaches_the_viber_customer(scene: ViberScene) -> None:
    user = scene.viber.add_user("Receiver")
    await scene.customer_sends(user, scene.viber.text("show me"))
    topic = await scene.viber_topic(user)
    fake = scene.fake
    bold = [{"type": "bold", "offset": 0, "length": 4}]
    await scene.operator_says(topic, text="Done, policy sent", entities=bold)
    text = (await scene.received(user, text="*Done*, policy sent"))[0]
    assert text["keyboard"]["Buttons"]  # the menu stays under every message
    assert text["sender"]["name"] == "Insurance Support"

    photo_bytes = b"\xff\xd8\xff\xe0operator-photo"
    await scene.operator_says(topic, photo=fake.photo(photo_bytes), caption="your card")
    picture = (await scene.received(user, type="picture"))[0]
    assert picture["media"].startswith(f"{scene.base_url}/media/")
    assert picture["text"] == "your card"
    assert picture["fetched"]["status"] == 200
    assert picture["fetched"]["data"] == photo_bytes
    assert picture["fetched"]["content_type"].startswith("image/jpeg")

    await scene.operator_says(topic, document=fake.document("policy.pdf", b"%PDF policy"))
    file = (await scene.received(user, type="file"))[0]
    assert (file["file_name"], file["fetched"]["data"]) == ("policy.pdf", b"%PDF policy")
    await scene.operator_says(topic, voice=fake.voice())
    await scene.received(user, count=2, type="file")
    await scene.operator_says(topic, video=fake.video())
    video = (await scene.received(user, type="video"))[0]
    assert video["size"] > 0

    webp = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(webp, format="WEBP")
    await scene.operator_says(topic, sticker=fake.sticker(webp.getvalue()))
    sticker = (await scene.received(user, count=2, type="picture"))[1]
    assert sticker["fetched"]["data"].startswith(b"\x89PNG")

    await scene.operator_says(topic, location={"latitude": 50.45, "longitude": 30.52})
    where = (await scene.received(user, type="location"))[0]
    assert where["location"] == {"lat": 50.45, "lon": 30.52}
    await scene.operator_says(
        topic, contact={"phone_number": "+380441234567", "first_name": "Claims desk"}
    )
    contact = (await scene.received(user, type="contact"))[0]
    assert contact["contact"]["name"] == "Claims desk"


async def test_operator_album_becomes_one_message_per_item(scene: ViberScene) -> None:
    user = scene.viber.add_user("Album Viewer")
    await scene.customer_sends(user, scene.viber.text("photos please"))
    topic = await scene.viber_topic(user)
    for index in range(3):
        await scene.operator_says(
            topic, media_group_id="ops-1", photo=scene.fake.photo(b"\xff\xd8" + bytes([index]))
        )
    pictures = await scene.received(user, count=3, type="picture")
    assert [p["fetched"]["data"][-1] for p in pictures] == [0, 1, 2]


async def test_replies_quote_long_captions_follow_and_big_texts_fit(scene: ViberScene) -> None:
    user = scene.viber.add_user("Long Reader")
    await scene.customer_sends(user, scene.viber.text("What does the policy cover?"))
    topic = await scene.viber_topic(user)
    shown = await scene.shows(topic, "What does the policy cover?")
    await scene.operator_says(topic, text="Theft and fire.", reply_to=shown["message_id"])
    await scene.received(user, text="↩️ «What does the policy cover?»\nTheft and fire.")

    caption = "Ваш поліс у вкладенні. " * 10
    await scene.operator_says(topic, photo=scene.fake.photo(), caption=caption)
    picture = (await scene.received(user, type="picture"))[0]
    assert picture["text"] == ""
    await scene.received(user, text=caption.strip())

    heavy = "🚗🔥" * 2000  # 4000 characters, 16 KB of UTF-8
    await scene.operator_says(topic, text=heavy)
    await scene.received(user, text=heavy)


async def test_receipts_mark_the_operator_message(scene: ViberScene) -> None:
    user = scene.viber.add_user("Receipts")
    await scene.customer_sends(user, scene.viber.text("hi"))
    topic = await scene.viber_topic(user)
    sent = await scene.operator_says(topic, text="Hello from support")
    delivered = (await scene.received(user, text="Hello from support"))[0]
    group = scene.group

    def reactions() -> list[str]:
        return list(scene.fake.message(group, sent["message_id"]).get("reactions") or [])

    await scene.fake.wait_for(lambda: reactions() == ["🕊"])
    token = int(delivered["message_token"])
    await scene.viber.send_callback(scene.viber.delivered(user["id"], token))
    await scene.fake.wait_for(lambda: reactions() == ["👍"])
    await scene.viber.send_callback(scene.viber.seen(user["id"], token))
    await scene.fake.wait_for(lambda: reactions() == ["👀"])
    await scene.viber.send_callback(scene.viber.failed(user["id"], token, "no suitable device"))
    note = await scene.fake.wait_for(
        lambda: next(
            (m for m in scene.fake.sent_by_bot(group, topic) if "no suitable device" in m["text"]),
            None,
        )
    )
    assert note["reply_to_message"]["message_id"] == sent["message_id"]


async def test_edits_become_corrections(scene: ViberScene) -> None:
    user = scene.viber.add_user("Corrected", language="en")
    await scene.customer_sends(user, scene.viber.text("hi"))
    topic = await scene.viber_topic(user)
    sent = await scene.operator_says(topic, text="Your franchise is 500")
    await scene.received(user, text="Your franchise is 500")
    await scene.deliver(
        scene.fake.edit_message(scene.group, sent["message_id"], text="Your franchise is 1000")
    )
    await scene.received(user, text="✏️ Correction: Your franchise is 1000")


async def test_unsubscribe_is_shown_and_replies_are_refused_at_once(scene: ViberScene) -> None:
    user = scene.viber.add_user("Leaver")
    await scene.customer_sends(user, scene.viber.text("thanks, bye"))
    topic = await scene.viber_topic(user)
    await scene.viber.send_callback(scene.viber.unsubscribed_event(user["id"]))
    await scene.fake.wait_for(
        lambda: "unsubscribed" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )
    calls_before = len(scene.viber.calls_to("send_message"))
    sent = await scene.operator_says(topic, text="One more thing")
    note = (await scene.in_topic(topic, count=1, text=...))[-1]
    await scene.fake.wait_for(
        lambda: "not subscribed" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )
    assert len(scene.viber.calls_to("send_message")) == calls_before
    assert note is not None
    assert not scene.fake.message(scene.group, sent["message_id"]).get("reactions")
    await scene.viber.send_callback(scene.viber.subscribed_event(user))
    await scene.fake.wait_for(
        lambda: "is back" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )


async def test_viber_status_codes_are_explained_or_retried(scene: ViberScene) -> None:
    user = scene.viber.add_user("Status Codes")
    await scene.customer_sends(user, scene.viber.text("hi"))
    topic = await scene.viber_topic(user)
    scene.viber.fail(12, "tooManyRequests")
    await scene.operator_says(topic, text="after a pause")
    await scene.received(user, text="after a pause")  # backed off, then delivered

    scene.viber.fail(7, "publicAccountBlocked")
    await scene.operator_says(topic, text="blocked account")
    await scene.fake.wait_for(
        lambda: "account is blocked" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )
    scene.viber.fail(5, "receiverNotRegistered")
    await scene.operator_says(topic, text="gone")
    await scene.fake.wait_for(
        lambda: "not registered on Viber" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )
    scene.viber.fail(6, "receiverNotSubscribed")
    await scene.operator_says(topic, text="lost")
    await scene.fake.wait_for(
        lambda: "not subscribed" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
    )


async def test_the_same_message_token_is_handled_once(scene: ViberScene) -> None:
    user = scene.viber.add_user("Repeater")
    event = scene.viber.message_event(user, scene.viber.text("only once"))
    assert (await scene.viber.send_callback(event))[0] == 200
    assert (await scene.viber.send_callback(event))[0] == 200
    topic = await scene.viber_topic(user)
    await scene.shows(topic, "only once")
    shown = [m for m in scene.fake.topic_messages(topic) if "only once" in m.get("text", "")]
    assert len(shown) == 1


async def test_bad_callbacks_are_refused_and_nothing_is_relayed(scene: ViberScene) -> None:
    user = scene.viber.add_user("Forger")
    event = scene.viber.message_event(user, scene.viber.text("sneaky"))
    assert (await scene.viber.send_callback(event, signature=None))[0] == 403
    assert (await scene.viber.send_callback(event, signature="00" * 32))[0] == 403
    assert (await scene.viber.send_callback(b"{not json"))[0] == 400
    assert (await scene.viber.send_callback({"event": "message", "timestamp": 1}))[0] == 400
    assert (await scene.viber.send_callback({"no": "event"}))[0] == 400
    assert (await scene.viber.send_callback({"event": "client_status", "x": 1}))[0] == 200
    assert not any("sneaky" in json.dumps(c.params) for c in scene.fake.calls)


async def test_media_endpoint_serves_only_published_unexpired_files(scene: ViberScene) -> None:
    user = scene.viber.add_user("Media Checker")
    await scene.customer_sends(user, scene.viber.text("send the form"))
    topic = await scene.viber_topic(user)
    await scene.operator_says(topic, document=scene.fake.document("form.pdf", b"%PDF form"))
    url = (await scene.received(user, type="file"))[0]["media"]

    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
            assert await response.read() == b"%PDF form"
        for wrong in (url[:-12] + "guessed1234/form.pdf", f"{scene.base_url}/media/", url + "x"):
            async with session.get(wrong) as response:
                assert response.status == 404, wrong
        scene.clock.offset = timedelta(days=2)
        try:
            async with session.get(url) as response:
                assert response.status == 404
        finally:
            scene.clock.offset = timedelta(0)


async def test_writing_after_24_hours_warns_the_operator(scene: ViberScene) -> None:
    user = scene.viber.add_user("Late Answer")
    await scene.customer_sends(user, scene.viber.text("call me tomorrow"))
    topic = await scene.viber_topic(user)
    scene.clock.offset = timedelta(hours=25)
    try:
        await scene.operator_says(topic, text="Good morning!")
        await scene.received(user, text="Good morning!")
        await scene.fake.wait_for(
            lambda: "paid" in scene.fake.sent_by_bot(scene.group, topic)[-1]["text"]
        )
    finally:
        scene.clock.offset = timedelta(0)


async def test_confirm_mode_holds_a_late_message_until_send_anyway(tmp_path: Path) -> None:
    async with viber_bridge(tmp_path / "confirm.db", viber_outside_window="confirm") as scene:
        fake, viber = scene.fake, scene.viber
        user = viber.add_user("Held Customer")
        await scene.customer_sends(user, viber.text("any news?"))
        topic = await scene.viber_topic(user)
        scene.clock.offset = timedelta(hours=30)
        await scene.operator_says(topic, text="Yes, approved")
        note = await fake.wait_for(
            lambda: [m for m in fake.sent_by_bot(scene.group, topic) if "held" in m.get("text", "")]
        )
        told = len(viber.received(user["id"]))  # the acknowledgement only
        assert all("approved" not in m.get("text", "") for m in viber.received(user["id"]))
        button = note[0]["reply_markup"]["inline_keyboard"][0][0]
        assert button["text"] == "📨 Send anyway"
        press = fake.callback_query(scene.operator, note[0], button["callback_data"])
        await scene.deliver(press)
        await scene.received(user, text="Yes, approved")
        assert (await scene.answer_to(press))["text"] == "Sending."
        await scene.deliver(fake.callback_query(scene.operator, note[0], button["callback_data"]))
        await scene.received(user, text="Yes, approved")
        assert len(viber.received(user["id"])) == told + 1  # a second press sends nothing


@pytest.mark.parametrize(("status", "problem"), [(23, "free messages"), (24, "no balance")])
async def test_an_account_problem_holds_messages_until_the_admin_solves_it(
    tmp_path: Path, status: int, problem: str
) -> None:
    """Viber 23 and 24 are the company's, not the customer's: General hears once, each
    message waits under a Send again button, and goes once the account is in order."""
    async with viber_bridge(tmp_path / f"account{status}.db") as scene:
        fake, viber = scene.fake, scene.viber
        user = viber.add_user("Patient Payer")
        await scene.customer_sends(user, viber.text("is my claim approved?"))
        topic = await scene.viber_topic(user)
        await scene.settled()
        viber.account_problem(status)
        first = await scene.operator_says(topic, text="Yes, approved")
        second = await scene.operator_says(topic, text="The payment follows")

        def held() -> list[JSON]:
            return [m for m in fake.sent_by_bot(scene.group, topic) if "Not sent yet" in m["text"]]

        notes = await fake.wait_for(lambda: held() if len(held()) == 2 else None)
        assert [n["reply_to_message"]["message_id"] for n in notes] == [
            first["message_id"],
            second["message_id"],
        ]
        assert problem in notes[0]["text"]
        general = [
            m for m in fake.sent_by_bot(scene.group) if "refuses operators' messages" in m["text"]
        ]
        assert len(general) == 1 and "message_thread_id" not in general[0]
        assert all("approved" not in m.get("text", "") for m in viber.received(user["id"]))

        viber.account_problem(None)  # the admin paid
        for note in notes:
            button = note["reply_markup"]["inline_keyboard"][0][0]
            assert button["text"] == "📨 Send again"
            await scene.deliver(fake.callback_query(scene.operator, note, button["callback_data"]))
        await scene.received(user, text="Yes, approved")
        await scene.received(user, text="The payment follows")
        texts = [m.get("text") for m in viber.received(user["id"])]
        assert texts.index("Yes, approved") < texts.index("The payment follows")
