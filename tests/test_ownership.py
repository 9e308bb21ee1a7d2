"""End to end: conversations that belong to an operator.

Taking (/take, the card's 🙋 Take, the first answer), handing over (/assign @username, /assign
in reply), /release, what the card shows and what outsiders cannot do; /mine; the SLA reminder
that names the owner and, SLA_REASSIGN_MINUTES later, frees the conversation for everyone;
/stats per owner with exact figures. The bridge's clock is moved, never slept on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.buttons import stars, telegram_data
from tests.harness import JSON
from tests.viber_harness import ViberScene, viber_bridge

NOBODY = "🙋 Owner: nobody yet"
LINK = "https://t.me/c/1234567890/{topic}"


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("ownership")) / "bridge.db"
    async with viber_bridge(
        db,
        sla_first_response_seconds=600,
        sla_check_seconds=0.1,
        sla_reassign_minutes=5,
    ) as scene:
        yield scene


def owner_line(name: str) -> str:
    return f"🙋 Owner: {name}"


async def customer(scene: ViberScene, name: str) -> tuple[JSON, int]:
    user = scene.fake.add_user(name)
    await scene.customer_says(user, text=f"{name} has a question")
    return user, await scene.topic_of(user)


def card_of(scene: ViberScene, topic: int) -> JSON:
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    return scene.fake.message(scene.group, card["message_id"])


async def card_shows(scene: ViberScene, topic: int, line: str) -> None:
    await scene.fake.wait_for(lambda: line in card_of(scene, topic)["text"].splitlines())


async def says(scene: ViberScene, who: JSON, topic: int | None, text: str, **more: object) -> JSON:
    return await scene.deliver(scene.fake.operator_message(who, topic, text=text, **more))


async def reply_to(scene: ViberScene, sent: JSON, topic: int | None = None) -> JSON:
    """The bot's answer under an operator's message, once it is there."""

    def found() -> JSON | None:
        for message in scene.fake.sent_by_bot(scene.group, topic):
            if message.get("reply_to_message", {}).get("message_id") == sent["message_id"]:
                return message
        return None

    return await scene.fake.wait_for(found)  # type: ignore[no-any-return]


async def answered(scene: ViberScene, who: JSON, user: JSON, topic: int, text: str) -> JSON:
    """An operator answers; returns once the customer has it."""
    sent = await says(scene, who, topic, text)
    await scene.in_chat(user, text=text)
    return sent


async def test_take_by_command_and_button_release_and_outsiders(scene: ViberScene) -> None:
    fake = scene.fake
    _, topic = await customer(scene, "Taken Customer")
    await card_shows(scene, topic, NOBODY)
    assert "take" in [d.removeprefix("card:") for d in telegram_data(card_of(scene, topic))]

    outsider = fake.add_user("Visitor", username="visitor")
    fake.set_member_status(outsider["id"], "left")
    await says(scene, outsider, topic, "/take")
    await scene.settled()
    assert NOBODY in card_of(scene, topic)["text"]  # an outsider's /take does nothing
    await scene.deliver(fake.callback_query(outsider, card_of(scene, topic), "card:take"))
    await scene.settled()
    assert NOBODY in card_of(scene, topic)["text"]  # nor does their press

    await says(scene, scene.operator, topic, "/take")
    await card_shows(scene, topic, owner_line("Iryna Operator"))

    petro = fake.add_user("Petro", last_name="Button", username="petro_button")
    press = await scene.deliver(fake.callback_query(petro, card_of(scene, topic), "card:take"))
    assert (await scene.answer_to({"callback_query": press}))["text"] == (
        "You own this conversation now."
    )
    await card_shows(scene, topic, owner_line("Petro Button"))
    press = await scene.deliver(fake.callback_query(petro, card_of(scene, topic), "card:take"))
    assert (await scene.answer_to({"callback_query": press}))["text"] == (
        "You already own this conversation."
    )

    await says(scene, outsider, topic, "/release")
    await scene.settled()
    assert owner_line("Petro Button") in card_of(scene, topic)["text"]
    await says(scene, scene.operator, topic, "/release")
    await card_shows(scene, topic, NOBODY)
    released = await says(scene, scene.operator, topic, "/release")
    assert (await reply_to(scene, released, topic))["text"] == "Nobody owns this conversation."


async def test_first_answer_takes_and_assign_by_username_and_by_reply(scene: ViberScene) -> None:
    fake = scene.fake
    user, topic = await customer(scene, "Assigned Customer")
    iryna = scene.operator
    first_answer = await answered(scene, iryna, user, topic, "Hello, let me look")
    await card_shows(scene, topic, owner_line("Iryna Operator"))

    olena = fake.add_user("Olena", last_name="Second", username="Olena_Ops")
    olena_says = await answered(scene, olena, user, topic, "I can add something")
    await scene.settled()
    assert owner_line("Iryna Operator") in card_of(scene, topic)["text"]  # first one owns it

    await says(scene, iryna, topic, "/assign @olena_ops")  # any case, as Telegram does
    await card_shows(scene, topic, owner_line("Olena Second"))
    handed = await scene.in_topic(
        topic, text="🙋 Olena Second, Iryna Operator handed this conversation to you."
    )
    assert f'href="tg://user?id={olena["id"]}"' in handed[0]["html"]  # Olena is notified

    unknown = await says(scene, olena, topic, "/assign @never_wrote")
    note = await reply_to(scene, unknown, topic)
    assert note["text"].startswith("I don't know @never_wrote yet: an operator must have")
    assert owner_line("Olena Second") in card_of(scene, topic)["text"]

    # someone who only ever wrote in General is known too
    taras = fake.add_user("Taras", last_name="General", username="taras_gen")
    await says(scene, taras, None, "Good morning, team")
    await says(scene, olena, topic, "/assign @taras_gen")
    await card_shows(scene, topic, owner_line("Taras General"))

    await says(scene, taras, topic, "/assign", reply_to=first_answer["message_id"])
    await card_shows(scene, topic, owner_line("Iryna Operator"))
    await says(scene, iryna, topic, "/assign", reply_to=olena_says["message_id"])
    await card_shows(scene, topic, owner_line("Olena Second"))

    outsider = fake.add_user("Stranger", username="stranger")
    fake.set_member_status(outsider["id"], "left")
    await says(scene, olena, topic, "I am here")  # so a reply has something to point at
    stranger_says = await says(scene, outsider, topic, "hi")
    refused = await says(scene, olena, topic, "/assign", reply_to=stranger_says["message_id"])
    assert "not a member of the operator group" in (await reply_to(scene, refused, topic))["text"]
    assert owner_line("Olena Second") in card_of(scene, topic)["text"]


async def test_mine_lists_own_conversations_waiting_first(scene: ViberScene) -> None:
    fake = scene.fake
    mina = fake.add_user("Mina", last_name="Owner", username="mina_owner")
    answered_user, answered_topic = await customer(scene, "Mine Answered")
    await answered(scene, mina, answered_user, answered_topic, "Done for you")
    waiting_user, waiting_topic = await customer(scene, "Mine Waiting")
    await answered(scene, mina, waiting_user, waiting_topic, "What else?")
    await scene.customer_says(waiting_user, text="One more thing")
    await scene.shows(waiting_topic, "One more thing")
    _, new_topic = await customer(scene, "Mine New")
    await says(scene, mina, new_topic, "/take")
    await card_shows(scene, new_topic, owner_line("Mina Owner"))
    _, others = await customer(scene, "Not Mine")
    await says(scene, scene.operator, others, "/take")
    await card_shows(scene, others, owner_line("Iryna Operator"))
    await scene.settled()

    asked = await says(scene, mina, None, "/mine")
    reply = await reply_to(scene, asked)
    lines = reply["text"].splitlines()
    assert lines[0] == "🙋 Your open conversations: 3, waiting 2"
    assert lines[1].startswith("1. 🔴 Mine Waiting · Telegram · waiting ")  # longest first
    assert lines[2].startswith("2. 🔴 Mine New · Telegram · waiting ")
    assert lines[3] == "3. 🟢 Mine Answered · Telegram · answered"
    assert "Not Mine" not in reply["text"]
    for topic in (waiting_topic, new_topic, answered_topic):
        assert LINK.format(topic=topic) in reply["html"]

    nobody = fake.add_user("Nobody", username="owns_nothing")
    asked = await says(scene, nobody, None, "/mine")
    assert (await reply_to(scene, asked))["text"] == "🙋 You own no open conversations."


async def close_and_rate(scene: ViberScene, who: JSON, user: JSON, topic: int, count: int) -> None:
    before = len(scene.fake.sent_by_bot(user["id"]))
    await says(scene, who, topic, "/close")

    def closing() -> JSON | None:
        for message in scene.fake.sent_by_bot(user["id"])[before:]:
            if stars(message, count):
                return message
        return None

    message = await scene.fake.wait_for(closing)
    data = stars(message, count)
    assert data is not None
    await scene.deliver(scene.fake.callback_query(user, message, data))
    await scene.in_topic(
        topic,
        text=f"{'⭐' * count}{'☆' * (5 - count)} The customer rated the conversation {count}/5.",
    )


async def test_stats_per_owner(scene: ViberScene) -> None:
    fake, clock = scene.fake, scene.clock
    olena = fake.add_user("Stat", last_name="Olena", username="stat_olena")
    petro = fake.add_user("Stat", last_name="Petro", username="stat_petro")

    # 1: Olena answers after 30 s (so owns it), closed at 3 min, rated 5
    first, first_topic = await customer(scene, "Stats One")
    clock.offset += timedelta(seconds=30)
    await answered(scene, olena, first, first_topic, "Answer one")
    clock.offset += timedelta(seconds=150)
    await close_and_rate(scene, olena, first, first_topic, 5)

    # 2: Petro takes it, Olena answers after 2 min (Petro still owns it), closed at 5 min, rated 3
    second, second_topic = await customer(scene, "Stats Two")
    await says(scene, petro, second_topic, "/take")
    await card_shows(scene, second_topic, owner_line("Stat Petro"))
    clock.offset += timedelta(seconds=120)
    await answered(scene, olena, second, second_topic, "Answer two")
    clock.offset += timedelta(seconds=180)
    await close_and_rate(scene, petro, second, second_topic, 3)

    # 3: Olena answers after 50 s and it stays open
    third, third_topic = await customer(scene, "Stats Three")
    clock.offset += timedelta(seconds=50)
    await answered(scene, olena, third, third_topic, "Answer three")
    await scene.settled()

    await says(scene, olena, None, "/stats 7d")
    report = await fake.wait_for(
        lambda: [
            m
            for m in fake.sent_by_bot(scene.group)
            if m.get("text", "").startswith("Service report")
        ]
    )
    lines = report[-1]["text"].splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Owner "))
    rows = {}
    for line in lines[header + 1 :]:
        if not line:
            break
        cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
        rows[cells[0]] = cells[1:]
    # owned, median first response, median resolution, rating
    assert rows["Stat Olena"] == ["2", "40 s", "3 min", "5.0"]
    assert rows["Stat Petro"] == ["1", "2 min", "5 min", "3.0"]
    assert lines[header].split() == ["Owner", "Own", "1st", "resp", "Resolved", "★"]
    # the table of who answered is still there, with its own figures
    operators = next(i for i, line in enumerate(lines) if line.startswith("Operator "))
    answered_by = {
        cells[0]: cells[1:]
        for line in lines[operators + 1 : header - 1]
        if (cells := [c.strip() for c in line.split("  ") if c.strip()])
    }
    assert answered_by["Stat Olena"][:2] == ["3", "3"]  # three conversations, three messages
    assert "Stat Petro" not in answered_by  # owned one, never answered


async def test_sla_reminder_names_the_owner_then_frees_the_conversation(
    scene: ViberScene,
) -> None:
    fake, clock = scene.fake, scene.clock
    user, topic = await customer(scene, "Slow Customer")
    owner = fake.add_user("Sla", last_name="Owner", username="sla_owner")
    await says(scene, owner, topic, "/take")
    await card_shows(scene, topic, owner_line("Sla Owner"))

    clock.offset += timedelta(minutes=11)  # over the 10-minute SLA
    reminder = "⏰ Sla Owner, the customer has been waiting"
    found = await fake.wait_for(
        lambda: [
            m
            for m in fake.sent_by_bot(scene.group, topic)
            if m.get("text", "").startswith(reminder)
        ]
    )
    assert f'<a href="tg://user?id={owner["id"]}">Sla Owner</a>' in found[0]["html"]
    assert owner_line("Sla Owner") in card_of(scene, topic)["text"]  # still theirs

    clock.offset += timedelta(minutes=4)  # not yet SLA_REASSIGN_MINUTES after the reminder
    await scene.settled()
    await fake.wait_for(lambda: "⏰" in fake.topics[topic].name)
    assert owner_line("Sla Owner") in card_of(scene, topic)["text"]

    clock.offset += timedelta(minutes=2)
    free = "is free to take"
    notes = await fake.wait_for(
        lambda: [m for m in fake.sent_by_bot(scene.group, topic) if free in m.get("text", "")]
    )
    assert notes[0]["text"].startswith("⏰ The customer has been waiting")
    assert "Sla Owner has not answered" in notes[0]["text"]
    assert "tg://user" not in notes[0]["html"]  # to everyone, nobody in particular
    await card_shows(scene, topic, NOBODY)
    general = await fake.wait_for(
        lambda: [
            m
            for m in fake.sent_by_bot(scene.group)
            if "message_thread_id" not in m and "Slow Customer" in m.get("text", "")
        ]
    )
    assert LINK.format(topic=topic) in general[0]["html"]
    assert free in general[0]["text"]

    clock.offset += timedelta(minutes=10)  # freed once; nobody owns it, so no more of these
    await scene.settled()
    await says(scene, scene.operator, topic, "! checking")  # a later command, handled in order
    await scene.settled()
    texts = [m.get("text", "") for m in fake.sent_by_bot(scene.group, topic)]
    assert len([t for t in texts if t.startswith(reminder)]) == 1
    assert len([t for t in texts if free in t]) == 1

    await answered(scene, scene.operator, user, topic, "Sorry, here I am")
    await card_shows(scene, topic, owner_line("Iryna Operator"))  # free: the answer takes it
