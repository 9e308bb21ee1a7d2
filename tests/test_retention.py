"""End to end: what the running bridge forgets, and when, as its clock moves on.

One story on the real app (fake Telegram and fake Viber over HTTP, the clock moved forward):
a Telegram customer's conversation with a rating comment, a Viber customer who gets a file
(a media link) and, two days later, a message held back. Each window is checked on both
sides of its edge by reading every table: expired media links go at once, finished
deliveries after a day, handled updates after seven, and with RETENTION_DAYS=30 the message
links, the rating comment, the words under the cards and the held message after thirty.
/stats reports the same figures before and after, the retention log line has counts only,
and words written since are kept.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.storage.tables import ConversationRow, CustomerRow, MessageLinkRow
from tests.buttons import stars
from tests.harness import JSON, eventually
from tests.stored_rows import all_rows, holding
from tests.viber_harness import ViberScene, viber_bridge

FIRST_WORDS = "Мій поліс AB-1234567 загубився"
ANSWER = "Надішлемо новий поліс сьогодні"
COMMENT = "Дякую, все швидко"
VIBER_WORDS = "Потрібна копія договору 77-55"
PHOTO_CAPTION = "Копія договору 77-55"
HELD = "Договір продовжено до травня"
LATER = "Новий поліс отримала"
OLD = (FIRST_WORDS, ANSWER, COMMENT, VIBER_WORDS, PHOTO_CAPTION, HELD)


def command(text: str) -> JSON:
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


async def stats(scene: ViberScene, period: str) -> list[str]:
    """The /stats report's lines below its heading and period (which move with the clock)."""
    asked = await scene.deliver(
        scene.fake.operator_message(scene.operator, None, **command(f"/stats {period}"))
    )
    report = await scene.fake.wait_for(
        lambda: next(
            (
                m
                for m in scene.fake.sent_by_bot(scene.group)
                if (m.get("reply_to_message") or {}).get("message_id") == asked["message_id"]
            ),
            None,
        )
    )
    lines: list[str] = report["text"].splitlines()
    assert lines[0] == "Service report"
    return lines[2:]


async def tables_holding(engine: AsyncEngine, words: str) -> set[str]:
    return holding(await all_rows(engine), words)


async def wait_until_held_in(engine: AsyncEngine, words: str, tables: set[str]) -> None:
    async def held_just_there() -> bool:
        return await tables_holding(engine, words) == tables

    try:
        await eventually(held_just_there, within=20)
    except AssertionError:
        found = await tables_holding(engine, words)
        raise AssertionError(
            f"{words!r} is in {sorted(found)}, expected {sorted(tables)}"
        ) from None


async def stored_links(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(MessageLinkRow)) or 0)


async def test_each_window_forgets_on_time_and_stats_keep_their_figures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.retention")
    async with viber_bridge(
        tmp_path / "bridge.db",
        retention_days=30,
        retention_check_seconds=0.1,
        viber_outside_window="confirm",
        rating_enabled=True,
    ) as scene:
        fake, viber = scene.fake, scene.viber
        engine = scene.app.engine
        assert engine is not None
        olha = fake.add_user("Olha Retained")
        await scene.customer_says(olha, text=FIRST_WORDS)
        topic = await scene.topic_of(olha)
        await scene.operator_says(topic, text=ANSWER)
        await scene.in_chat(olha, text=ANSWER)
        await scene.operator_says(topic, **command("/close"))
        closing = (
            await scene.fake.wait_for(
                lambda: [m for m in fake.sent_by_bot(olha["id"]) if stars(m, 4)]
            )
        )[0]
        await scene.deliver(fake.callback_query(olha, closing, stars(closing, 4)))
        await scene.in_topic(topic, text="⭐⭐⭐⭐☆ The customer rated the conversation 4/5.")
        await scene.customer_says(olha, text=COMMENT)
        await scene.in_topic(topic, text=f"💬 Rating comment: {COMMENT}")

        petro = viber.add_user("Petro Retained")
        await scene.customer_sends(petro, viber.text(VIBER_WORDS))
        petro_topic = await scene.viber_topic(petro)
        await scene.operator_says(
            petro_topic, photo=fake.photo(b"\xff\xd8\xff\xe0contract"), caption=PHOTO_CAPTION
        )
        await scene.received(petro, type="picture")
        await scene.settled()
        links = await stored_links(engine)
        assert links >= 4

        # Two days on: the file's link (24 hours) is gone; a finished delivery (a day) too.
        scene.clock.offset = timedelta(days=2)
        await wait_until_held_in(engine, PHOTO_CAPTION, {"message_links", "inbox"})
        assert await stored_links(engine) == links
        assert (await all_rows(engine))["media_links"] == []
        await wait_until_held_in(engine, ANSWER, {"message_links", "inbox"})
        await wait_until_held_in(engine, FIRST_WORDS, {"message_links", "customers", "inbox"})
        await wait_until_held_in(engine, COMMENT, {"conversations", "inbox"})
        # Viber's free window is over: the operator's message waits for "Send anyway".
        await scene.operator_says(petro_topic, text=HELD)
        await scene.fake.wait_for(
            lambda: any("held" in m.get("text", "") for m in fake.sent_by_bot(scene.group))
        )
        await scene.settled()
        before = await stats(scene, "60d")
        assert "Conversations: 2, answered 2 (100%)" in before
        assert any(line.startswith("Iryna") for line in before), before

        # Nine days on: handled updates (seven days) are gone; words in the map stay.
        scene.clock.offset = timedelta(days=9)
        await wait_until_held_in(engine, FIRST_WORDS, {"message_links", "customers"})
        await wait_until_held_in(engine, ANSWER, {"message_links"})
        await wait_until_held_in(engine, COMMENT, {"conversations"})
        await wait_until_held_in(engine, HELD, {"held_messages"})
        assert await stored_links(engine) == links

        # Thirty-three days on: RETENTION_DAYS=30 has passed for all of it.
        scene.clock.offset = timedelta(days=33)
        for words in OLD:
            await wait_until_held_in(engine, words, set())
        assert await stored_links(engine) == 0
        async with engine.connect() as connection:
            rated = (
                await connection.execute(
                    select(
                        ConversationRow.rating,
                        ConversationRow.rating_comment,
                        ConversationRow.closed_at,
                    ).where(ConversationRow.rating.is_not(None))
                )
            ).all()
            cards = (await connection.execute(select(CustomerRow.card_body))).scalars().all()
        assert [(r.rating, r.rating_comment) for r in rated] == [(4, None)]
        assert rated[0].closed_at is not None
        assert cards == [None, None]
        assert await stats(scene, "60d") == before  # the same figures from the tallies

        # Words written now are kept, however often the job runs.
        await scene.customer_says(olha, text=LATER)
        await scene.shows(topic, LATER)
        await scene.settled()
        runs = len(caplog.records)

        async def ran_thrice_more() -> bool:
            return len(caplog.records) >= runs + 3

        await eventually(ran_thrice_more)
        assert await tables_holding(engine, LATER) >= {"message_links", "inbox"}

    lines = [r.getMessage() for r in caplog.records if r.name == "bridge.retention"]
    assert all(r.levelno == logging.INFO for r in caplog.records)
    assert all(line.startswith("retention: deleted ") for line in lines)
    deleted = sum(int(line.split("deleted ")[1].split(" ")[0]) for line in lines)
    assert deleted == links  # every link once: none twice, however many runs
    for words in (*OLD, LATER, "Olha", "Petro"):
        assert all(words not in line for line in lines)
