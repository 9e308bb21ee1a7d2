"""End to end: `support-bridge forget-customer` and `export-customer`, run as programs beside
a running bridge (the real app on the same database, fake Telegram and fake Viber over HTTP).

An erasure leaves no cell in any table holding the customer's id, name or anything written in
their conversation, changes no other row, deletes their topic when asked (or says in one
sentence that Telegram refused) and the bridge goes on: others are served, the erased customer
comes back as a new one. An export holds what they wrote and what was answered, and nobody
else's words. Unknown customers, wrong arguments and bad settings end with one clear sentence.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.buttons import stars
from tests.harness import JSON, SOURCE_ROOT, database_url
from tests.stored_rows import Rows, all_rows, cell_text, cells_with
from tests.viber_harness import ViberScene, viber_bridge

PROGRAM = str(Path(sys.executable).parent / "support-bridge")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("requests"))


@pytest.fixture(scope="module")
async def scene(folder: Path) -> AsyncIterator[ViberScene]:
    (folder / "db").mkdir()
    async with viber_bridge(
        folder / "db" / "bridge.db",
        sla_first_response_seconds=60,
        sla_check_seconds=0.1,
        sla_alert_general=True,  # the line in General names the customer
    ) as scene:
        yield scene


def environment(scene: ViberScene, folder: Path, **values: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SOURCE_ROOT,
        "HOME": str(folder),
        "TELEGRAM_BOT_TOKEN": scene.fake.token,
        "OPERATOR_CHAT_ID": str(scene.fake.operator_chat_id),
        "TELEGRAM_API_URL": scene.fake.url,
        "DATABASE_URL": database_url(folder / "db" / "bridge.db"),
        **values,
    }


async def run(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PROGRAM,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8"), err.decode("utf-8")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def command(text: str) -> JSON:
    word = text.split()[0]
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}


async def story(
    scene: ViberScene, first: str, last: str, words: tuple[str, ...]
) -> tuple[JSON, int]:
    """A Telegram customer writes `words[:-2]`, waits past the SLA (a reminder, and a line in
    General naming them), gets `words[-2]` as the answer, the conversation is closed, they rate
    it 5 stars and comment `words[-1]`."""
    fake = scene.fake
    user = fake.add_user(first, last_name=last)
    *theirs, answer, comment = words
    for text in theirs:
        await scene.customer_says(user, text=text)
    topic = await scene.topic_of(user)
    await scene.shows(topic, theirs[-1])
    scene.clock.offset += timedelta(minutes=2)
    await fake.wait_for(
        lambda: any(
            f"{first} {last}" in m.get("text", "") and "message_thread_id" not in m
            for m in fake.sent_by_bot(scene.group)
        )
    )
    await scene.operator_says(topic, text=answer)
    await scene.in_chat(user, text=answer)
    await scene.operator_says(topic, **command("/close"))
    closing = (
        await fake.wait_for(lambda: [m for m in fake.sent_by_bot(user["id"]) if stars(m, 5)])
    )[0]
    await scene.deliver(fake.callback_query(user, closing, stars(closing, 5)))
    await scene.customer_says(user, text=comment)
    await scene.in_topic(topic, text=f"💬 Rating comment: {comment}")
    await scene.settled()
    return user, topic


def customer_id(rows: Rows, platform: str, external_id: str) -> int:
    found = [
        r["id"]
        for r in rows["customers"]
        if (r["platform"], r["external_id"]) == (platform, external_id)
    ]
    assert len(found) == 1, found
    return int(found[0])


def without(rows: Rows, platform: str, external_id: str, mentions: list[str]) -> Rows:
    """Every row that is not about this customer (by id, lane, destination or mention)."""
    number = customer_id(rows, platform, external_id)
    lane = f"{'tg' if platform == 'telegram' else platform}:{external_id}"
    destination = f"{platform}:{external_id}"
    conversations = {r["id"] for r in rows["conversations"] if r["customer_id"] == number}

    def theirs(table: str, row: dict[str, Any]) -> bool:
        if any(m in cell_text(v) for v in row.values() for m in mentions):
            return True
        return (
            (table == "customers" and row["id"] == number)
            or row.get("customer_id") == number
            or (table == "message_tallies" and row["conversation_id"] in conversations)
            or row.get("lane") == lane
            or row.get("destination") == destination
        )

    return {
        table: [row for row in records if not theirs(table, row)]
        for table, records in rows.items()
        if table != "leases"  # renewed by the running bridge meanwhile
    }


def comparable(rows: Rows) -> dict[str, list[str]]:
    """Rows as sorted text: PostgreSQL returns them in no particular order."""
    return {table: sorted(cell_text(row) for row in records) for table, records in rows.items()}


async def test_forget_customer_erases_every_row_about_them_and_nothing_else(
    scene: ViberScene, folder: Path
) -> None:
    fake, viber = scene.fake, scene.viber
    engine = scene.app.engine
    assert engine is not None
    hers = (
        "Мій поліс KX-4471 не дійшов",
        "Номер авто АА 1234 ВС",
        "Поліс KX-4471 надіслано ще раз",
        "Тепер усе гаразд",
    )
    olha, topic = await story(scene, "Olha", "Forgotten", hers)
    others = ("Питання про франшизу Б-88", "Уточню франшизу Б-88", "Франшиза 500 грн", "Ясно")
    _, bohdan_topic = await story(scene, "Bohdan", "Kept", others)
    vasyl = viber.add_user("Vasyl Kept")
    await scene.customer_sends(vasyl, viber.text("Надішліть бланк В-12"))
    vasyl_topic = await scene.viber_topic(vasyl)
    await scene.operator_says(vasyl_topic, document=fake.document("form-v12.pdf", b"%PDF v12"))
    await scene.received(vasyl, type="file")
    await scene.settled()

    her_id = str(olha["id"])
    mentions = [her_id, "Olha Forgotten", *hers]
    before = await all_rows(engine)
    found = {table for table, _, _ in cells_with(before, mentions)}
    # the scan sees her where she is: words, profile, commands, deliveries (General's line too)
    assert {"customers", "conversations", "message_links", "inbox", "outbox"} <= found, found
    assert any(
        "Olha Forgotten" in cell_text(r["payload"])
        for r in before["outbox"]
        if r["lane"] == "general"
    )
    expected = without(before, "telegram", her_id, mentions)

    env = environment(scene, folder)
    code, out, err = await run(env, folder, "forget-customer", "telegram", her_id, "--delete-topic")
    assert code == 0, err
    assert lines(out) == [
        f"Erased telegram customer {her_id}: 1 conversation (1 rated), 3 messages, "
        f"{sum(1 for r in before['inbox'] if r['lane'] == f'tg:{her_id}')} stored updates, "
        f"{len(before['outbox']) - len(expected['outbox'])} deliveries, 0 media links and "
        f"0 held messages; their topic {topic} was deleted."
    ]
    logged = lines(err)
    assert len(logged) == 1, err
    assert f"customer telegram:{her_id} erased at " in logged[0]
    assert all(words not in err for words in ("Olha", *hers))
    assert fake.topics[topic].deleted

    after = await all_rows(engine)
    assert cells_with(after, mentions) == []
    assert comparable({t: r for t, r in after.items() if t != "leases"}) == comparable(expected)

    # The bridge goes on: others are served, and she comes back as a new customer.
    await scene.customer_sends(vasyl, viber.text("Бланк отримав"))
    await scene.shows(vasyl_topic, "Бланк отримав")
    await scene.customer_says(olha, text="Я знову тут")
    new_topic = await scene.topic_of(olha)
    assert new_topic not in (topic, bohdan_topic)
    await scene.shows(new_topic, "Я знову тут")
    assert "Earlier conversations: 0" in fake.sent_by_bot(scene.group, new_topic)[0]["text"]


async def test_export_customer_holds_what_they_wrote_and_what_was_answered(
    scene: ViberScene, folder: Path
) -> None:
    fake, viber = scene.fake, scene.viber
    hers = (
        "Страховий випадок №С-301",
        "Фото пошкоджень надішлю",
        "Випадок С-301 прийнято",
        "Щиро дякую",
    )
    marta, topic = await story(scene, "Марта", "Експорт", hers)
    petro = viber.add_user("Petro Exported")
    await scene.customer_sends(petro, viber.text("Де мій договір Д-9?"))
    petro_topic = await scene.viber_topic(petro)
    await scene.operator_says(petro_topic, document=fake.document("contract-d9.pdf", b"%PDF d9"))
    await scene.received(petro, type="file")
    await scene.settled()
    env = environment(scene, folder)

    output = folder / "marta.json"
    code, out, err = await run(
        env, folder, "export-customer", "telegram", str(marta["id"]), "--output", str(output)
    )
    assert code == 0, err
    assert lines(out) == [
        f"Exported telegram customer {marta['id']}: 1 conversation, 3 messages and "
        f"0 media links, to {output}."
    ]
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    logged = lines(err)
    assert len(logged) == 1 and f"customer telegram:{marta['id']} exported at " in logged[0], err
    assert all(words not in err for words in ("Марта", *hers))
    raw = output.read_text(encoding="utf-8")
    assert "Марта Експорт" in raw  # UTF-8, not \\u escapes
    document = json.loads(raw)
    assert document["customer"]["id"] == str(marta["id"])
    assert document["customer"]["name"] == "Марта Експорт"
    assert document["customer"]["topic_id"] == topic
    assert document["customer"]["first_contact"]
    [conversation] = document["conversations"]
    assert (conversation["rating"], conversation["rating_comment"]) == (5, hers[-1])
    assert conversation["closed_at"] and conversation["first_answer_at"]
    said = [(m["from"], m["text"], m["conversation"]) for m in document["messages"]]
    assert ("customer", hers[0], 1) in said
    assert ("customer", hers[1], 1) in said
    assert ("operator", hers[2], 1) in said
    assert all(m["at"] for m in document["messages"])
    assert "Д-9" not in raw and "Petro" not in raw and "Olha" not in raw

    code, out, err = await run(env, folder, "export-customer", "viber", petro["id"])
    assert code == 0, err
    exported = json.loads(out)
    assert exported["customer"]["name"] == "Petro Exported"
    assert ("customer", "Де мій договір Д-9?") in [
        (m["from"], m["text"]) for m in exported["messages"]
    ]
    [link] = exported["media_links"]
    assert (link["file_name"], link["mime_type"]) == ("contract-d9.pdf", "application/pdf")
    assert "С-301" not in out

    # Without --delete-topic the topic stays; afterwards there is nobody to export.
    code, out, err = await run(env, folder, "forget-customer", "telegram", str(marta["id"]))
    assert code == 0, err
    assert lines(out)[0].endswith(
        f"their topic {topic} stays in the group (--delete-topic deletes it)."
    )
    assert not fake.topics[topic].deleted
    code, out, err = await run(env, folder, "export-customer", "telegram", str(marta["id"]))
    assert (code, out) == (1, "")
    assert lines(err) == [
        f"support-bridge: no telegram customer has the id {marta['id']}; nothing was done."
    ]


async def test_a_topic_telegram_will_not_delete_stays_and_the_rows_still_go(
    scene: ViberScene, folder: Path
) -> None:
    hers = ("Зміна адреси на вул. Липова 7", "Адресу Липова 7 змінено", "Добре")
    ivan, topic = await story(scene, "Ivan", "Refused", ("Нова адреса потрібна", *hers))
    engine = scene.app.engine
    assert engine is not None
    scene.fake.bot_can_delete_messages = False  # only "manage topics", as the set-up asks
    try:
        code, out, err = await run(
            environment(scene, folder),
            folder,
            "forget-customer",
            "telegram",
            str(ivan["id"]),
            "--delete-topic",
        )
    finally:
        scene.fake.bot_can_delete_messages = True
    assert code == 3, err
    assert lines(out)[0].endswith(f"their topic {topic} was not deleted.")
    refusal = [line for line in lines(err) if line.startswith("support-bridge:")]
    assert refusal == [
        f"support-bridge: Telegram refused to delete topic {topic} (Bad Request: "
        "CHAT_ADMIN_REQUIRED): give the bot the right to delete messages, or delete the topic "
        "in the group."
    ]
    assert not scene.fake.topics[topic].deleted
    assert cells_with(await all_rows(engine), [str(ivan["id"]), "Ivan Refused", *hers]) == []


async def test_a_telegram_business_customer_is_erased_by_connection_and_chat(
    scene: ViberScene, folder: Path
) -> None:
    fake = scene.fake
    connection, update = fake.connect_business()
    await scene.deliver(update)
    marta = fake.add_user("Marta Business", language_code="uk")
    words = "Мій поліс BZ-9051 для компанії"
    await scene.deliver(fake.business_message(connection, marta, text=words))
    topic = await scene.topic_of(marta)
    await scene.shows(topic, words)
    await scene.operator_says(topic, text="Поліс BZ-9051 знайдено")
    await fake.wait_for(lambda: fake.business_read(connection, marta["id"]) is not None)
    await scene.settled()
    engine = scene.app.engine
    assert engine is not None
    mentions = [f"{connection}:{marta['id']}", "Marta Business", words, "Поліс BZ-9051 знайдено"]
    assert cells_with(await all_rows(engine), mentions)

    external_id = f"{connection}:{marta['id']}"
    code, out, err = await run(
        environment(scene, folder), folder, "forget-customer", "business", external_id
    )
    assert code == 0, err
    assert lines(out)[0].startswith(f"Erased business customer {external_id}: 1 conversation")
    assert cells_with(await all_rows(engine), mentions) == []


async def test_unknown_customers_wrong_arguments_and_bad_settings_say_so_in_a_sentence(
    scene: ViberScene, folder: Path
) -> None:
    env = environment(scene, folder)
    code, out, err = await run(env, folder, "forget-customer", "telegram", "123456")
    assert (code, out) == (1, "")
    assert lines(err) == [
        "support-bridge: no telegram customer has the id 123456; nothing was done."
    ]
    code, _, err = await run(env, folder, "forget-customer", "whatsapp", "1")
    assert code == 2
    assert "argument platform: invalid choice: 'whatsapp'" in err
    code, _, err = await run(env, folder, "export-customer", "telegram")
    assert code == 2
    assert "the following arguments are required: id" in err
    code, out, err = await run(
        {**env, "RETENTION_DAYS": "0"}, folder, "forget-customer", "telegram", "1"
    )
    assert (code, out) == (2, "")
    assert lines(err) == [
        "support-bridge: RETENTION_DAYS is invalid (input should be greater than or equal to "
        "1): fix it in .env or the environment."
    ]
    code, out, _ = await run(env, folder, "--help")
    assert code == 0
    assert "forget-customer" in out and "export-customer" in out
