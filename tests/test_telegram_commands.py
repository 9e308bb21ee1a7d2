"""End to end: operators' commands and card buttons, what is left alone, failures shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.model import TopicState
from bridge.texts import Texts
from bridge.topic_names import STATE_MARKERS
from standins.telegram import FakeTelegram
from tests.harness import JSON, TOKEN, Scene, running_bridge
from tests.log_watch import LogWatch

TEXTS = Texts.shipped("uk")
CLOSED_UK = f"{TEXTS.get('closed', 'uk')}\n\n{TEXTS.get('rate_prompt', 'uk')}"
CLOSED_EN = f"{TEXTS.get('closed', 'en')}\n\n{TEXTS.get('rate_prompt', 'en')}"


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = Path(tmp_path_factory.mktemp("commands")) / "bridge.db"
    async with running_bridge(fake, db, webhook=True) as app:
        yield Scene(fake, app, "webhook")
    await fake.stop()


async def new_customer(scene: Scene, name: str, language: str = "uk") -> tuple[JSON, int]:
    user = scene.fake.add_user(name, language_code=language)
    await scene.customer_says(user, text=f"Hello from {name}")
    return user, await scene.topic_of(user)


def marker(scene: Scene, topic: int) -> str:
    return scene.fake.topics[topic].name.split(" ")[0]


async def test_close_resolves_and_the_next_message_reopens_the_same_topic(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Closer", language="en")
    await scene.operator_says(topic, text="/close")
    await scene.in_chat(user, text=CLOSED_EN)
    await scene.fake.wait_for(lambda: marker(scene, topic) == STATE_MARKERS[TopicState.CLOSED])
    assert scene.fake.topics[topic].closed
    # the operator's /close is the trace in the topic: no note repeats it
    assert not [m for m in scene.fake.sent_by_bot(scene.group, topic) if "closed by" in m["text"]]

    await scene.customer_says(user, text="One more question")
    words = await scene.in_topic(topic, text="🆕 Conversation #2 started.\n\nOne more question")
    assert words  # the note rides on the new conversation's first words
    await scene.fake.wait_for(lambda: not scene.fake.topics[topic].closed)
    await scene.fake.wait_for(lambda: marker(scene, topic) == STATE_MARKERS[TopicState.NEW])
    assert len([t for t in scene.fake.topics.values() if "Closer" in t.name]) == 1


async def test_reopen_command(scene: Scene) -> None:
    _, topic = await new_customer(scene, "Reopener")
    await scene.operator_says(topic, text="/close")
    await scene.fake.wait_for(lambda: scene.fake.topics[topic].closed)
    await scene.operator_says(topic, text="/reopen")
    await scene.fake.wait_for(lambda: not scene.fake.topics[topic].closed)
    await scene.fake.wait_for(lambda: marker(scene, topic) == STATE_MARKERS[TopicState.NEW])


async def test_ban_silences_the_customer_without_telling_and_unban_restores(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Spammer")
    await scene.operator_says(topic, text="/ban")
    await scene.in_topic(
        topic, text="⛔ Customer banned by Iryna Operator: their messages are no longer relayed."
    )
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    await scene.fake.wait_for(
        lambda: "Banned" in scene.fake.message(scene.group, card["message_id"])["text"]
    )

    before = len(scene.fake.topic_messages(topic))
    told = len(scene.fake.sent_by_bot(user["id"]))  # the acknowledgement of the first message
    await scene.customer_says(user, text="buy cheap stuff")
    assert len(scene.fake.topic_messages(topic)) == before
    assert len(scene.fake.sent_by_bot(user["id"])) == told  # never told

    await scene.operator_says(topic, text="/unban")
    await scene.in_topic(
        topic, text="✅ Customer unbanned by Iryna Operator: their messages are relayed again."
    )
    await scene.customer_says(user, text="sorry, real question")
    await scene.in_topic(topic, text="sorry, real question")


async def test_card_buttons_close_and_ban(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Buttons")
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    update = scene.fake.callback_query(scene.operator, card, "card:close")
    await scene.deliver(update)
    await scene.in_chat(user, text=CLOSED_UK)
    assert (await scene.answer_to(update)).get("text") == "Conversation closed."
    await scene.in_topic(topic, text="🔒 Conversation closed by Iryna Operator.")  # a button
    await scene.fake.wait_for(lambda: scene.fake.topics[topic].closed)

    card = scene.fake.message(scene.group, card["message_id"])
    await scene.deliver(scene.fake.callback_query(scene.operator, card, "card:ban"))
    await scene.fake.wait_for(
        lambda: (
            "card:unban"
            in [
                button["callback_data"]
                for button in scene.fake.message(scene.group, card["message_id"])["reply_markup"][
                    "inline_keyboard"
                ][0]
            ]
        )
    )
    await scene.in_topic(
        topic, text="⛔ Customer banned by Iryna Operator: their messages are no longer relayed."
    )
    before = len(scene.fake.topic_messages(topic))
    await scene.customer_says(user, text="are you there?")
    assert len(scene.fake.topic_messages(topic)) == before


async def test_unknown_button_data_is_answered_and_ignored(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Forger")
    card = scene.fake.sent_by_bot(scene.group, topic)[0]
    told = len(scene.fake.sent_by_bot(user["id"]))
    update = scene.fake.callback_query(scene.operator, card, "card:delete_everything")
    await scene.deliver(update)
    assert update["callback_query"]["id"] in scene.fake.callback_answers
    assert not scene.fake.topics[topic].closed
    assert len(scene.fake.sent_by_bot(user["id"])) == told


async def test_left_alone_general_topic_service_messages_bots_other_chats(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Quiet")
    told = len(scene.fake.sent_by_bot(user["id"]))
    other_bot = scene.fake.add_user("Helper", is_bot=True, username="other_bot")
    stranger = scene.fake.add_user("Stranger")
    await scene.deliver(scene.fake.operator_message(scene.operator, None, text="General chatter"))
    await scene.deliver(scene.fake.operator_message(other_bot, topic, text="I am a bot"))
    await scene.deliver(scene.fake.service_message(topic, new_chat_members=[stranger]))
    await scene.deliver(scene.fake.other_chat_message(stranger, -100999, text="elsewhere"))
    await scene.operator_says(topic, text="Real answer")
    await scene.in_chat(user, text="Real answer")
    assert [m["text"] for m in scene.fake.sent_by_bot(user["id"])[told:]] == ["Real answer"]


async def test_blocked_customer_is_reported_in_the_topic(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Blocker")
    scene.fake.block_bot(user["id"])
    sent = await scene.operator_says(topic, text="Are you still there?")
    note = (await scene.in_topic(topic, text="⚠️ Not delivered: the customer blocked the bot."))[0]
    assert note["reply_to_message"]["message_id"] == sent["message_id"]
    assert not scene.fake.message(scene.group, sent["message_id"]).get("reactions")


async def test_a_refused_copy_goes_as_new_content(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Copyless")
    scene.fake.fail("copyMessage", 400, "Bad Request: message can't be copied")
    await scene.operator_says(topic, text="your policy number is 77")
    await scene.in_chat(user, text="your policy number is 77")


async def test_too_long_is_reported(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Longread")
    to_them = lambda params: params.get("chat_id") == user["id"]  # noqa: E731
    scene.fake.fail("copyMessage", 400, "Bad Request: message is too long", when=to_them)
    scene.fake.fail("sendMessage", 400, "Bad Request: message is too long", when=to_them)
    sent = await scene.operator_says(topic, text="x" * 50)
    note = (
        await scene.in_topic(
            topic, text="⚠️ Not delivered: the message is too long for Telegram; please split it."
        )
    )[0]
    assert note["reply_to_message"]["message_id"] == sent["message_id"]


async def test_deleted_topic_gets_replaced(scene: Scene) -> None:
    user, topic = await new_customer(scene, "Phoenix")
    scene.fake.delete_topic(topic)
    await scene.customer_says(user, text="hello again")
    new_topic = await scene.topic_of(user)
    assert new_topic != topic
    await scene.shows(new_topic, "hello again")


async def test_chatid_answers_in_the_group(scene: Scene) -> None:
    await scene.deliver(scene.fake.operator_message(scene.operator, None, text="/chatid"))
    answer = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group)
            if m.get("text", "").startswith("OPERATOR_CHAT_ID=")
        ]
    )
    assert answer[0]["text"].startswith(f"OPERATOR_CHAT_ID={scene.group}\n")
    assert "forum" in answer[0]["text"]


async def test_start_greets_without_opening_a_topic(scene: Scene) -> None:
    user = scene.fake.add_user("Newcomer", language_code="en")
    topics_before = len(scene.fake.topics)
    await scene.customer_says(
        user, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    await scene.in_chat(user, text=Texts.shipped("uk").get("greeting", "en"))
    assert len(scene.fake.topics) == topics_before


def typed(text: str) -> dict[str, object]:
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


async def test_commands_from_outside_the_group_do_nothing(scene: Scene) -> None:
    """A discussion or public group lets people who are not members write: their commands
    must not close, ban or answer for the team."""
    fake = scene.fake
    user, topic = await new_customer(scene, "Guarded Commands")
    outsider = fake.add_user("Passer By")
    fake.set_member_status(outsider["id"], "left")
    told = len(fake.sent_by_bot(user["id"]))
    await scene.settled()
    posted = len(fake.sent_by_bot(scene.group, topic))
    for text in ("/close", "/ban", "/wait 5", "/stats", "/queue"):
        await scene.deliver(fake.operator_message(outsider, topic, **typed(text)))
    await scene.settled()
    assert not fake.topics[topic].closed
    assert len(fake.sent_by_bot(user["id"])) == told  # the customer was told nothing
    assert len(fake.sent_by_bot(scene.group, topic)) == posted  # no answer, note or report
    await scene.customer_says(user, text="Guarded Commands is still heard")
    await scene.shows(topic, "Guarded Commands is still heard")

    anonymous_admin = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    group_chat = {"id": scene.group, "type": "supergroup", "title": fake.group_title}
    await scene.deliver(
        fake.operator_message(anonymous_admin, topic, sender_chat=group_chat, **typed("/close"))
    )
    await scene.in_chat(user, text=CLOSED_UK)  # an anonymous admin is the group itself


async def test_a_public_operator_group_is_warned_about(
    tmp_path: Path, logs_keep_secrets: LogWatch
) -> None:
    fake = FakeTelegram(TOKEN)
    fake.group_username = "insurer_support_team"
    await fake.start()
    try:
        async with running_bridge(fake, tmp_path / "bridge.db", webhook=True):
            pass
    finally:
        await fake.stop()
    warnings = [
        line for line in logs_keep_secrets.lines() if "is public (@insurer_support_team)" in line
    ]
    assert len(warnings) == 1, logs_keep_secrets.lines()
    assert "anyone can join it and read what customers write" in warnings[0]
    assert "make it private" in warnings[0]
