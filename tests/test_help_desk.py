"""End to end on both platforms: the FAQ help section, matching suggestions, operator /faq and
/wait, offline replies and acknowledgements with an injected clock, languages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.faq.catalog import FaqCatalog
from bridge.texts import Texts
from tests.buttons import action_of, pick, sealed, telegram_data, viber_bodies
from tests.harness import JSON
from tests.viber_harness import ViberScene, viber_bridge

KYIV = ZoneInfo("Europe/Kyiv")
TEXTS = Texts.shipped("uk")
CATALOG = FaqCatalog.shipped()
FIRST = CATALOG.categories[0]
ENTRY = FIRST.entries[0]
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=KYIV)


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("help")) / "bridge.db"
    async with viber_bridge(db, working_hours="mon-fri 08:00-18:00") as scene:
        scene.clock.set(TUESDAY_NOON)
        yield scene


def buttons(message: JSON) -> list[tuple[str, str]]:
    """(label, callback data or url) of a Telegram message's inline keyboard."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data") or b.get("url", "")) for row in rows for b in row]


async def press(
    scene: ViberScene, user: JSON, message: JSON, action: str, value: str | None = None
) -> JSON:
    """Press the customer button that means `action` on a Telegram message (or send `value`
    as its data); returns the message as it is once the bot has shown what the button leads
    to (edited in place)."""
    fake = scene.fake
    data = value if value is not None else pick(telegram_data(message), action)
    before = len(fake.calls)
    await scene.deliver(fake.callback_query(user, message, data))
    await fake.wait_for(
        lambda: any(
            call.performed
            and call.params.get("chat_id") == user["id"]
            and call.method in ("editMessageText", "sendMessage")
            for call in fake.calls[before:]
        )
    )
    return fake.message(user["id"], message["message_id"])


async def test_telegram_faq_navigation_back_and_stale_buttons(scene: ViberScene) -> None:
    user = scene.fake.add_user("Browser", language_code="uk")
    await scene.customer_says(
        user, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    menu = (await scene.in_chat(user, text=TEXTS.get("greeting", "uk")))[0]
    labels = [label for label, _ in buttons(menu)]
    assert labels[: len(CATALOG.categories)] == [c.title.uk for c in CATALOG.categories]
    assert TEXTS.get("operator_button", "uk") in labels

    shown = await press(scene, user, menu, f"c:{FIRST.id}")
    assert shown["text"] == TEXTS.get("category_prompt", "uk", category=FIRST.title.uk)
    assert [label for label, _ in buttons(shown)][:-1] == [e.question.uk for e in FIRST.entries]

    shown = await press(scene, user, shown, f"q:{FIRST.id}:{ENTRY.id}")
    assert ENTRY.answer.uk in shown["text"]
    assert f"y:{FIRST.id}:{ENTRY.id}" in [action_of(data) for data in telegram_data(shown)]
    if ENTRY.link:
        assert ENTRY.link.url in [data for _, data in buttons(shown)]

    shown = await press(scene, user, shown, f"c:{FIRST.id}")  # Back
    assert shown["text"].startswith(FIRST.title.uk)
    stale = sealed("telegram", user["id"], "q:gone:entry", "h:")  # shown before the FAQ changed
    shown = await press(scene, user, shown, "", stale)
    assert shown["text"] == TEXTS.get("menu_outdated", "uk")
    assert not any("Browser" in t.name for t in scene.fake.topics.values())  # nothing relayed


async def test_talk_to_an_operator_opens_a_conversation(scene: ViberScene) -> None:
    user = scene.fake.add_user("Asker", language_code="en")
    await scene.customer_says(
        user, text="/help", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )
    menu = (await scene.in_chat(user, text=TEXTS.get("menu_title", "en")))[0]
    shown = await press(scene, user, menu, "op")
    assert shown["text"] == TEXTS.get("ask_prompt", "en")
    topic = await scene.topic_of(user)
    await scene.shows(topic, "💬 The customer asked to talk to an operator.")


@pytest.mark.parametrize("language", ["uk", "en"])
async def test_a_close_match_offers_the_answer_and_still_relays(
    scene: ViberScene, language: str
) -> None:
    user = scene.fake.add_user(f"Matcher {language}", language_code=language)
    question = ENTRY.question.get(language).rstrip("?").lower()
    await scene.customer_says(user, text=question)
    topic = await scene.topic_of(user)
    await scene.shows(topic, question)  # relayed as usual
    offer = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(user["id"])
            if ENTRY.answer.get(language) in m.get("text", "")
        ]
    )
    assert offer[0]["text"].startswith(TEXTS.get("suggestion_intro", language))
    note = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group, topic)
            if "Offered the FAQ" in m.get("text", "")
        ]
    )
    assert ENTRY.question.uk in note[0]["text"]
    await press(scene, user, offer[0], f"y:{FIRST.id}:{ENTRY.id}")
    await scene.in_topic(topic, text="👍 The customer said the FAQ answer helped.")


async def test_unrelated_text_offers_nothing(scene: ViberScene) -> None:
    user = scene.fake.add_user("Chatty")
    await scene.customer_says(user, text="Добрий день")
    topic = await scene.topic_of(user)
    await scene.shows(topic, "Добрий день")
    await scene.in_chat(user, text=...)  # the acknowledgement
    assert not any(
        TEXTS.get("suggestion_intro", "uk") in m.get("text", "")
        for m in scene.fake.sent_by_bot(user["id"])
    )


async def test_operator_faq_sends_the_answer_in_the_customers_language(scene: ViberScene) -> None:
    user = scene.fake.add_user("English Customer", language_code="en")
    await scene.customer_says(user, text="hello")
    topic = await scene.topic_of(user)
    command = await scene.operator_says(
        topic, text="/faq", entities=[{"type": "bot_command", "offset": 0, "length": 4}]
    )
    menu = (await scene.in_topic(topic, text="📚 Pick an FAQ answer to send:"))[0]
    assert menu["reply_to_message"]["message_id"] == command["message_id"]
    await scene.deliver(scene.fake.callback_query(scene.operator, menu, f"faqop:c:{FIRST.id}"))
    await scene.fake.wait_for(
        lambda: (
            buttons(scene.fake.message(scene.group, menu["message_id"]))[0][1]
            == f"faqop:q:{FIRST.id}:{ENTRY.id}"
        )
    )
    menu = scene.fake.message(scene.group, menu["message_id"])
    await scene.deliver(
        scene.fake.callback_query(scene.operator, menu, f"faqop:q:{FIRST.id}:{ENTRY.id}")
    )
    sent = await scene.fake.wait_for(
        lambda: [
            m for m in scene.fake.sent_by_bot(user["id"]) if ENTRY.answer.en in m.get("text", "")
        ]
    )
    assert ENTRY.question.en in sent[0]["text"]
    await scene.in_topic(topic, text=f"📚 FAQ answer «{ENTRY.question.uk}» sent by Iryna Operator.")
    await scene.fake.wait_for(lambda: scene.fake.topics[topic].name.startswith("🟢"))


async def test_wait_command_and_in_progress_button(scene: ViberScene) -> None:
    user = scene.fake.add_user("Patient", language_code="uk")
    await scene.customer_says(user, text="Коли буде виплата?")
    topic = await scene.topic_of(user)
    await scene.operator_says(
        topic, text="/wait", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )
    await scene.in_chat(user, text=TEXTS.get("in_progress_default", "uk"))
    await scene.operator_says(
        topic, text="/wait 15", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )
    await scene.in_chat(user, text=TEXTS.get("in_progress_minutes", "uk", minutes=15))
    await scene.in_topic(
        topic, text="⏳ Iryna Operator told the customer their question is in progress (~15 min)."
    )
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    assert ("⏳ In progress", "card:wait") in buttons(card)
    await scene.deliver(scene.fake.callback_query(scene.operator, card, "card:wait"))
    await scene.in_chat(user, count=2, text=TEXTS.get("in_progress_default", "uk"))


async def test_language_is_detected_and_can_be_switched(scene: ViberScene) -> None:
    russian = scene.fake.add_user("Fallback", language_code="ru")
    await scene.customer_says(
        russian, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    await scene.in_chat(russian, text=TEXTS.get("greeting", "uk"))  # DEFAULT_LANGUAGE

    user = scene.fake.add_user("Switcher", language_code="uk")
    await scene.customer_says(
        user, text="/language", entities=[{"type": "bot_command", "offset": 0, "length": 9}]
    )
    choice = (await scene.in_chat(user, text=TEXTS.get("language_choose", "uk")))[0]
    shown = await press(scene, user, choice, "lang:en")
    assert shown["text"] == TEXTS.get("language_set", "en")
    await scene.customer_says(user, text="a question")
    topic = await scene.topic_of(user)
    await scene.operator_says(
        topic, text="/close", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    closing = f"{TEXTS.get('closed', 'en')}\n\n{TEXTS.get('rate_prompt', 'en')}"
    await scene.in_chat(user, text=closing)  # the choice sticks


async def test_offline_reply_once_then_acknowledgement_in_hours(scene: ViberScene) -> None:
    user = scene.fake.add_user("Night Owl", language_code="uk")
    scene.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=KYIV))  # Saturday night
    try:
        await scene.customer_says(user, text="Терміново, ДТП")
        topic = await scene.topic_of(user)
        when = TEXTS.get("when_weekday", "uk", weekday=TEXTS.get("weekday_0", "uk"), time="08:00")
        offline = TEXTS.get("offline", "uk", when=when, zone=TEXTS.get("zone_label", "uk"))
        await scene.in_chat(user, text=offline)
        assert "🌙" in scene.fake.topics[topic].name
        await scene.customer_says(user, text="Ви тут?")
        await scene.shows(topic, "Ви тут?")
        assert len([m for m in scene.fake.sent_by_bot(user["id"]) if m["text"] == offline]) == 1
    finally:
        scene.clock.set(TUESDAY_NOON)
    other = scene.fake.add_user("Day Person", language_code="en")
    await scene.customer_says(other, text="hello there")
    await scene.in_chat(other, text=...)
    assert scene.fake.sent_by_bot(other["id"])[0]["text"].startswith(
        "Thank you! Your question is in progress"
    )


async def test_viber_welcome_menu_navigation_and_offline(scene: ViberScene) -> None:
    viber = scene.viber
    user = viber.add_user("Viber Browser", language="en")
    status, body = await viber.send_callback(viber.conversation_started(user))
    assert status == 200
    welcome = viber_bodies(json.loads(body)["keyboard"])
    assert f"c:{FIRST.id}" in [action_of(v) for v in welcome]
    assert "op" in [action_of(v) for v in welcome]

    await scene.customer_sends(user, viber.text(pick(welcome, f"c:{FIRST.id}")))
    category = (
        await scene.received(user, text=TEXTS.get("category_prompt", "en", category=FIRST.title.en))
    )[0]
    asked = viber_bodies(category["keyboard"])
    await scene.customer_sends(user, viber.text(pick(asked, f"q:{FIRST.id}:{ENTRY.id}")))
    answer = await scene.viber.wait_for(
        lambda: [m for m in viber.received(user["id"]) if ENTRY.answer.en in m.get("text", "")]
    )
    follow = viber_bodies(answer[0]["keyboard"])
    assert f"y:{FIRST.id}:{ENTRY.id}" in [action_of(v) for v in follow]
    assert not any(
        "Viber Browser" in t.name for t in scene.fake.topics.values()
    )  # browsing is not relayed

    stale = sealed("viber", user["id"], "q:gone:entry", "bridge:")  # shown before a change
    await scene.customer_sends(user, viber.text(stale))
    menu = (await scene.received(user, text=TEXTS.get("menu_outdated", "en")))[0]

    await scene.customer_sends(user, viber.text(pick(viber_bodies(menu["keyboard"]), "op")))
    await scene.received(user, text=TEXTS.get("ask_prompt", "en"))
    topic = await scene.viber_topic(user)
    await scene.shows(topic, "💬 The customer asked to talk to an operator.")

    await scene.customer_sends(user, viber.text(ENTRY.question.en))
    offer = await scene.viber.wait_for(
        lambda: [
            m
            for m in viber.received(user["id"])
            if m.get("text", "").startswith(TEXTS.get("suggestion_intro", "en"))
        ]
    )
    assert ENTRY.answer.en in offer[0]["text"]
    await scene.shows(topic, ENTRY.question.en)  # and relayed

    scene.clock.set(datetime(2026, 11, 27, 18, 30, tzinfo=KYIV))  # Friday evening
    try:
        await scene.customer_sends(user, viber.text("one more thing"))
        when = TEXTS.get("when_weekday", "en", weekday="on Monday", time="08:00")
        await scene.received(
            user, text=TEXTS.get("offline", "en", when=when, zone=TEXTS.get("zone_label", "en"))
        )
    finally:
        scene.clock.set(TUESDAY_NOON)


async def test_faq_reloads_on_request(scene: ViberScene, tmp_path: Path) -> None:
    faq = scene.app.faq
    assert faq is not None
    custom = tmp_path / "faq.yaml"
    custom.write_text(
        "categories:\n"
        "  - id: only\n"
        '    title: {uk: "Єдина", en: "Only"}\n'
        "    questions:\n"
        "      - id: one\n"
        '        question: {uk: "Питання?", en: "Question?"}\n'
        '        answer: {uk: "Відповідь.", en: "Answer."}\n',
        encoding="utf-8",
    )
    original = faq.path
    faq.path = custom
    try:
        scene.app.reload()
        assert [c.id for c in faq.catalog.categories] == ["only"]
        custom.write_text("categories: [broken", encoding="utf-8")
        scene.app.reload()  # a broken file keeps the previous catalogue
        assert [c.id for c in faq.catalog.categories] == ["only"]
    finally:
        faq.path = original
        scene.app.reload()
    assert len(faq.catalog.categories) == len(CATALOG.categories)
