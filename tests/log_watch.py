"""Every log line of every test, searched for secrets and for what customers wrote.

`tests/conftest.py` puts the bridge's own log handler (`bot.logs.make_handler`, with the
redaction the bridge runs with) on the root logger at INFO for each test, and reads the lines
of the bridge processes tests start (`tests/bridge_process.py`). After the test, every line is
searched for each fake's token, webhook secret and Viber auth token, and for every text the
fakes' customers wrote. A line that holds one fails the test that wrote it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.config import derived_webhook_secret
from bot.logs import make_handler, quiet_chatty_loggers
from standins import telegram as fake_telegram
from standins import viber as fake_viber
from standins.telegram import FakeTelegram
from standins.viber import DEFAULT_AUTH_TOKEN
from tests.harness import TOKEN

# Texts this short are words anyone might log ("ok", "hello"); the tests' customers write
# longer ones whenever what they wrote matters.
SHORTEST_TEXT = 12
PROCESS_LOGS: list[Path] = []  # stderr of bridge processes started during the current test


def known_secrets() -> list[str]:
    """The secrets the in-process bridges run with (the harness's), as the bridge knows them."""
    return [TOKEN, TOKEN.partition(":")[2], derived_webhook_secret(TOKEN), DEFAULT_AUTH_TOKEN]


def _spellings(secrets: Iterable[str]) -> set[str]:
    return {form for s in secrets if s for form in (s, quote(s, safe=""))}


def fakes_secrets() -> set[str]:
    found: list[str] = []
    for telegram in list(fake_telegram.INSTANCES):
        token = telegram.token
        found += [token, token.partition(":")[2], derived_webhook_secret(token)]
        found.append(str((telegram.webhook or {}).get("secret_token") or ""))
    found += [viber.auth_token for viber in list(fake_viber.INSTANCES)]
    return _spellings(found)


def _telegram_texts(fake: FakeTelegram) -> Iterator[str]:
    written: list[dict[str, Any]] = []
    for chat_id, messages in list(fake.messages.items()):
        if chat_id <= 0:
            continue  # groups: operators' side
        written += [
            m for m in list(messages.values()) if m.get("from", {}).get("id") != fake.bot_id
        ]
    # business accounts' chats: the customers' words and the owner's own, not the bot's answers
    for connection in list(fake.business_connections.values()):
        for chat in list(connection.chats.values()):
            written += [m for m in list(chat.messages.values()) if "sender_business_bot" not in m]
    for message in written:
        for key in ("text", "caption"):
            if isinstance(message.get(key), str):
                yield message[key]


def customers_texts() -> set[str]:
    texts: list[str] = []
    for telegram in list(fake_telegram.INSTANCES):
        texts += _telegram_texts(telegram)
    for viber in list(fake_viber.INSTANCES):
        for callback in list(viber.callbacks):
            message = (callback.event or {}).get("message") or {}
            if isinstance(message.get("text"), str):
                texts.append(message["text"])
    return {
        t.strip()
        for t in texts
        if len(t.strip()) >= SHORTEST_TEXT and not t.startswith(("/", "bridge:"))
    }


class LogWatch:
    """The lines the bridge wrote during one test, as its own handler formatted them."""

    def __init__(self) -> None:
        self._stream = io.StringIO()
        self._handler = make_handler("text", known_secrets(), self._stream)
        self._handler.setLevel(logging.INFO)
        self._root_level = logging.INFO

    def __enter__(self) -> LogWatch:
        PROCESS_LOGS.clear()
        root = logging.getLogger()
        self._root_level = root.level
        root.addHandler(self._handler)
        root.setLevel(logging.INFO)
        quiet_chatty_loggers("INFO")
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self._handler)
        root.setLevel(self._root_level)

    def forget(self) -> None:
        """Drop what was captured so far (for the test that checks the watch itself)."""
        self._stream.seek(0)
        self._stream.truncate()

    def lines(self) -> list[str]:
        lines = self._stream.getvalue().splitlines()
        for path in PROCESS_LOGS:
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        return lines

    def leaks(self) -> list[str]:
        """One sentence per line that shows a secret or a customer's words (quoted shortened)."""
        secrets, texts = fakes_secrets(), customers_texts()
        found: list[str] = []
        for line in self.lines():
            if any(secret in line for secret in secrets):
                found.append(f"a secret in: {line[:300]}")
            elif any(text in line for text in texts):
                found.append(f"a customer's words in: {line[:300]}")
        return found
