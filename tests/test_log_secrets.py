"""What the bridge writes to its log: every token and password of the settings is replaced,
in messages, quoted errors and tracebacks, in text and JSON lines; `support-bridge chatid`
knows the secrets it does not use too. (Every test's log lines are also searched for secrets
and customers' words: tests/log_watch.py.)"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.config import Settings, TelegramAccess
from bot.logs import make_handler
from standins.telegram import FakeTelegram
from tests.harness import TOKEN
from tests.log_watch import LogWatch

DB_PASSWORD = "pg-s3cret/with@odd:chars"
REDIS_PASSWORD = "redis-pa55word"
VIBER_TOKEN = "4f1b2c3d4e5f6a7b-8c9d0e1f2a3b4c5d-6e7f8a9b0c1d2e3f"


def settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        operator_chat_id=-1001234567890,
        database_url="postgresql+asyncpg://bridge:pg-s3cret%2Fwith%40odd%3Achars@db:5432/sb",
        redis_url=f"redis://:{REDIS_PASSWORD}@cache:6379/0",
        viber_auth_token=VIBER_TOKEN,
        public_url="https://support.example.com",
    )


def write(fmt: str, secrets: tuple[str, ...]) -> str:
    out = io.StringIO()
    logger = logging.getLogger("test.log_secrets")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = make_handler(fmt, secrets, out)
    logger.addHandler(handler)
    try:
        url = f"https://api.telegram.org/file/bot{TOKEN}/documents/file_1.pdf"
        logger.info("fetching %s", url.replace(":", "%3A"))
        try:
            raise ConnectionError(f"Cannot connect to host for url {url}, auth {VIBER_TOKEN}")
        except ConnectionError:
            logger.exception("download of a file failed")
        try:
            raise OSError(f"password authentication failed: {DB_PASSWORD} / {REDIS_PASSWORD}")
        except OSError as error:
            logger.warning("database away: %s", error, exc_info=True, stack_info=True)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_replaced_in_messages_errors_and_tracebacks(fmt: str) -> None:
    known = settings()
    text = write(fmt, known.secrets)
    for secret in (TOKEN, TOKEN.partition(":")[2], VIBER_TOKEN, DB_PASSWORD, REDIS_PASSWORD):
        assert secret not in text
    assert text.count("***") >= 5
    assert "Traceback" in text and "ConnectionError" in text  # the traceback is still there
    if fmt == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert [line["level"] for line in lines] == ["INFO", "ERROR", "WARNING"]
        assert "***" in lines[1]["error"]


def test_chatid_knows_the_secrets_it_does_not_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        f"VIBER_AUTH_TOKEN={VIBER_TOKEN}\n"
        "DATABASE_URL=postgresql+asyncpg://bridge:pg-s3cret%2Fwith%40odd%3Achars@db/sb\n"
        f"REDIS_URL=redis://:{REDIS_PASSWORD}@cache:6379/0\n"
        "TELEGRAM_WEBHOOK_SECRET=webhook-secret-of-the-admin\n"
    )
    for name in ("TELEGRAM_BOT_TOKEN", "VIBER_AUTH_TOKEN", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    secrets = TelegramAccess().secrets  # type: ignore[call-arg]
    text = write("text", secrets)
    for secret in (TOKEN, VIBER_TOKEN, DB_PASSWORD, REDIS_PASSWORD):
        assert secret not in text
    assert "webhook-secret-of-the-admin" in secrets


def test_the_log_watch_sees_a_secret_or_a_customers_words(logs_keep_secrets: LogWatch) -> None:
    """The check every test runs under can fail: a line with a token the bridge was not told
    about, or with what a customer wrote, is reported."""
    fake = FakeTelegram("987654321:BBG-another-token-nobody-redacts_0123")
    user = fake.add_user("Leaky")
    fake.customer_message(user, text="my card number is 4111 1111 1111 1111")
    logger = logging.getLogger("bridge.leaky")
    logger.warning("relaying %r", "my card number is 4111 1111 1111 1111")
    logger.warning("calling %s/bot%s/getMe", "https://api.telegram.org", fake.token)
    leaks = logs_keep_secrets.leaks()
    logs_keep_secrets.forget()
    assert [leak.split(":")[0] for leak in leaks] == ["a customer's words in", "a secret in"]
