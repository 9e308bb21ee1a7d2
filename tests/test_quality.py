"""End to end: service quality. A known set of conversations (clock injected) gives exact
/stats figures, the same in the CLI and its CSV; /metrics after real traffic; /readyz when the
database is down; ratings on both platforms (double and late presses); the SLA reminder once and
then cleared; /queue."""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.texts import Texts
from tests.buttons import action_of
from tests.harness import JSON, ON_POSTGRES, SOURCE_ROOT, database_url
from tests.viber_harness import ViberScene, viber_bridge

TEXTS = Texts.shipped("uk")
PROGRAM = str(Path(sys.executable).parent / "support-bridge")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("quality"))


@pytest.fixture(scope="module")
async def scene(folder: Path) -> AsyncIterator[ViberScene]:
    (folder / "db").mkdir()
    async with viber_bridge(
        folder / "db" / "bridge.db",
        sla_first_response_seconds=60,
        sla_check_seconds=0.1,
        sla_alert_general=True,
    ) as scene:
        # Start in the recent past, so moving the clock on never passes real time: the CLI
        # report, run as another process, reads the same database on the real clock.
        scene.clock.offset = timedelta(minutes=-30)
        yield scene


def command(text: str) -> dict[str, object]:
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


async def conversation(
    scene: ViberScene, name: str, answer_after: float | None
) -> tuple[JSON, int]:
    """A customer writes; an operator answers `answer_after` seconds later (None: nobody)."""
    user = scene.fake.add_user(name)
    await scene.customer_says(user, text=f"{name} asks")
    topic = await scene.topic_of(user)
    if answer_after is not None:
        scene.clock.offset += timedelta(seconds=answer_after)
        await scene.operator_says(topic, text=f"answer to {name}")
        await scene.in_chat(user, text=f"answer to {name}")
    return user, topic


def buttons(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data", "") for row in rows for b in row]


async def closing_message(scene: ViberScene, user: JSON, after: int = 0) -> JSON:
    """The closing message with its star buttons, once it has arrived."""

    def found() -> JSON | None:
        for message in scene.fake.sent_by_bot(user["id"])[after:]:
            if any(b.startswith("h:rate:") for b in buttons(message)):
                return message
        return None

    return await scene.fake.wait_for(found)  # type: ignore[no-any-return]


async def close_and_rate(
    scene: ViberScene, user: JSON, topic: int, stars: int
) -> tuple[JSON, list[str]]:
    """Close, press a star; returns the closing message and its star buttons as first sent."""
    before = len(scene.fake.sent_by_bot(user["id"]))
    await scene.operator_says(topic, **command("/close"))
    closing = await closing_message(scene, user, before)
    star_buttons = buttons(closing)  # the message is edited in place once a star is pressed
    choice = next(b for b in star_buttons if action_of(b).endswith(f":{stars}"))
    await scene.deliver(scene.fake.callback_query(user, closing, choice))
    return closing, star_buttons


async def test_stats_figures_chart_cli_and_csv(scene: ViberScene, folder: Path) -> None:
    fast_user, fast = await conversation(scene, "Fast", answer_after=30)
    slow_user, slow = await conversation(scene, "Slow", answer_after=120)
    await conversation(scene, "Nobody", answer_after=None)
    await close_and_rate(scene, fast_user, fast, 5)
    await close_and_rate(scene, slow_user, slow, 3)
    await scene.in_topic(slow, text="⭐⭐⭐☆☆ The customer rated the conversation 3/5.")

    await scene.deliver(scene.fake.operator_message(scene.operator, None, **command("/stats 7d")))
    report = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group)
            if m.get("text", "").startswith("Service report")
        ]
    )
    text = report[0]["text"]
    for line in (
        "Conversations: 3, answered 2 (67%)",
        "First response: median 1 min, p90 2 min",  # 75 s and 111 s, rounded for reading
        "Within SLA (1 min): 50% (1 of 2)",
        "Rating: 4.0 from 2 ratings",
        "Iryna Opera",
    ):
        assert line in text, text
    chart = (
        await scene.fake.wait_for(
            lambda: [m for m in scene.fake.sent_by_bot(scene.group) if "photo" in m]
        )
    )[-1]
    png = scene.fake.file_data(chart["photo"][-1]["file_id"])
    assert png.startswith(b"\x89PNG")
    assert len(png) > 10_000

    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SOURCE_ROOT,
        "HOME": str(folder),
        "TELEGRAM_BOT_TOKEN": scene.fake.token,
        "OPERATOR_CHAT_ID": str(scene.fake.operator_chat_id),
        "DATABASE_URL": database_url(folder / "db" / "bridge.db"),
        "WORKING_HOURS": "24/7",
    }
    out_csv = folder / "conversations.csv"
    process = await asyncio.create_subprocess_exec(
        PROGRAM,
        "stats",
        "--days",
        "7",
        "--csv",
        str(out_csv),
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    printed = out.decode()
    assert "Conversations: 3, answered 2 (67%)" in printed
    assert "3 conversation(s) written" in printed
    with out_csv.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 4
    header = rows[0]
    by_name = {row[header.index("customer_name")]: row for row in rows[1:]}
    assert set(by_name) == {"Fast", "Slow", "Nobody"}
    first_response = header.index("first_response_seconds")
    assert int(by_name["Fast"][first_response]) == 30
    assert int(by_name["Slow"][first_response]) == 120
    assert by_name["Nobody"][first_response] == ""
    assert by_name["Fast"][header.index("rating")] == "5"


async def test_metrics_after_real_traffic(scene: ViberScene) -> None:
    status, body = await scene.http("GET", "/metrics")
    assert status == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    relayed_in = samples[
        (
            "support_bridge_messages_relayed_total",
            (("direction", "to_operators"), ("platform", "telegram")),
        )
    ]
    relayed_out = samples[
        (
            "support_bridge_messages_relayed_total",
            (("direction", "to_customer"), ("platform", "telegram")),
        )
    ]
    assert relayed_in >= 3
    assert relayed_out >= 2
    assert samples[("support_bridge_first_response_seconds_count", ())] >= 2
    assert samples[("support_bridge_open_conversations", ())] >= 1
    assert samples[("support_bridge_inbox_pending", ())] == 0
    assert ("support_bridge_webhook_seconds_count", (("platform", "telegram"),)) in samples


@pytest.mark.skipif(ON_POSTGRES, reason="the outage is simulated by moving the SQLite file away")
async def test_readyz_reports_a_database_that_is_down(tmp_path: Path) -> None:
    # A bridge of its own: dropping the pool under a running bridge can strand a periodic job
    # in the old pool's queue (SQLAlchemy wakes no waiter when a connect fails), which a real
    # outage never does, and the other tests here rely on those jobs.
    (tmp_path / "db").mkdir()
    async with viber_bridge(tmp_path / "db" / "bridge.db") as scene:
        assert await scene.http("GET", "/readyz") == (
            200,
            '{"database": "ok", "telegram": "ok", "viber": "ok", "intake": "ok"}',
        )
        engine = scene.app.engine
        assert engine is not None
        await engine.dispose()
        moved = tmp_path / "db-away"
        shutil.move(tmp_path / "db", moved)
        try:
            status, body = await scene.http("GET", "/readyz")
            assert status == 503
            assert '"database": "failing' in body
            assert await scene.http("GET", "/healthz") == (200, '{"status": "ok"}')  # still up
        finally:
            shutil.move(moved, tmp_path / "db")
        assert (await scene.http("GET", "/readyz"))[0] == 200


async def test_ratings_comment_double_and_late_presses(scene: ViberScene) -> None:
    user, topic = await conversation(scene, "Rater", answer_after=5)
    closing, stars = await close_and_rate(scene, user, topic, 4)
    await scene.in_topic(topic, text="⭐⭐⭐⭐☆ The customer rated the conversation 4/5.")
    invite = (await scene.in_chat(user, text=TEXTS.get("rating_thanks", "uk")))[0]
    assert any(b.startswith("h:skip:") for b in buttons(invite))
    await scene.customer_says(user, text="Швидко і ввічливо")
    await scene.in_topic(topic, text="💬 Rating comment: Швидко і ввічливо")
    assert scene.fake.topics[topic].closed  # a comment does not open a new conversation

    await scene.deliver(scene.fake.callback_query(user, closing, stars[0]))  # pressed again
    await scene.fake.wait_for(
        lambda: (
            scene.fake.message(user["id"], closing["message_id"])["text"]
            == TEXTS.get("rating_already", "uk")
        )
    )
    ratings = [
        m
        for m in scene.fake.sent_by_bot(scene.group, topic)
        if "rated the conversation" in m.get("text", "")
    ]
    assert len(ratings) == 1

    late_user, late_topic = await conversation(scene, "Late Rater", answer_after=5)
    before = len(scene.fake.sent_by_bot(late_user["id"]))
    await scene.operator_says(late_topic, **command("/close"))
    old_closing = await closing_message(scene, late_user, before)
    old_stars = buttons(old_closing)
    await scene.customer_says(late_user, text="one more question")  # a new conversation
    await scene.in_topic(late_topic, text="🆕 Conversation #2 started.\n\none more question")
    old = next(b for b in old_stars if action_of(b).endswith(":5"))
    await scene.deliver(scene.fake.callback_query(late_user, old_closing, old))
    await scene.in_topic(
        late_topic,
        text=(
            "⭐⭐⭐⭐⭐ The customer rated the conversation 5/5 (for the earlier conversation #1)."
        ),
    )


async def test_viber_rating_keyboard(scene: ViberScene) -> None:
    viber = scene.viber
    user = viber.add_user("Viber Rater")
    await scene.customer_sends(user, viber.text("hello"))
    topic = await scene.viber_topic(user)
    await scene.operator_says(topic, **command("/close"))
    closing = await viber.wait_for(
        lambda: [
            m
            for m in viber.received(user["id"])
            if m.get("text", "").endswith(TEXTS.get("rate_prompt", "uk"))
        ]
    )
    stars = [b["ActionBody"] for b in closing[0]["keyboard"]["Buttons"]]
    assert len(stars) == 5
    assert all(s.startswith("bridge:rate:") for s in stars)
    await scene.customer_sends(user, viber.text(stars[1]))
    await scene.in_topic(topic, text="⭐⭐☆☆☆ The customer rated the conversation 2/5.")


async def test_sla_reminder_once_then_cleared_and_queue(scene: ViberScene) -> None:
    _, first_topic = await conversation(scene, "Waiting First", answer_after=None)
    _, second_topic = await conversation(scene, "Waiting Second", answer_after=None)
    scene.clock.offset += timedelta(minutes=3)
    note = "⏰ The customer has been waiting"
    await scene.fake.wait_for(
        lambda: any(
            m.get("text", "").startswith(note)
            for m in scene.fake.sent_by_bot(scene.group, first_topic)
        )
    )
    await scene.fake.wait_for(lambda: "⏰" in scene.fake.topics[first_topic].name)
    general = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group)
            if "message_thread_id" not in m and "Waiting First" in m.get("text", "")
        ]
    )
    assert f"https://t.me/c/1234567890/{first_topic}" in general[0]["html"]

    await scene.deliver(scene.fake.operator_message(scene.operator, None, **command("/queue")))
    queue = await scene.fake.wait_for(
        lambda: [
            m
            for m in scene.fake.sent_by_bot(scene.group)
            if m.get("text", "").startswith("⏳ Waiting for an answer")
        ]
    )
    listed = queue[-1]["text"]
    assert listed.index("Waiting First") < listed.index("Waiting Second")  # longest first

    await scene.operator_says(first_topic, text="Sorry for the wait!")
    await scene.fake.wait_for(lambda: "⏰" not in scene.fake.topics[first_topic].name)
    reminders = [
        m
        for m in scene.fake.sent_by_bot(scene.group, first_topic)
        if m.get("text", "").startswith(note)
    ]
    assert len(reminders) == 1  # once, not on every check
    assert "⏰" in scene.fake.topics[second_topic].name  # still waiting: still marked
