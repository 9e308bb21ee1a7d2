"""Logging set-up: text or JSON lines, and secrets never written."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable

from bridge.log_context import conversation_id


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record with `***`, whatever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


class ConversationTag(logging.Filter):
    """Adds the conversation the current task works on (see `bridge.log_context`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = conversation_id.get()
        record.conversation_id = current
        record.conversation = f" [conversation {current}]" if current is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "conversation_id": getattr(record, "conversation_id", None),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(ConversationTag())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s%(conversation)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = max(logging.getLevelName(level), logging.WARNING)
    for chatty in ("aiohttp.access", "alembic", "aiogram.event", "matplotlib", "PIL"):
        logging.getLogger(chatty).setLevel(quiet)
