"""End to end: Telegram Business. Customers write to the company's own Telegram account (the
bot connected to it), operators answer in topics, and the answers go from the account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge.texts import Texts
from standins.telegram import FakeTelegram
from tests.harness import JSON, TOKEN, Scene, running_bridge

TEXTS = Texts.load(None, "uk")
CLOSE = {"text": "/close", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}


class BusinessScene(Scene):
    """A running bridge and a business account (Olena's) with the bot connected."""

    connection: str

    async def connect(self, **rights: Any) -> str:
        connection, update = self.fake.connect_business(**rights)
        await self.deliver(update)
        return connection

    async def writes(self, user: JSON, connection: str | None = None, **content: Any) -> JSON:
        update = self.fake.business_message(connection or self.connection, user, **content)
        return await self.deliver(update)

    def chat(self, user: JSON, connection: str | None = None) -> list[JSON]:
        return self.fake.business_chat(connection or self.connection, user["id"])

    async def received(self, user: JSON, text: str, connection: str | None = None) -> JSON:
        """Wait until the customer's chat with the account shows the bot's message `text`."""

        def found() -> JSON | None:
            for message in self.chat(user, connection):
                if message.get("sender_business_bot") and message.get("text") == text:
                    return message
            return None

        return await self.fake.wait_for(found)  # type: ignore[no-any-return]

    def general(self, words: str) -> list[JSON]:
        return [
            m
            for m in self.fake.sent_by_bot(self.group)
            if "message_thread_id" not in m and words in m.get("text", "")
        ]

    async def in_general(self, words: str, count: int = 1) -> list[JSON]:
        return await self.fake.wait_for(  # type: ignore[no-any-return]
            lambda: self.general(words) if len(self.general(words)) >= count else None
        )

    async def held_note(self, topic: int, under: JSON) -> JSON:
        def found() -> JSON | None:
            for message in self.fake.sent_by_bot(self.group, topic):
                reply = message.get("reply_to_message", {}).get("message_id")
                if "Not sent yet" in message.get("text", "") and reply == under["message_id"]:
                    return message
            return None

        return await self.fake.wait_for(found)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BusinessScene]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    folder = Path(tmp_path_factory.mktemp("business"))
    async with running_bridge(fake, folder / "bridge.db", webhook=True) as app:
        scene = BusinessScene(fake, app, "webhook")
        scene.connection = await scene.connect()
        yield scene
    await fake.stop()


async def test_a_customer_of_the_account_gets_a_topic_and_answers_from_the_account(
    scene: BusinessScene,
) -> None:
    fake = scene.fake
    await scene.in_general("Olena (@insure_ua) is connected")
    user = fake.add_user("Taras Bondar", language_code="uk", username="taras_b")
    asked = await scene.writes(user, text="Чи покриває поліс скло?")
    topic = await scene.topic_of(user)
    card = await scene.shows(topic, "Чи покриває поліс скло?")
    assert "Platform: Telegram Business" in card["text"]
    assert "💼 Wrote to: Olena (@insure_ua)" in card["text"]
    assert "Telegram Business" in fake.topics[topic].name

    await scene.operator_says(topic, text="Так, скло покрите.")
    answer = await scene.received(user, "Так, скло покрите.")
    assert answer["business_connection_id"] == scene.connection
    assert answer["from"]["username"] == "insure_ua"  # from the account, not from the bot
    assert answer["sender_business_bot"]["id"] == fake.bot_id
    await fake.wait_for(lambda: fake.business_read(scene.connection, user["id"]) is not None)
    assert fake.business_read(scene.connection, user["id"]) == asked["message_id"]
    # nothing from the bot in its own chat with the customer, and no auto-replies by default
    assert fake.sent_by_bot(user["id"]) == []
    await scene.settled()
    mine = [m for m in scene.chat(user) if m.get("sender_business_bot")]
    assert [m["text"] for m in mine] == ["Так, скло покрите."]
    # nothing of a business chat is copied (the bot is not in it): rebuilt by file id instead
    assert not [c for c in fake.calls_to("copyMessage") if c.get("from_chat_id") == user["id"]]


async def test_every_kind_of_message_reaches_the_topic_and_back(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Kinds Customer", language_code="en")
    await scene.writes(user, text="I will send you everything")
    topic = await scene.topic_of(user)
    await scene.writes(user, photo=fake.photo(), caption="the scratch")
    await scene.writes(user, document=fake.document("claim.pdf"))
    await scene.writes(user, voice=fake.voice())
    await scene.writes(user, sticker=fake.sticker())
    await scene.writes(user, location={"latitude": 50.45, "longitude": 30.52})
    await scene.writes(user, contact={"phone_number": "+380501112233", "first_name": "Taras"})
    await scene.writes(user, photo=fake.photo(b"one"), media_group_id="alb-1")
    await scene.writes(user, photo=fake.photo(b"two"), media_group_id="alb-1")

    def shown(key: str) -> list[JSON]:
        return [m for m in fake.sent_by_bot(scene.group, topic) if key in m]

    for key in ("photo", "document", "voice", "sticker", "location", "contact"):
        await fake.wait_for(lambda key=key: shown(key) or None)
    assert any(m.get("caption") == "the scratch" for m in shown("photo"))
    albums = await fake.wait_for(
        lambda: [m for m in shown("photo") if m.get("media_group_id")] or None
    )
    assert len({m["media_group_id"] for m in albums}) == 1
    await fake.wait_for(lambda: len([m for m in shown("photo") if m.get("media_group_id")]) == 2)

    await scene.operator_says(topic, photo=fake.photo(b"answer"), caption="our form")
    await scene.operator_says(topic, document=fake.document("form.pdf"))

    def answered(key: str) -> JSON | None:
        return next(
            (m for m in scene.chat(user) if m.get("sender_business_bot") and key in m), None
        )

    photo = await fake.wait_for(lambda: answered("photo"))
    assert photo["caption"] == "our form"
    document = await fake.wait_for(lambda: answered("document"))
    assert document["document"]["file_name"] == "form.pdf"


async def test_edits_both_ways_and_a_deletion(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Editing Customer", language_code="en")
    await scene.writes(user, text="first words here")
    topic = await scene.topic_of(user)
    second = await scene.writes(user, text="my plate is AA1234")
    copy = await scene.shows(topic, "my plate is AA1234")
    await scene.deliver(
        fake.business_edit(scene.connection, user, second["message_id"], text="my plate is AA4321")
    )
    await fake.wait_for(
        lambda: fake.message(scene.group, copy["message_id"]).get("text") == "my plate is AA4321"
    )

    said = await scene.operator_says(topic, text="Thank you, checking AA4321")
    sent = await scene.received(user, "Thank you, checking AA4321")
    await scene.deliver(
        fake.edit_message(scene.group, said["message_id"], text="Thank you, checking AA 4321")
    )
    await fake.wait_for(
        lambda: any(
            m["message_id"] == sent["message_id"] and m.get("text") == "Thank you, checking AA 4321"
            for m in scene.chat(user)
        )
    )

    await scene.deliver(fake.business_delete(scene.connection, user, [second["message_id"]]))
    note = (await scene.in_topic(topic, text="🗑 The customer deleted this message."))[0]
    assert note["reply_to_message"]["message_id"] == copy["message_id"]


async def test_the_owners_own_message_is_shown_as_theirs_and_never_sent_twice(
    scene: BusinessScene,
) -> None:
    fake = scene.fake
    user = fake.add_user("Owner Answered", language_code="en")
    await scene.writes(user, text="is anyone there today?")
    topic = await scene.topic_of(user)
    await scene.deliver(fake.owner_message(scene.connection, user, text="Yes, I am, Olena here"))
    shown = await scene.shows(topic, "Yes, I am, Olena here")
    assert shown["text"].startswith("💼 Olena answered from the company's account:")
    await scene.settled()
    assert [m.get("text") for m in scene.chat(user)].count("Yes, I am, Olena here") == 1
    assert not [m for m in scene.chat(user) if m.get("sender_business_bot")]
    assert "🟢" in fake.topics[topic].name  # it answered the customer


async def test_closing_and_rating_in_the_business_chat(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Rating Customer", language_code="en")
    await scene.writes(user, text="thanks, all clear now")
    topic = await scene.topic_of(user)
    await scene.operator_says(topic, **CLOSE)
    closing = f"{TEXTS.get('closed', 'en')}\n\n{TEXTS.get('rate_prompt', 'en')}"
    prompt = await scene.received(user, closing)
    five = prompt["reply_markup"]["inline_keyboard"][0][-1]
    press = fake.business_press(scene.connection, user, prompt["message_id"], five["callback_data"])
    await scene.deliver(press)
    await scene.in_topic(topic, text="⭐⭐⭐⭐⭐ The customer rated the conversation 5/5.")


async def test_the_connection_turned_off_and_on_again(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Waiting Customer", language_code="en")
    await scene.writes(user, text="please call me back")
    topic = await scene.topic_of(user)
    await scene.deliver(fake.change_business(scene.connection, enabled=False))
    await scene.in_general("the bot is off for Olena (@insure_ua)")

    said = await scene.operator_says(topic, text="We will call at five")
    note = await scene.held_note(topic, said)
    assert "turned the bot off" in note["text"]
    assert len(scene.general("refuses operators' messages")) <= 1
    await scene.settled()
    assert not [m for m in scene.chat(user) if m.get("sender_business_bot")]

    await scene.deliver(fake.change_business(scene.connection, enabled=True))
    await scene.in_general("Olena (@insure_ua) works again")
    button = note["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "📨 Send again"
    await scene.deliver(fake.callback_query(scene.operator, note, button["callback_data"]))
    await scene.received(user, "We will call at five")


async def test_missing_rights_are_told_once_in_general(scene: BusinessScene) -> None:
    fake = scene.fake
    owner = fake.add_user("Mykola", username="mykola_shop")
    connection = await scene.connect(owner=owner, can_reply=False, can_read=False)
    await scene.in_general("the bot is connected to Mykola (@mykola_shop) but may not reply")
    await scene.deliver(fake.change_business(connection, can_reply=False))  # the same again
    await scene.deliver(fake.change_business(connection, can_reply=True))
    told = await scene.in_general("Mykola (@mykola_shop) works again")
    assert "allow it to read messages" in told[0]["text"]
    await scene.settled()
    assert len(scene.general("Mykola (@mykola_shop) but may not reply")) == 1

    user = fake.add_user("Shop Customer", language_code="en")
    await scene.writes(user, connection, text="do you have size 42?")
    topic = await scene.topic_of(user)
    await scene.operator_says(topic, text="Yes, size 42 is in stock")
    await scene.received(user, "Yes, size 42 is in stock", connection)
    await scene.settled()
    assert fake.business_read(connection, user["id"]) is None  # not allowed to read: not tried
    assert not fake.calls_to("readBusinessMessage") or all(
        c["business_connection_id"] != connection for c in fake.calls_to("readBusinessMessage")
    )


async def test_an_answer_after_the_24_hours_waits_for_the_customer(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Quiet Customer", language_code="en")
    await scene.writes(user, text="question about my claim")
    topic = await scene.topic_of(user)
    await scene.settled()
    told = len(scene.general("Telegram Business refuses"))
    fake.advance_clock(25 * 3600)
    said = await scene.operator_says(topic, text="Your claim is approved")
    note = await scene.held_note(topic, said)
    assert "only within 24 hours of the customer's last message" in note["text"]
    assert "after the customer writes again" in note["text"]
    assert len(scene.general("Telegram Business refuses")) == told  # not the account's fault

    await scene.writes(user, text="hello again?")
    button = note["reply_markup"]["inline_keyboard"][0][0]
    await scene.deliver(fake.callback_query(scene.operator, note, button["callback_data"]))
    await scene.received(user, "Your claim is approved")


async def test_stats_show_the_channel(scene: BusinessScene) -> None:
    fake = scene.fake
    bot_customer = fake.add_user("Bot Customer", language_code="en")
    await scene.customer_says(bot_customer, text="a question for the bot")
    await scene.topic_of(bot_customer)
    await scene.settled()
    stats = {"text": "/stats", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
    await scene.deliver(fake.operator_message(scene.operator, None, **stats))

    def report() -> JSON | None:
        return next(
            (m for m in fake.sent_by_bot(scene.group) if "Channel" in m.get("text", "")), None
        )

    text = (await fake.wait_for(report))["text"]
    rows = {line.split("  ")[0].strip() for line in text.splitlines()}
    assert {"Telegram Business", "Telegram"} <= rows  # a row per channel, each named


async def test_a_restart_keeps_the_connection_and_its_customers(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    try:
        db = tmp_path / "restart.db"
        async with running_bridge(fake, db, webhook=True) as app:
            scene = BusinessScene(fake, app, "webhook")
            scene.connection = await scene.connect()
            await scene.in_general("is connected")
            user = fake.add_user("Before Restart", language_code="en")
            await scene.writes(user, text="my first message")
            topic = await scene.topic_of(user)
            await scene.settled()
        async with running_bridge(fake, db, webhook=True) as app:
            scene = BusinessScene(fake, app, "webhook")
            scene.connection = fake_connection = next(iter(fake.business_connections))
            await scene.writes(user, text="after the restart")
            await scene.shows(topic, "after the restart")  # the same topic
            newcomer = fake.add_user("After Restart", language_code="en")
            await scene.writes(user=newcomer, text="new here")
            card = await scene.shows(await scene.topic_of(newcomer), "new here")
            assert "💼 Wrote to: Olena (@insure_ua)" in card["text"]  # remembered
            await scene.deliver(fake.change_business(fake_connection))  # nothing changed
            await scene.operator_says(topic, text="Answer after restart")
            await scene.received(user, "Answer after restart")
            await scene.settled()
            assert len(scene.general("is connected")) == 1
    finally:
        await fake.stop()


async def test_auto_replies_for_business_customers_when_asked(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    try:
        async with running_bridge(
            fake, tmp_path / "auto.db", webhook=False, business_auto_replies=True
        ) as app:
            scene = BusinessScene(fake, app, "polling")
            scene.connection = await scene.connect()
            user = fake.add_user("Auto Customer", language_code="en")
            await scene.writes(user, text="hello, anyone?")

            def acknowledged() -> JSON | None:
                return next(
                    (
                        m
                        for m in scene.chat(user)
                        if m.get("sender_business_bot")
                        and m.get("text", "").startswith("Thank you! Your question is in progress")
                    ),
                    None,
                )

            await fake.wait_for(acknowledged)
    finally:
        await fake.stop()


async def test_replies_carry_over_both_ways(scene: BusinessScene) -> None:
    fake = scene.fake
    user = fake.add_user("Replying Customer", language_code="en")
    asked = await scene.writes(user, text="which documents do you need?")
    topic = await scene.topic_of(user)
    copy = await scene.shows(topic, "which documents do you need?")
    await scene.operator_says(topic, text="Your passport, please", reply_to=copy["message_id"])
    answer = await scene.received(user, "Your passport, please")
    assert answer["reply_to_message"]["message_id"] == asked["message_id"]

    await scene.writes(user, text="and a copy of the policy?", reply_to=answer["message_id"])
    quoted = await scene.shows(topic, "and a copy of the policy?")
    operator_message = next(
        m
        for m in fake.topic_messages(topic)
        if m.get("text") == "Your passport, please" and m["from"]["id"] == scene.operator["id"]
    )
    assert quoted["reply_to_message"]["message_id"] == operator_message["message_id"]
