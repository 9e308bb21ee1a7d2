"""`support-bridge demo` without a browser: the page's HTTP endpoints drive the real bridge
against the stand-ins, bad input gets a 4xx, the production settings' token, servers and
database are never used, and the command prints its one URL and stops cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.demo.clock import DemoClock
from bot.demo.server import DemoServer
from bot.demo.world import DEMO_TOKEN, NEW_NAMES, DemoWorld, demo_settings
from tests.harness import JSON, ON_POSTGRES, SOURCE_ROOT, eventually

PROGRAM = str(Path(sys.executable).parent / "support-bridge")
# The demo always has a SQLite database of its own: the PostgreSQL run would repeat this file.
pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the demo has a SQLite database of its own")
KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    world = DemoWorld(
        tmp_path_factory.mktemp("demo"),
        working_hours="24/7",
        rate_limit_chat_per_second=0,
        rate_limit_group_per_minute=0,
        rate_limit_global_per_second=0,
    )
    server = DemoServer(world, port=0)
    await server.start()
    yield server
    await server.stop()


async def call(server: DemoServer, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, server.url + path.lstrip("/"), **kwargs) as response,
    ):
        text = await response.text()
        if response.content_type == "application/json":
            return response.status, json.loads(text)
        return response.status, text


async def state(server: DemoServer) -> JSON:
    status, body = await call(server, "GET", "/state")
    assert status == 200
    return body  # type: ignore[no-any-return]


def texts(messages: list[JSON]) -> list[str]:
    return [m["text"] for m in messages]


async def until(server: DemoServer, check: Any) -> Any:
    """Wait until `check(state)` is truthy, reading the page's own /state."""
    found: list[Any] = []

    async def holds() -> bool:
        value = check(await state(server))
        found[:] = [value]
        return bool(value)

    await eventually(holds, within=15)
    return found[0]


def topic_named(snapshot: JSON, name: str) -> JSON | None:
    topics = snapshot["operators"]["groups"][0]["topics"]
    return next((t for t in topics if name in t["name"]), None)


async def test_the_page_and_its_files_are_served(demo: DemoServer) -> None:
    status, page = await call(demo, "GET", "/")
    assert status == 200
    assert "<title>support-bridge demo</title>" in page
    for name in ("demo.js", "demo.css"):
        status, _ = await call(demo, "GET", f"/static/{name}")
        assert status == 200
    assert (await call(demo, "GET", "/static/secret.py"))[0] == 404
    snapshot = await state(demo)
    assert snapshot["ready"] is True
    assert snapshot["clock"]["hours"] == "24/7"
    # the Viber customer opened the chat: the welcome with its keyboard
    assert any(b["text"] == "💬 Talk to an operator" for b in snapshot["viber"]["keyboard"])


async def test_one_round_trip_through_the_page(demo: DemoServer) -> None:
    words = "My windscreen cracked on the motorway"
    assert (await call(demo, "POST", "/api/telegram/message", json={"text": words}))[0] == 200
    topic = await until(demo, lambda s: topic_named(s, "Olha Kovalenko"))
    card = await until(
        demo,
        lambda s: next((m for m in topic_named(s, "Olha")["messages"] if words in m["text"]), None),
    )
    assert [b["text"] for b in card["buttons"][0]][:3] == ["🙋 Take", "⏳ In progress", "🔒 Close"]

    answer = "We will replace the windscreen tomorrow"
    sent = {"group": demo.world.telegram.operator_chat_id, "thread": topic["id"], "text": answer}
    assert (await call(demo, "POST", "/api/operator/message", json=sent))[0] == 200
    await until(demo, lambda s: answer in texts(s["telegram"]["messages"]))

    press = {"message_id": card["id"], "data": "card:close"}
    assert (await call(demo, "POST", "/api/operator/press", json=press))[0] == 200
    await until(demo, lambda s: s["operators"]["notice"])  # the answer to the press, a toast
    rating = await until(
        demo,
        lambda s: next((m for m in s["telegram"]["messages"] if len(m["buttons"]) == 1), None),
    )
    five = rating["buttons"][0][-1]
    assert five["text"] == "5⭐"
    press = {"message_id": rating["id"], "data": five["data"]}
    assert (await call(demo, "POST", "/api/telegram/press", json=press))[0] == 200
    thanks = "Thank you for the rating"
    await until(demo, lambda s: any(thanks in t for t in texts(s["telegram"]["messages"])))
    assert (await call(demo, "POST", "/api/telegram/press", json=press))[0] == 404  # gone


async def test_the_viber_keyboard_and_uploads(demo: DemoServer) -> None:
    snapshot = await state(demo)
    claims = next(b for b in snapshot["viber"]["keyboard"] if b["text"] == "Claims")
    assert (await call(demo, "POST", "/api/viber/press", json={"body": claims["body"]}))[0] == 200
    await until(demo, lambda s: s["viber"]["keyboard"][0]["body"] != claims["body"])
    pressed = [m for m in (await state(demo))["viber"]["messages"] if m["side"] == "mine"]
    assert pressed[-1]["text"] == "Claims"  # the button's label, not its sealed value
    assert pressed[-1]["pressed"] is True

    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 a claim form", filename="claim.pdf")
    assert (await call(demo, "POST", "/api/viber/file", data=form))[0] == 200
    form = aiohttp.FormData()
    form.add_field("file", b"\x89PNG\r\n\x1a\nnot really", filename="dent.png")
    assert (await call(demo, "POST", "/api/telegram/file", data=form))[0] == 200

    def photo_in_topic(s: JSON) -> JSON | None:
        topic = topic_named(s, "Olha") or {"messages": []}
        return next((m["media"] for m in topic["messages"] if "media" in m), None)

    media = await until(demo, photo_in_topic)
    async with aiohttp.ClientSession() as session, session.get(demo.url + media["url"][1:]) as got:
        assert got.status == 200
        assert await got.read() == b"\x89PNG\r\n\x1a\nnot really"
    await until(demo, lambda s: topic_named(s, "Mykola Shevchuk · Viber"))


async def test_a_business_customer_writes_to_the_account_and_is_answered_from_it(
    demo: DemoServer,
) -> None:
    snapshot = await state(demo)
    assert snapshot["business"]["account"] == "Olena (@insure_ua)"
    customer = snapshot["business"]["customer"]
    # the account connected at start: General says so
    await until(demo, lambda s: any("is connected" in m["text"] for m in general(s)))

    words = "Does the policy cover a broken side mirror"
    assert (await call(demo, "POST", "/api/business/message", json={"text": words}))[0] == 200
    topic = await until(demo, lambda s: topic_named(s, customer))
    assert "Telegram Business" in topic["name"]
    card = await until(demo, lambda s: message_with(topic_named(s, customer), words))
    assert "Platform: Telegram Business" in card["text"]
    assert "Olena (@insure_ua)" in card["text"]

    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 the mirror's receipt", filename="receipt.pdf")
    assert (await call(demo, "POST", "/api/business/file", data=form))[0] == 200
    await until(demo, lambda s: any("media" in m for m in topic_of(s, customer)["messages"]))

    answer = "Yes, mirrors are covered; send us a photo"
    sent = {"group": demo.world.telegram.operator_chat_id, "thread": topic["id"], "text": answer}
    assert (await call(demo, "POST", "/api/operator/message", json=sent))[0] == 200
    shown = await until(demo, lambda s: message_with(s["business"], answer))
    assert shown["side"] == "account"
    assert shown["sender"] == "Olena (@insure_ua)"  # from the account, written by the bot
    assert shown["by_bot"] is True
    assert answer not in texts((await state(demo))["telegram"]["messages"])
    # the operator answered: the customer's messages are marked read
    await until(demo, lambda s: (message_with(s["business"], words) or {}).get("read"))

    by_hand = "Olena here: I will call you in five minutes"
    assert (await call(demo, "POST", "/api/business/owner", json={"text": by_hand}))[0] == 200
    await until(demo, lambda s: message_with(topic_named(s, customer), by_hand))
    assert (message_with(await state(demo), by_hand, "business") or {})["by_bot"] is False

    sent = {**sent, "text": "/close"}
    assert (await call(demo, "POST", "/api/operator/message", json=sent))[0] == 200
    rating = await until(
        demo, lambda s: next((m for m in s["business"]["messages"] if m["buttons"]), None)
    )
    five = rating["buttons"][0][-1]
    press = {"message_id": rating["id"], "data": five["data"]}
    assert (await call(demo, "POST", "/api/business/press", json=press))[0] == 200
    await until(demo, lambda s: message_with(s["business"], "Thank you for the rating"))
    await until(demo, lambda s: message_with(topic_named(s, customer), "rated the conversation"))


async def test_new_customers_get_topics_of_their_own(demo: DemoServer) -> None:
    first = (await state(demo))["telegram"]["customer"]
    assert (await call(demo, "POST", "/api/telegram/message", json={"text": "Hello"}))[0] == 200
    await until(demo, lambda s: topic_named(s, first))

    assert (await call(demo, "POST", "/api/telegram/new-customer", json={}))[0] == 200
    snapshot = await state(demo)
    second = snapshot["telegram"]["customer"]
    assert second != first
    assert second.split()[0] in {name for name, _ in NEW_NAMES}
    assert snapshot["telegram"]["messages"] == []  # a new person: an empty chat
    words = "I am a new customer with a flat tyre"
    assert (await call(demo, "POST", "/api/telegram/message", json={"text": words}))[0] == 200
    topic = await until(demo, lambda s: topic_named(s, second))
    await until(demo, lambda s: message_with(topic_named(s, second), words))
    assert topic_of(await state(demo), first)["id"] != topic["id"]  # both topics stay

    viber_before = (await state(demo))["viber"]["customer"]
    assert (await call(demo, "POST", "/api/viber/new-customer", json={}))[0] == 200
    snapshot = await state(demo)
    assert snapshot["viber"]["customer"] not in (viber_before, first, second)
    # the new person opened the chat: the bot's welcome with its keyboard, and nothing older
    await until(demo, lambda s: s["viber"]["keyboard"])
    assert [m["side"] for m in (await state(demo))["viber"]["messages"]] == ["bot"]

    business_before = (await state(demo))["business"]["customer"]
    assert (await call(demo, "POST", "/api/business/new-customer", json={}))[0] == 200
    snapshot = await state(demo)
    assert snapshot["business"]["customer"] != business_before
    assert snapshot["business"]["messages"] == []


def topic_of(snapshot: JSON, name: str) -> JSON:
    topic = topic_named(snapshot, name)
    assert topic is not None, f"no topic named {name}"
    return topic


def general(snapshot: JSON) -> list[JSON]:
    return snapshot["operators"]["groups"][0]["topics"][0]["messages"]  # type: ignore[no-any-return]


def message_with(chat: JSON | None, words: str, pane: str | None = None) -> JSON | None:
    """The message of a topic or pane (`pane` of a whole snapshot) whose text has `words`."""
    if chat is None:
        return None
    messages = (chat[pane] if pane else chat)["messages"]
    return next((m for m in messages if words in m["text"]), None)


JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
BAD_MOVES = [
    # (path, body: JSON, or (bytes, content type), status, what the answer says)
    ("/api/telegram/message", (b"{not json", JSON_TYPE), 400, "not valid JSON"),
    ("/api/telegram/message", ["a list"], 400, "JSON object"),
    ("/api/telegram/message", (b"text=hi", FORM_TYPE), 415, "JSON"),
    ("/api/telegram/message", {"text": ""}, 400, '"text"'),
    ("/api/telegram/message", {"text": "x" * 5000}, 400, "longer than"),
    ("/api/telegram/press", {"message_id": 999999, "data": "h:x"}, 404, "no such button"),
    ("/api/telegram/press", {"message_id": "1", "data": "h:x"}, 400, "whole number"),
    ("/api/viber/press", {"body": "bridge:forged"}, 404, "no such button"),
    ("/api/business/message", {"text": "  "}, 400, '"text"'),
    ("/api/business/press", {"message_id": 10001, "data": "h:x"}, 404, "no such button"),
    ("/api/business/press", {"data": "h:x"}, 400, "whole number"),
    ("/api/business/owner", {"text": 5}, 400, '"text"'),
    ("/api/business/file", (b"caption=no+file", FORM_TYPE), 400, "attach a file"),
    ("/api/whatsapp/new-customer", {}, 404, "no such customer pane"),
    ("/api/telegram/new-customer", (b"", FORM_TYPE), 415, "JSON"),
    ("/api/operator/message", {"group": -42, "text": "hi"}, 404, "no such operator group"),
    ("/api/operator/message", {"thread": 987654, "text": "hi"}, 404, "no such topic"),
    ("/api/operator/press", {"message_id": 5, "data": "card:close"}, 404, "no such button"),
    ("/api/clock", {"minutes": 0}, 400, "from 1"),
    ("/api/clock", {"minutes": True}, 400, "whole number"),
    ("/api/clock", {"weekday": "someday", "time": "20:00"}, 400, "weekday"),
    ("/api/clock", {"weekday": "sat", "time": "25:99"}, 400, "20:00"),
    ("/api/telegram/file", {"file": "x"}, 415, "multipart"),
    ("/api/viber/file", (b"caption=no+file", FORM_TYPE), 400, "attach a file"),
    ("/api/viber/file", (b"--x\r\nbroken", "multipart/form-data; boundary=x"), 400, "malformed"),
]


@pytest.mark.parametrize(("path", "body", "status", "says"), BAD_MOVES)
async def test_bad_moves_get_a_clear_4xx(
    demo: DemoServer, path: str, body: Any, status: int, says: str
) -> None:
    if isinstance(body, tuple):
        data, kind = body
        answer_status, answer = await call(
            demo, "POST", path, data=data, headers={"Content-Type": kind}
        )
    else:
        answer_status, answer = await call(demo, "POST", path, json=body)
    assert answer_status == status
    assert says in answer["error"]


async def test_moves_from_another_sites_page_are_refused(demo: DemoServer) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"GIF89a", filename="x.gif")
    headers = {"Origin": "https://elsewhere.example"}
    status, answer = await call(demo, "POST", "/api/telegram/file", data=form, headers=headers)
    assert status == 403
    assert "own page" in answer["error"]
    own = {"Origin": demo.url.rstrip("/")}
    status, _ = await call(demo, "POST", "/api/clock", json={"minutes": 1}, headers=own)
    assert status == 200


async def test_unknown_files_are_404(demo: DemoServer) -> None:
    for path in ("/files/telegram/no-such-file", "/files/viber/999", "/files/viber/minus"):
        assert (await call(demo, "GET", path))[0] == 404


async def test_the_clock_moves_forward_only_and_the_page_hears_of_it(demo: DemoServer) -> None:
    before = demo.world.clock.now()
    async with (
        aiohttp.ClientSession() as session,
        session.get(demo.url + "events") as events,
    ):
        first = await events.content.readuntil(b"\n\n")
        assert first.startswith(b"event: state\ndata: {")
        status, body = await call(demo, "POST", "/api/clock", json={"minutes": 90})
        assert status == 200
        assert datetime.fromisoformat(body["now"]) - before >= timedelta(minutes=90)
        moved = json.loads((await events.content.readuntil(b"\n\n")).split(b"data: ", 1)[1])
        assert datetime.fromisoformat(moved["clock"]["now"]) >= before + timedelta(minutes=90)
    status, body = await call(demo, "POST", "/api/clock", json={"weekday": "sat", "time": "20:00"})
    assert status == 200
    moment = datetime.fromisoformat(body["now"]).astimezone(KYIV)
    assert (moment.weekday(), moment.hour, moment.minute) == (5, 20, 0)


def test_the_clock_jumps_to_the_next_such_moment() -> None:
    real = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)  # Saturday 20:00 in Kyiv
    clock = DemoClock(lambda: real)
    seen: list[datetime] = []
    clock.listeners.append(lambda: seen.append(clock.now()))
    assert clock.advance_to("sat", time(20, 0), KYIV) == real + timedelta(days=7)
    assert clock.advance_to("mon", time(9, 30), KYIV) == datetime(2026, 3, 16, 7, 30, tzinfo=UTC)
    assert len(seen) == 2
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(0))


def test_the_demo_never_uses_the_production_token_servers_or_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    production = {
        "TELEGRAM_BOT_TOKEN": "987654321:production-token-never-to-be-used",
        "OPERATOR_CHAT_ID": "-1009999999999",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'production.db'}",
        "PUBLIC_URL": "https://support.example.com",
        "REDIS_URL": "redis://production:6379/0",
        "VIBER_AUTH_TOKEN": "production-viber-token",
        "WORKING_HOURS": "mon-sat 09:00-13:00",
    }
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    settings = demo_settings()
    assert settings.telegram_bot_token == DEMO_TOKEN
    assert settings.database_url != production["DATABASE_URL"]
    assert settings.public_url is None
    assert settings.redis_url is None
    assert settings.viber_auth_token is None
    assert settings.working_hours == "mon-sat 09:00-13:00"  # the company's own hours count
    world = DemoWorld(tmp_path / "demo")
    assert world.settings.database_url != production["DATABASE_URL"]
    assert world.telegram.operator_chat_id != int(production["OPERATOR_CHAT_ID"])


async def test_departments_get_groups_of_their_own(tmp_path: Path) -> None:
    departments = tmp_path / "departments.yaml"
    departments.write_text(
        "default: support\n"
        "departments:\n"
        "  - id: support\n"
        "    name: {uk: Підтримка, en: Support}\n"
        "    group: -1002000000001\n"
        "  - id: claims\n"
        "    name: {uk: Виплати, en: Claims}\n"
        "    group: -1002000000002\n"
        "    faq: [claims]\n",
        encoding="utf-8",
    )
    world = DemoWorld(tmp_path, departments_file=departments)
    assert world.settings.operator_chat_id == -1002000000001
    assert {chat: group.title for chat, group in world.telegram.groups.items()} == {
        -1002000000001: "Support",
        -1002000000002: "Claims",
    }


async def test_the_command_prints_one_url_serves_the_page_and_stops(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SOURCE_ROOT,
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'production.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        PROGRAM,
        "demo",
        "--port",
        "0",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        async with aiohttp.ClientSession() as session, session.get(found.group(0)) as response:
            assert response.status == 200
            assert "support-bridge demo" in await response.text()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == []  # noqa: ASYNC240
