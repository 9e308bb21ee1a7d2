"""End to end: operators' saved replies (SNIPPETS_FILE and `/save`), sent with `/s name`,
`#name` or a `/snippets` button to Telegram and Viber customers in their language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Application
from bridge.errors import ConfigError
from bridge.snippets import load_file as load_snippets
from standins.telegram import FakeTelegram
from tests.harness import JSON, TOKEN, Scene, bridge_settings, running_bridge
from tests.viber_harness import viber_bridge

SNIPPETS = """\
snippets:
  - name: docs
    text: {uk: "Надішліть, будь ласка, фото паспорта та техпаспорта, {first_name}.",
           en: "Please send a photo of your passport and the car's registration, {first_name}."}
  - name: signed
    text:
      uk: "Дякуємо, {first_name}! З вами був {operator}, {department}."
  - name: hours
    text: {en: "We work from 8 to 18, {first_name}."}
"""
DOCS_UK = "Надішліть, будь ласка, фото паспорта та техпаспорта, {}."
NOWHERE = "http://127.0.0.1:9"  # the start must stop before it asks Telegram anything
LISTED = "📎 Saved replies: press one to send it to the customer in their language."
DOCS_EN = "Please send a photo of your passport and the car's registration, {}."


def snippets_file(folder: Path, text: str = SNIPPETS) -> Path:
    path = folder / "snippets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def typed(text: str) -> dict[str, object]:
    """A command as Telegram delivers it: with its bot_command entity."""
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    folder = Path(tmp_path_factory.mktemp("snippets"))
    async with running_bridge(
        fake, folder / "bridge.db", webhook=True, snippets_file=snippets_file(folder)
    ) as app:
        yield Scene(fake, app, "webhook")
    await fake.stop()


async def new_customer(scene: Scene, name: str, language: str) -> tuple[JSON, int]:
    user = scene.fake.add_user(name, language_code=language)
    await scene.customer_says(user, text=f"Hello from {name}")
    return user, await scene.topic_of(user)


def texts_to(scene: Scene, user: JSON) -> list[str]:
    return [m.get("text", "") for m in scene.fake.sent_by_bot(user["id"])]


async def test_slash_s_sends_the_customers_language_and_the_topic_shows_it(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Olena Petrenko", "uk")
    command = await scene.operator_says(topic, **typed("/s docs"))
    await scene.in_chat(user, text=DOCS_UK.format("Olena"))
    note = (
        await scene.in_topic(
            topic, text=f"📎 Saved reply «docs» sent in uk:\n{DOCS_UK.format('Olena')}"
        )
    )[0]
    assert note["reply_to_message"]["message_id"] == command["message_id"]
    # the command carries the delivery mark, as a typed answer does
    await scene.fake.wait_for(
        lambda: scene.fake.message(scene.group, command["message_id"]).get("reactions") == ["👍"]
    )
    assert "/s docs" not in texts_to(scene, user)


async def test_hash_name_sends_english_and_falls_back_to_the_other_language(scene: Scene) -> None:
    user, topic = await new_customer(scene, "John Smith", "en")
    await scene.operator_says(topic, text="#docs")
    await scene.in_chat(user, text=DOCS_EN.format("John"))
    # only a Ukrainian text: it goes, with the operator's first name and the group's title
    await scene.operator_says(topic, text="#Signed")
    department = scene.fake.group_title
    signed = f"Дякуємо, John! З вами був Iryna, {department}."
    await scene.in_chat(user, text=signed)
    await scene.in_topic(
        topic,
        text="📎 Saved reply «signed» sent in uk (there is no text in the customer's language):\n"
        + signed,
    )


async def test_a_saved_reply_answers_the_conversation(scene: Scene) -> None:
    """First-response and SLA figures count it: the topic turns from new to answered."""
    user, topic = await new_customer(scene, "Answered Quickly", "en")
    before = scene.fake.topics[topic].name
    await scene.operator_says(topic, **typed("/s hours"))
    await scene.in_chat(user, text="We work from 8 to 18, Answered.")
    await scene.fake.wait_for(lambda: scene.fake.topics[topic].name != before)
    assert scene.fake.topics[topic].name.startswith("🟢")


async def test_an_unknown_name_offers_the_closest_and_sends_nothing(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Typo Maker", "uk")
    await scene.settled()
    told = len(scene.fake.sent_by_bot(user["id"]))
    command = await scene.operator_says(topic, **typed("/s dosc"))
    note = (
        await scene.in_topic(
            topic, text="❓ No saved reply «dosc»: did you mean docs? Nothing was sent."
        )
    )[0]
    assert note["reply_to_message"]["message_id"] == command["message_id"]
    await scene.operator_says(topic, text="#zzz")
    await scene.in_topic(
        topic, text="❓ No saved reply «zzz»: /snippets lists them. Nothing was sent."
    )
    await scene.settled()
    assert len(scene.fake.sent_by_bot(user["id"])) == told
    assert not scene.fake.message(scene.group, command["message_id"]).get("reactions")


async def test_snippets_lists_buttons_and_a_press_sends_to_the_topics_customer(
    scene: Scene,
) -> None:
    fake = scene.fake
    user, topic = await new_customer(scene, "Button Presser", "en")
    await scene.operator_says(topic, **typed("/snippets"))
    (listing,) = await scene.in_topic(topic, text=LISTED)
    rows = listing["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in rows] == [
        ["card:snip:docs"],
        ["card:snip:hours"],
        ["card:snip:signed"],
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for row in rows for b in row)
    assert rows[0][0]["text"].startswith("docs: Please send a photo")

    outsider = fake.add_user("Passer By")
    fake.set_member_status(outsider["id"], "left")
    await scene.deliver(fake.callback_query(outsider, listing, "card:snip:docs"))
    await scene.settled()
    assert DOCS_EN.format("Button") not in texts_to(scene, user)

    press = fake.callback_query(scene.operator, listing, "card:snip:docs")
    await scene.deliver(press)
    await scene.in_chat(user, text=DOCS_EN.format("Button"))
    assert (await scene.answer_to(press)).get("text") == "Sent."
    await scene.in_topic(
        topic, text=f"📎 Saved reply «docs» sent in en:\n{DOCS_EN.format('Button')}"
    )
    assert texts_to(scene, user).count(DOCS_EN.format("Button")) == 1


async def test_editing_the_command_leaves_the_sent_reply_alone(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Edit Watcher", "uk")
    command = await scene.operator_says(topic, **typed("/s docs"))
    (sent,) = await scene.in_chat(user, text=DOCS_UK.format("Edit"))
    await scene.deliver(
        scene.fake.edit_message(scene.group, command["message_id"], **typed("/s hours"))
    )
    await scene.settled()
    assert scene.fake.message(user["id"], sent["message_id"])["text"] == DOCS_UK.format("Edit")
    assert not [t for t in texts_to(scene, user) if "hours" in t or "Correction" in t]


async def test_saved_from_a_topic_overrides_the_file_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db, path = tmp_path / "bridge.db", snippets_file(tmp_path)
    try:
        async with running_bridge(fake, db, webhook=True, snippets_file=path) as app:
            scene = Scene(fake, app, "webhook")
            user, topic = await new_customer(scene, "Taras Melnyk", "en")
            typed_answer = await scene.operator_says(
                topic, text="Our office is at Khreshchatyk 1, {first_name}."
            )
            await scene.in_chat(user, text="Our office is at Khreshchatyk 1, {first_name}.")
            await scene.deliver(
                fake.operator_message(
                    scene.operator,
                    topic,
                    reply_to=typed_answer["message_id"],
                    **typed("/save office"),
                )
            )
            await scene.in_topic(
                topic, text="💾 Saved reply «office» saved in en: send it with /s office."
            )
            # saving over a file snippet replaces its English text only
            better = await scene.operator_says(topic, text="Photos of both documents, please.")
            await scene.deliver(
                fake.operator_message(
                    scene.operator, topic, reply_to=better["message_id"], **typed("/save docs")
                )
            )
            await scene.in_topic(
                topic, text="💾 Saved reply «docs» saved in en: send it with /s docs."
            )
            # not a reply to an operator's message: nothing saved, the usage is told
            await scene.customer_says(user, text="thanks")
            await scene.shows(topic, "thanks")
            copy = next(
                m for m in fake.sent_by_bot(scene.group, topic) if m.get("text") == "thanks"
            )
            rejected = await scene.deliver(
                fake.operator_message(
                    scene.operator, topic, reply_to=copy["message_id"], **typed("/save thanks")
                )
            )
            await scene.fake.wait_for(
                lambda: [
                    m
                    for m in fake.sent_by_bot(scene.group, topic)
                    if m.get("reply_to_message", {}).get("message_id") == rejected["message_id"]
                    and m["text"].startswith("Reply /save <name>")
                ]
            )
        async with running_bridge(fake, db, webhook=True, snippets_file=path) as app:
            scene = Scene(fake, app, "webhook")
            await scene.operator_says(topic, **typed("/s office"))
            await scene.in_chat(user, text="Our office is at Khreshchatyk 1, Taras.")
            await scene.operator_says(topic, text="#docs")
            await scene.in_chat(user, text="Photos of both documents, please.")
            await scene.operator_says(topic, **typed("/snippets"))
            (listing,) = await scene.in_topic(topic, text=LISTED)
            names = [r[0]["callback_data"] for r in listing["reply_markup"]["inline_keyboard"]]
            assert names == [f"card:snip:{n}" for n in ("docs", "hours", "office", "signed")]
            # a Ukrainian customer still gets the file's Ukrainian text
            other, other_topic = await new_customer(scene, "Oksana Bondar", "uk")
            await scene.operator_says(other_topic, text="#docs")
            await scene.in_chat(other, text=DOCS_UK.format("Oksana"))
            # saving the same name again updates it
            again = await scene.operator_says(topic, text="Office: Khreshchatyk 2.")
            await scene.deliver(
                fake.operator_message(
                    scene.operator, topic, reply_to=again["message_id"], **typed("/save office")
                )
            )
            await scene.in_topic(
                topic, text="💾 Saved reply «office» updated in en: send it with /s office."
            )
            await scene.operator_says(topic, **typed("/s office"))
            await scene.in_chat(user, text="Office: Khreshchatyk 2.")
    finally:
        await fake.stop()


async def test_save_refuses_bad_names_and_unknown_variables(scene: Scene) -> None:
    _, topic = await new_customer(scene, "Strict Saver", "uk")
    draft = await scene.operator_says(topic, text="Вітаю, {name}!")
    await scene.deliver(
        scene.fake.operator_message(
            scene.operator, topic, reply_to=draft["message_id"], **typed("/save greet")
        )
    )
    await scene.in_topic(
        topic,
        text="⚠️ Not saved: the variable {name} is unknown "
        "(use {first_name}, {operator} or {department}).",
    )
    await scene.deliver(
        scene.fake.operator_message(
            scene.operator, topic, reply_to=draft["message_id"], **typed("/save Big_Name")
        )
    )
    await scene.in_topic(
        topic,
        text='⚠️ Not saved: "Big_Name" cannot be a name: '
        "a name is 1-32 lowercase Latin letters, digits or hyphens.",
    )


async def test_viber_customers_get_saved_replies_in_their_language(tmp_path: Path) -> None:
    async with viber_bridge(tmp_path / "bridge.db", snippets_file=snippets_file(tmp_path)) as scene:
        english = scene.viber.add_user("Mary Jones", language="en")
        await scene.customer_sends(english, scene.viber.text("Hi, I had an accident"))
        topic = await scene.viber_topic(english)
        command = await scene.operator_says(topic, **typed("/s docs"))
        await scene.received(english, text=DOCS_EN.format("Mary"))
        await scene.fake.wait_for(
            lambda: scene.fake.message(scene.group, command["message_id"]).get("reactions")
        )

        ukrainian = scene.viber.add_user("Петро Коваль", language="uk")
        await scene.customer_sends(ukrainian, scene.viber.text("Добрий день"))
        topic = await scene.viber_topic(ukrainian)
        await scene.operator_says(topic, text="#docs")
        await scene.received(ukrainian, text=DOCS_UK.format("Петро"))


BAD_FILES = [
    ("snippets:\n  - name: a\n    text: x: y\n", 3, "the YAML is invalid (mapping values"),
    ("snippet:\n  - name: a\n", 1, 'the top level has an unknown key "snippet"'),
    (
        "snippets:\n  - name: Docs\n    text: {uk: x}\n",
        2,
        'snippet #1 has the name "Docs", but a name is 1-32',
    ),
    ("snippets:\n  - name: docs\n", 2, 'snippet "docs" has no "text"'),
    (
        "snippets:\n  - name: docs\n    text: {uk: x}\n  - name: docs\n    text: {en: y}\n",
        4,
        'the name "docs" is already used on line 2',
    ),
    (
        "snippets:\n  - name: docs\n    text:\n      de: Hallo\n",
        4,
        'the text of snippet "docs" has an unknown key "de" (expected uk, en)',
    ),
    (
        "snippets:\n  - name: docs\n    text:\n      uk: x\n      en: Dear {name}\n",
        5,
        'in the "en" text of snippet "docs", the variable {name} is unknown',
    ),
    (
        "snippets:\n  - name: docs\n    text: {uk: 'a { b'}\n",
        3,
        'in the "uk" text of snippet "docs", a { or } stands alone',
    ),
    ("snippets:\n  - name: docs\n    text: {}\n", 3, 'snippet "docs" has no "uk" or "en" text'),
]


@pytest.mark.parametrize(("text", "line", "problem"), BAD_FILES)
async def test_a_bad_file_stops_the_start_with_one_sentence(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = snippets_file(tmp_path, text)
    fake = FakeTelegram(TOKEN)  # not started: the file is read before anything else
    settings = bridge_settings(
        fake, tmp_path / "bridge.db", webhook=False, snippets_file=path, telegram_api_url=NOWHERE
    )
    app = Application(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            await app.start()
    finally:
        await app.stop()
    message = str(caught.value)
    assert message.startswith(f"SNIPPETS_FILE {path}, line {line}: {problem}"), message
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


async def test_a_missing_file_is_named(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    path = tmp_path / "absent.yaml"
    settings = bridge_settings(
        fake, tmp_path / "bridge.db", webhook=False, snippets_file=path, telegram_api_url=NOWHERE
    )
    app = Application(settings)
    try:
        with pytest.raises(
            ConfigError, match=r"^SNIPPETS_FILE .*absent\.yaml cannot be read: .+\.$"
        ):
            await app.start()
    finally:
        await app.stop()


def test_the_shipped_sample_loads() -> None:
    sample = Path(load_snippets.__code__.co_filename).parent / "snippets.sample.yaml"
    snippets = load_snippets(sample)
    assert sorted(snippets) == ["docs", "greeting", "thanks"]
    assert all(set(s.texts) == {"uk", "en"} for s in snippets.values())
