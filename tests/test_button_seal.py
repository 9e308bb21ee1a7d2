"""End to end: a customer's buttons are theirs alone. A value shown to one customer does nothing
for another, a value typed by hand is not a button, and on Viber both are relayed as text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.texts import Texts
from tests.buttons import action_of, telegram_data, viber_bodies
from tests.harness import JSON
from tests.viber_harness import ViberScene, viber_bridge

TEXTS = Texts.shipped("uk")
CLOSE = {"text": "/close", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("seal")) / "bridge.db"
    async with viber_bridge(db, working_hours="24/7") as scene:
        yield scene


async def rated_viber_customer(scene: ViberScene, name: str) -> tuple[JSON, int, list[str]]:
    """A Viber customer whose conversation was closed and who gave it 4 stars: the comment
    invitation's buttons are what they hold now."""
    viber = scene.viber
    user = viber.add_user(name, language="uk")
    await scene.customer_sends(user, viber.text(f"{name} asks about the policy"))
    topic = await scene.viber_topic(user)
    await scene.operator_says(topic, **CLOSE)
    closing = await viber.wait_for(
        lambda: [
            m
            for m in viber.received(user["id"])
            if "rate:" in " ".join(action_of(v) for v in viber_bodies(m.get("keyboard", {})))
        ]
    )
    stars = viber_bodies(closing[-1]["keyboard"])
    four = next(v for v in stars if action_of(v).endswith(":4"))
    await scene.customer_sends(user, viber.text(four))
    invite = (await scene.received(user, text=TEXTS.get("rating_thanks", "uk")))[-1]
    return user, topic, viber_bodies(invite["keyboard"])


async def test_viber_buttons_of_another_customer_or_typed_are_relayed_as_text(
    scene: ViberScene,
) -> None:
    viber = scene.viber
    owner, owner_topic, invite = await rated_viber_customer(scene, "Owner Of Buttons")
    skip = next(v for v in invite if action_of(v).startswith("skip:"))
    conversation_id = action_of(skip).split(":")[1]

    other = viber.add_user("Someone Else", language="uk")
    await scene.customer_sends(other, viber.text("Someone Else needs help"))
    other_topic = await scene.viber_topic(other)
    await scene.customer_sends(other, viber.text(skip))  # the owner's button, copied
    await scene.shows(other_topic, skip)
    typed = f"bridge:skip:{conversation_id}"  # guessed, as the old sequential ids allowed
    await scene.customer_sends(other, viber.text(typed))
    await scene.shows(other_topic, typed)

    # the owner's comment is still awaited: neither press cancelled it
    await scene.customer_sends(owner, viber.text("Дуже швидко відповіли, дякую"))
    await scene.shows(owner_topic, "💬 Rating comment: Дуже швидко відповіли, дякую")


async def test_telegram_button_data_of_another_customer_does_nothing(scene: ViberScene) -> None:
    fake = scene.fake
    owner = fake.add_user("Star Owner", language_code="uk")
    await scene.customer_says(owner, text="Star Owner asks a question")
    topic = await scene.topic_of(owner)
    await scene.operator_says(topic, **CLOSE)
    closing = await fake.wait_for(
        lambda: [
            m
            for m in fake.sent_by_bot(owner["id"])
            if any(action_of(d).startswith("rate:") for d in telegram_data(m))
        ]
    )
    five = next(d for d in telegram_data(closing[-1]) if action_of(d).endswith(":5"))

    thief = fake.add_user("Star Thief", language_code="uk")
    await scene.customer_says(
        thief, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    menu = (await scene.in_chat(thief, text=TEXTS.get("greeting", "uk")))[0]
    await scene.deliver(fake.callback_query(thief, menu, five))  # the owner's data, replayed
    await fake.wait_for(
        lambda: (
            fake.message(thief["id"], menu["message_id"])["text"]
            == TEXTS.get("menu_outdated", "uk")
        )
    )
    await scene.settled()
    assert not [m for m in fake.sent_by_bot(scene.group, topic) if "rated" in m.get("text", "")], (
        "a rating came from a button that was not the customer's"
    )

    # the owner's own press still counts
    await scene.deliver(fake.callback_query(owner, closing[-1], five))
    await scene.in_topic(topic, text="⭐⭐⭐⭐⭐ The customer rated the conversation 5/5.")
