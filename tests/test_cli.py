"""The real `support-bridge` program: bad configuration ends with one clear sentence, a good one
runs, answers /healthz, keeps secrets out of its logs and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bridge.texts import Texts
from standins.telegram import FakeTelegram
from tests.harness import SOURCE_ROOT, TOKEN, eventually, free_port

PROGRAM = str(Path(sys.executable).parent / "support-bridge")


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


def environment(fake: FakeTelegram, tmp_path: Path, **values: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SOURCE_ROOT,
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "OPERATOR_CHAT_ID": str(fake.operator_chat_id),
        "TELEGRAM_API_URL": fake.url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
    }
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


async def healthy(env: dict[str, str]) -> bool:
    """The started program answers /healthz with 200."""
    url = f"http://127.0.0.1:{env['HTTP_PORT']}/healthz"
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def serve_then_sigterm(
    fake: FakeTelegram,
    env: dict[str, str],
    cwd: Path,
    *command: str,
    while_up: Callable[[], Awaitable[None]] | None = None,
) -> tuple[int, str]:
    """Start the program in webhook mode, wait until healthy, do `while_up`, stop; (code, log)."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # a cold start imports aiogram's hundreds of pydantic models: seconds on a slow machine
    await fake.wait_for(
        lambda: fake.webhook["url"] == f"{env['PUBLIC_URL']}/telegram/webhook", timeout=60
    )
    await eventually(lambda: healthy(env), within=30)
    if while_up is not None:
        await while_up()
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def run_program(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PROGRAM,
        *(args or ("run",)),
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def expect_refusal(env: dict[str, str], cwd: Path, *phrases: str) -> str:
    code, _, err = await run_program(env, cwd)
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


async def test_missing_token(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, TELEGRAM_BOT_TOKEN=None)
    await expect_refusal(env, tmp_path, "TELEGRAM_BOT_TOKEN is not set", "@BotFather")


async def test_malformed_token_and_chat_id(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, TELEGRAM_BOT_TOKEN="not-a-token")
    line = await expect_refusal(env, tmp_path, "TELEGRAM_BOT_TOKEN is invalid")
    assert "not-a-token" not in line
    env = environment(fake, tmp_path, OPERATOR_CHAT_ID="12345")
    await expect_refusal(env, tmp_path, "OPERATOR_CHAT_ID is invalid", "negative")
    env = environment(fake, tmp_path, OPERATOR_CHAT_ID=None)
    await expect_refusal(env, tmp_path, "OPERATOR_CHAT_ID is not set")


async def test_viber_settings(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, VIBER_AUTH_TOKEN="4f1b2c3d4e5f6a7b-secret")
    line = await expect_refusal(env, tmp_path, "VIBER_AUTH_TOKEN is set but PUBLIC_URL is not")
    assert "4f1b2c3d4e5f6a7b-secret" not in line
    env = environment(
        fake,
        tmp_path,
        VIBER_AUTH_TOKEN="4f1b2c3d4e5f6a7b-secret",
        PUBLIC_URL="https://bridge.example",
        VIBER_BOT_NAME="An insurance company support bot",
    )
    await expect_refusal(env, tmp_path, "VIBER_BOT_NAME is invalid", "28")


async def test_token_rejected_by_telegram(fake: FakeTelegram, tmp_path: Path) -> None:
    other = "987654321:AAF-some-other-token-nobody-knows_xyz"
    env = environment(fake, tmp_path, TELEGRAM_BOT_TOKEN=other)
    line = await expect_refusal(env, tmp_path, "rejected by Telegram")
    assert other not in line


async def test_group_problems(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, OPERATOR_CHAT_ID="-100555")
    await expect_refusal(env, tmp_path, "OPERATOR_CHAT_ID -100555 is not a group the bot is in")
    fake.group_is_forum = False
    try:
        await expect_refusal(environment(fake, tmp_path), tmp_path, "not a forum supergroup")
    finally:
        fake.group_is_forum = True
    fake.bot_can_manage_topics = False
    try:
        await expect_refusal(environment(fake, tmp_path), tmp_path, "manage topics")
    finally:
        fake.bot_can_manage_topics = True


async def test_bad_database_url_and_busy_port(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, DATABASE_URL="mysql://nobody")
    await expect_refusal(env, tmp_path, "DATABASE_URL")
    env = environment(fake, tmp_path, DATABASE_URL="sqlite+aiosqlite:////nonexistent/dir/x.db")
    await expect_refusal(env, tmp_path, "DATABASE_URL")
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        env = environment(fake, tmp_path, HTTP_PORT=str(port))
        await expect_refusal(env, tmp_path, f"127.0.0.1:{port}", "free port")
    finally:
        server.close()
        await server.wait_closed()


async def test_migrate_command(fake: FakeTelegram, tmp_path: Path) -> None:
    code, out, err = await run_program(environment(fake, tmp_path), tmp_path, "migrate")
    assert (code, out.strip()) == (0, "The database is up to date."), err
    assert (tmp_path / "bridge.db").exists()


async def test_runs_serves_health_keeps_secrets_out_of_logs_and_stops_on_sigterm(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = environment(fake, tmp_path, LOG_LEVEL="DEBUG", PUBLIC_URL="https://bridge.example")
    code, log = await serve_then_sigterm(fake, env, tmp_path, sys.executable, "-m", "bot")
    assert code == 0, log
    assert "ready" in log
    assert fake.token not in log
    assert fake.token.split(":")[1] not in log
    assert fake.webhook["secret_token"] not in log


async def test_a_token_revoked_while_running_ends_run_with_one_sentence(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)  # a fake of its own: its token changes
    await fake.start()
    try:
        env = environment(fake, tmp_path, POLLING_TIMEOUT_SECONDS="1")  # polling mode
        process = await asyncio.create_subprocess_exec(
            PROGRAM,
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await eventually(lambda: healthy(env), within=60)
        await fake.wait_for(lambda: fake.calls_to("getUpdates"), timeout=10)
        fake.token = "999999999:AAF-revoked-by-botfather"  # every call answers 401 from now on
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await fake.stop()
    log = err.decode()
    assert process.returncode == 2, log
    assert "Traceback" not in log
    assert TOKEN.split(":")[1] not in log
    last = [line for line in log.splitlines() if line.strip()][-1]
    assert last.startswith("support-bridge: Telegram no longer accepts TELEGRAM_BOT_TOKEN"), log
    assert "@BotFather" in last
    assert "Telegram polling stopped for good (TelegramUnauthorizedError" in log


async def test_chatid_command_helps_the_first_set_up(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, OPERATOR_CHAT_ID=None)
    process = await asyncio.create_subprocess_exec(
        PROGRAM,
        "chatid",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    admin = fake.add_user("Admin")
    await fake.wait_for(lambda: fake.calls_to("getUpdates"), timeout=30)
    await fake.deliver(fake.operator_message(admin, None, text="/chatid"))
    answers = await fake.wait_for(
        lambda: [
            m
            for m in fake.sent_by_bot(fake.operator_chat_id)
            if "OPERATOR_CHAT_ID=" in m.get("text", "")
        ]
    )
    assert answers[0]["text"].startswith(f"OPERATOR_CHAT_ID={fake.operator_chat_id}")
    process.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert "Send /chatid" in out.decode()
    assert process.returncode == 0


async def test_bad_hours_faq_and_texts_settings(fake: FakeTelegram, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, WORKING_HOURS="mon-fry 08:00-18:00")
    await expect_refusal(env, tmp_path, "WORKING_HOURS", "mon-fri 08:00-18:00", "24/7")
    env = environment(fake, tmp_path, HOLIDAYS="2026-13-01")
    await expect_refusal(env, tmp_path, "HOLIDAYS", "2026-12-25")
    env = environment(fake, tmp_path, TIMEZONE="Europe/Atlantis")
    await expect_refusal(env, tmp_path, "TIMEZONE", "Europe/Kyiv")
    faq = tmp_path / "faq.yaml"
    faq.write_text(
        "categories:\n"
        "  - id: claims\n"
        '    title: {uk: "Страхові випадки", en: "Claims"}\n'
        "    questions:\n"
        "      - id: how-to\n"
        '        question: {uk: "Що робити?", en: "What to do?"}\n'
        '        anwser: {uk: "Дзвоніть.", en: "Call us."}\n',
        encoding="utf-8",
    )
    env = environment(fake, tmp_path, FAQ_FILE=str(faq))
    await expect_refusal(env, tmp_path, f"FAQ_FILE {faq}, line 7", "anwser")
    env = environment(fake, tmp_path, TEXTS_DIR=str(tmp_path / "missing"))
    await expect_refusal(env, tmp_path, "TEXTS_DIR", "is not a folder")


async def test_custom_texts_with_missing_keys_are_reported_and_fall_back(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "uk.yaml").write_text('greeting: "Вітаємо у Страховій!"\n', encoding="utf-8")
    texts = Texts.load(folder, "uk")
    assert texts.get("greeting", "uk") == "Вітаємо у Страховій!"
    assert texts.get("greeting", "en") == "Вітаємо у Страховій!"  # no en file: default language
    assert texts.get("closed", "en") == Texts.shipped().get("closed", "en")  # then shipped
    missing = texts.missing_keys()
    assert "closed" in missing["uk"]
    assert "greeting" not in missing["uk"]
    env = environment(fake, tmp_path, TEXTS_DIR=str(folder), PUBLIC_URL="https://bridge.example")
    _, log = await serve_then_sigterm(fake, env, tmp_path, PROGRAM, "run")
    assert "uk.yaml lacks" in log
    assert "closed" in log


async def test_json_logs_name_the_conversation_and_never_the_text(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = environment(fake, tmp_path, LOG_FORMAT="json")
    env["PUBLIC_URL"] = f"http://127.0.0.1:{env['HTTP_PORT']}"
    user = fake.add_user("Logged")
    secret_text = "my policy number is AB-1234567"

    async def customer_writes() -> None:
        update = fake.customer_message(user, text=secret_text)
        status, _ = await fake.post_webhook(update, secret=fake.webhook["secret_token"])
        assert status == 200
        await fake.wait_for(  # shown in the topic: under the new customer's card
            lambda: any(
                c.performed
                and c.params.get("chat_id") == fake.operator_chat_id
                and secret_text in str(c.params.get("text", ""))
                for c in fake.calls
            )
        )

    _, log = await serve_then_sigterm(fake, env, tmp_path, PROGRAM, "run", while_up=customer_writes)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert lines
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    relayed = [line for line in lines if "relayed" in line["message"]]
    assert relayed
    assert relayed[0]["conversation_id"] is not None
    assert secret_text not in log
    assert fake.token not in log
