"""End to end: two departments in two operator groups. A customer lands in the department of
the FAQ category they browsed, or picks one under "Talk to an operator", or gets the default;
each group has its own topics and its own Telegram budget, and operators answer from theirs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.errors import ConfigError
from bridge.faq.catalog import FaqCatalog
from bridge.texts import Texts
from standins.telegram import FakeTelegram
from tests.buttons import pick, telegram_data, viber_bodies
from tests.harness import JSON, TOKEN, Scene, running_bridge
from tests.viber_harness import ShiftedClock, viber_bridge

TEXTS = Texts.shipped("en")
CATALOG = FaqCatalog.shipped()
SALES_FAQ, CLAIMS_FAQ = CATALOG.categories[0].id, CATALOG.categories[1].id
START = {"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}


def departments_file(folder: Path, main: int, claims: int) -> Path:
    path = folder / "departments.yaml"
    path.write_text(
        "default: sales\n"
        "departments:\n"
        "  - id: sales\n"
        "    name: {uk: Продаж полісів, en: Buying a policy}\n"
        f"    group: {main}\n"
        f"    faq: [{SALES_FAQ}]\n"
        "  - id: claims\n"
        "    name: {uk: Страхові випадки, en: Claims}\n"
        f"    group: {claims}\n"
        f"    faq: [{CLAIMS_FAQ}]\n",
        encoding="utf-8",
    )
    return path


class TwoGroups(Scene):
    claims: int

    async def topic_in(self, group: int, user: JSON, besides: int | None = None) -> int:
        """The customer's topic in `group`: the one whose card links to their profile (other
        than `besides`, an earlier one)."""
        link = f"tg://user?id={user['id']}"

        def find() -> int | None:
            for thread_id, topic in self.fake.topics_of(group).items():
                if thread_id == besides:
                    continue
                for message in self.fake.topic_messages(thread_id, group):
                    if not topic.deleted and link in message.get("html", ""):
                        return thread_id
            return None

        return int(await self.fake.wait_for(find))

    async def press(self, user: JSON, message: JSON, action: str) -> None:
        await self.deliver(
            self.fake.callback_query(user, message, pick(telegram_data(message), action))
        )


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TwoGroups]:
    folder = Path(tmp_path_factory.mktemp("departments"))
    fake = FakeTelegram(TOKEN)
    claims = fake.add_group("Claims team")
    await fake.start()
    path = departments_file(folder, fake.operator_chat_id, claims)
    snippets = folder / "snippets.yaml"
    snippets.write_text(
        "snippets:\n  - name: team\n"
        '    text: {uk: "Вам відповідає {department}.", en: "You are talking to {department}."}\n',
        encoding="utf-8",
    )
    async with running_bridge(
        fake,
        folder / "bridge.db",
        webhook=True,
        departments_file=path,
        snippets_file=snippets,
        default_language="en",
    ) as app:
        scene = TwoGroups(fake, app, "webhook")
        scene.claims = claims
        yield scene
    await fake.stop()


async def menu_of(scene: TwoGroups, user: JSON) -> JSON:
    await scene.customer_says(user, **START)
    return (await scene.in_chat(user, text=TEXTS.get("greeting", "en")))[0]


async def test_a_browsed_category_leads_to_its_department_and_group(scene: TwoGroups) -> None:
    fake = scene.fake
    user = fake.add_user("Claimant", language_code="en")
    menu = await menu_of(scene, user)
    await scene.press(user, menu, f"c:{CLAIMS_FAQ}")
    greeting = TEXTS.get("greeting", "en")
    await fake.wait_for(lambda: fake.message(user["id"], menu["message_id"])["text"] != greeting)
    await scene.customer_says(user, text="My car was hit on the parking lot")
    topic = await scene.topic_in(scene.claims, user)
    card = fake.topic_messages(topic, scene.claims)[0]
    assert "Department: Claims" in card["text"]
    assert card["text"].endswith("My car was hit on the parking lot")
    assert not [t for t in fake.topics.values() if "Claimant" in t.name]  # not in the main group

    # the claims team answers from its own group
    await scene.deliver(
        fake.operator_message(scene.operator, topic, group=scene.claims, text="We are on it")
    )
    await scene.in_chat(user, text="We are on it")
    await scene.customer_says(user, text="Thank you, here is the photo")
    await fake.wait_for(
        lambda: any(
            m.get("text") == "Thank you, here is the photo"
            for m in fake.topic_messages(topic, scene.claims)
        )
    )
    assert fake.operation_count(scene.claims) >= 3  # its own budget: topic, card post, copy

    # a saved reply names the customer's department
    await scene.deliver(
        fake.operator_message(scene.operator, topic, group=scene.claims, **command("/s team"))
    )
    await scene.in_chat(user, text="You are talking to Claims.")


async def test_without_browsing_the_default_department(scene: TwoGroups) -> None:
    user = scene.fake.add_user("Buyer", language_code="en")
    await scene.customer_says(user, text="How much is a policy for a 2015 car?")
    topic = await scene.topic_in(scene.fake.operator_chat_id, user)
    card = scene.fake.topic_messages(topic)[0]
    assert "Department: Buying a policy" in card["text"]


async def test_talk_to_an_operator_offers_the_departments(scene: TwoGroups) -> None:
    fake = scene.fake
    user = fake.add_user("Undecided", language_code="en")
    menu = await menu_of(scene, user)
    await scene.press(user, menu, "op")
    choice = await fake.wait_for(
        lambda: (
            shown
            if (shown := fake.message(user["id"], menu["message_id"]))["text"]
            == TEXTS.get("department_choose", "en")
            else None
        )
    )
    labels = [b["text"] for row in choice["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Buying a policy", "Claims"]
    await scene.press(user, choice, "dept:claims")
    topic = await scene.topic_in(scene.claims, user)
    await fake.wait_for(
        lambda: any(
            "asked to talk to an operator" in m.get("text", "")
            for m in fake.topic_messages(topic, scene.claims)
        )
    )


async def test_operator_chat_id_must_be_a_department_s_group(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    other = fake.add_group("Somewhere else")
    third = fake.add_group("Claims team")
    await fake.start()
    try:
        path = departments_file(tmp_path, other, third)
        with pytest.raises(ConfigError) as refused:
            async with running_bridge(fake, tmp_path / "b.db", webhook=True, departments_file=path):
                pass
        assert str(refused.value).startswith(
            f"OPERATOR_CHAT_ID {fake.operator_chat_id} is the group of no department"
        )
    finally:
        await fake.stop()


async def test_every_department_s_group_is_checked_at_start(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    plain = fake.add_group("Claims team", is_forum=False)
    await fake.start()
    try:
        path = departments_file(tmp_path, fake.operator_chat_id, plain)
        with pytest.raises(ConfigError) as refused:
            async with running_bridge(fake, tmp_path / "b.db", webhook=True, departments_file=path):
                pass
        assert str(refused.value) == (
            f'the group of department "claims" in DEPARTMENTS_FILE {plain} is not a forum '
            "supergroup: turn on Topics in the group's settings."
        )
    finally:
        await fake.stop()


def command(text: str) -> dict[str, object]:
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


async def test_transfer_moves_the_conversation_to_another_group_and_back(
    scene: TwoGroups,
) -> None:
    fake, main, claims = scene.fake, scene.fake.operator_chat_id, scene.claims
    user = fake.add_user("Mover", language_code="en")
    opening = await scene.customer_says(user, text="I want a policy, and also my car was hit")
    first = await scene.topic_in(main, user)
    answer = await scene.operator_says(first, text="Let me look at the policy first")
    await scene.in_chat(user, text="Let me look at the policy first")

    await scene.operator_says(first, **command("/transfer claims"))
    second = await scene.topic_in(claims, user)
    intro = fake.topic_messages(second, claims)[0]
    assert "Department: Claims" in intro["text"]
    assert "transferred this conversation from Buying a policy" in intro["text"]
    assert f"https://t.me/c/{str(main)[4:]}/{first}" in intro["html"]  # the earlier topic
    assert "👤 I want a policy, and also my car was hit" in intro["text"]  # the last words
    assert "🎧 Let me look at the policy first" in intro["text"]
    told = TEXTS.get("transferred", "en", department="Claims")
    await scene.in_chat(user, text=told)
    await fake.wait_for(lambda: fake.topics_of(main)[first].closed)
    out = [m for m in fake.topic_messages(first, main) if "Transferred to" in m.get("text", "")]
    assert len(out) == 1 and f"https://t.me/c/{str(claims)[4:]}/{second}" in out[0]["html"]

    # the customer's next words go to the new topic; an edit in the old one still reaches them
    await scene.customer_says(user, text="Here are the photos of the damage")
    await fake.wait_for(
        lambda: any(
            m.get("text") == "Here are the photos of the damage"
            for m in fake.topic_messages(second, claims)
        )
    )
    copy = (await scene.in_chat(user, text="Let me look at the policy first"))[0]
    await scene.deliver(fake.edit_message(main, answer["message_id"], text="Policy: all fine"))
    await fake.wait_for(
        lambda: fake.message(user["id"], copy["message_id"])["text"] == "Policy: all fine"
    )

    # a reply to a message shown in the earlier group quotes nothing in the new one
    await scene.customer_says(user, text="About that policy answer", reply_to=copy["message_id"])
    replied = await fake.wait_for(
        lambda: next(
            (
                m
                for m in fake.topic_messages(second, claims)
                if m.get("text") == "About that policy answer"
            ),
            None,
        )
    )
    assert "reply_to_message" not in replied or (
        replied["reply_to_message"].get("message_thread_id") == second
        and replied["reply_to_message"]["message_id"] == second
    ), replied.get("reply_to_message")

    # the customer edits words shown in the earlier group: the new topic is told, and nothing
    # in the new group is edited in their place
    claims_before = {
        m["message_id"]: m.get("text") for m in fake.chat_messages(claims) if "text" in m
    }
    await scene.deliver(
        fake.edit_message(user["id"], opening["message_id"], text="Only the car, sorry")
    )
    note = await fake.wait_for(
        lambda: next(
            (
                m
                for m in fake.topic_messages(second, claims)
                if "The customer edited this message:\nOnly the car, sorry" in m.get("text", "")
            ),
            None,
        )
    )
    assert (note.get("reply_to_message") or {}).get("message_id", second) == second  # no quote
    edited = {m["message_id"]: m.get("text") for m in fake.chat_messages(claims) if "text" in m}
    assert all(edited[i] == text for i, text in claims_before.items())

    # and back, with the buttons of a bare /transfer
    await scene.deliver(
        fake.operator_message(scene.operator, second, group=claims, **command("/transfer"))
    )
    pick_one = await fake.wait_for(
        lambda: next(
            (
                m
                for m in fake.topic_messages(second, claims)
                if m.get("text", "").startswith("↪️ Transfer to which department?")
            ),
            None,
        )
    )
    await scene.deliver(fake.callback_query(scene.operator, pick_one, "card:transfer:sales"))
    await fake.wait_for(lambda: fake.topics_of(claims)[second].closed)
    third = await scene.topic_in(main, user, besides=first)
    await scene.customer_says(user, text="Back to the policy, please")
    await fake.wait_for(
        lambda: any(
            m.get("text") == "Back to the policy, please" for m in fake.topic_messages(third, main)
        )
    )


async def test_transfer_to_an_unknown_department_names_the_known_ones(scene: TwoGroups) -> None:
    user = scene.fake.add_user("Stayer", language_code="en")
    await scene.customer_says(user, text="A question that stays where it is")
    topic = await scene.topic_in(scene.fake.operator_chat_id, user)
    await scene.operator_says(topic, **command("/transfer nowhere"))
    await scene.shows(topic, "❓ No department «nowhere»: /transfer one of sales, claims.")


async def test_a_department_s_own_hours_decide_its_offline_reply(tmp_path: Path) -> None:
    """Claims answer on weekdays only; sales (the bridge's WORKING_HOURS, 24/7) always."""
    fake = FakeTelegram(TOKEN)
    claims = fake.add_group("Claims team")
    await fake.start()
    path = departments_file(tmp_path, fake.operator_chat_id, claims)
    path.write_text(path.read_text() + '    hours: "mon-fri 09:00-18:00"\n', encoding="utf-8")
    clock = ShiftedClock()
    clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Europe/Kyiv")))  # a Saturday
    try:
        async with running_bridge(
            fake,
            tmp_path / "b.db",
            webhook=True,
            clock=clock,
            departments_file=path,
            default_language="en",
        ) as app:
            scene = TwoGroups(fake, app, "webhook")
            claimant = fake.add_user("Weekend Claimant", language_code="en")
            menu = await menu_of(scene, claimant)
            await scene.press(claimant, menu, f"c:{CLAIMS_FAQ}")
            await scene.customer_says(claimant, text="Somebody scratched my car today")
            when = TEXTS.get(
                "when_weekday", "en", weekday=TEXTS.get("weekday_0", "en"), time="09:00"
            )
            offline = TEXTS.get("offline", "en", when=when, zone=TEXTS.get("zone_label", "en"))
            await scene.in_chat(claimant, text=offline)

            buyer = fake.add_user("Weekend Buyer", language_code="en")
            await scene.customer_says(buyer, text="Can I buy a policy today?")
            await scene.topic_in(fake.operator_chat_id, buyer)
            await scene.settled()
            assert offline not in [m.get("text") for m in fake.sent_by_bot(buyer["id"])]
    finally:
        await fake.stop()


async def test_queue_and_stats_per_department_and_for_all(scene: TwoGroups) -> None:
    fake, main, claims = scene.fake, scene.fake.operator_chat_id, scene.claims
    waiting_claim = fake.add_user("Queued Claimant", language_code="en")
    menu = await menu_of(scene, waiting_claim)
    await scene.press(waiting_claim, menu, f"c:{CLAIMS_FAQ}")
    await scene.customer_says(waiting_claim, text="Still waiting about my claim")
    await scene.topic_in(claims, waiting_claim)
    waiting_buyer = fake.add_user("Queued Buyer", language_code="en")
    await scene.customer_says(waiting_buyer, text="Still waiting about my policy")
    await scene.topic_in(main, waiting_buyer)
    await scene.settled()

    async def reply_to(group: int, text: str) -> str:
        sent = await scene.deliver(
            fake.operator_message(scene.operator, None, group=group, **command(text))
        )
        answer = await fake.wait_for(
            lambda: next(
                (
                    m
                    for m in fake.sent_by_bot(group)
                    if (m.get("reply_to_message") or {}).get("message_id") == sent["message_id"]
                ),
                None,
            )
        )
        return str(answer["text"])

    claims_queue = await reply_to(claims, "/queue")
    assert claims_queue.startswith("⏳ Waiting for an answer (Claims):")
    assert "Queued Claimant" in claims_queue and "Queued Buyer" not in claims_queue
    sales_queue = await reply_to(main, "/queue")
    assert "Queued Buyer" in sales_queue and "Queued Claimant" not in sales_queue
    everyone = await reply_to(main, "/queue all")
    assert everyone.startswith("⏳ Waiting for an answer:")
    assert "Queued Buyer" in everyone and "Queued Claimant" in everyone
    named = await reply_to(main, "/queue claims")
    assert "Queued Claimant" in named and "Queued Buyer" not in named

    assert (await reply_to(claims, "/stats 7d")).startswith("📊 Claims\n")
    assert (await reply_to(main, "/stats today claims")).startswith("📊 Claims\n")
    assert not (await reply_to(main, "/stats all")).startswith("📊")


async def test_a_viber_customer_picks_a_department_and_is_answered_from_its_group(
    tmp_path: Path,
) -> None:
    groups: dict[str, int] = {}

    def two_groups(fake: FakeTelegram) -> dict[str, object]:
        groups["claims"] = fake.add_group("Claims team")
        return {
            "departments_file": departments_file(tmp_path, fake.operator_chat_id, groups["claims"])
        }

    async with viber_bridge(tmp_path / "v.db", two_groups, default_language="en") as scene:
        viber, fake, claims = scene.viber, scene.fake, groups["claims"]
        user = viber.add_user("Viber Claimant", language="en")
        status, body = await viber.send_callback(viber.conversation_started(user))
        assert status == 200
        welcome = viber_bodies(json.loads(body)["keyboard"])
        await scene.customer_sends(user, viber.text(pick(welcome, "op")))
        choice = (await scene.received(user, text=TEXTS.get("department_choose", "en")))[0]
        await scene.customer_sends(
            user, viber.text(pick(viber_bodies(choice["keyboard"]), "dept:claims"))
        )
        await scene.received(user, text=TEXTS.get("ask_prompt", "en"))
        await scene.customer_sends(user, viber.text("A tree fell on my car"))

        def topic() -> int | None:
            for thread_id in fake.topics_of(claims):
                if any(
                    "A tree fell on my car" in m.get("text", "")
                    for m in fake.topic_messages(thread_id, claims)
                ):
                    return thread_id
            return None

        thread = int(await fake.wait_for(topic))
        assert "Department: Claims" in fake.topic_messages(thread, claims)[0]["text"]
        await scene.deliver(
            fake.operator_message(scene.operator, thread, group=claims, text="Send us a photo")
        )
        await scene.received(user, text="Send us a photo")
