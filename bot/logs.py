"""Logging set-up: text or JSON lines, and secrets never written.

Every line goes through `RedactSecrets` on the one handler the bridge writes to, so a secret is
replaced whoever logged it and however it got there: in the message, its arguments, a quoted
exception or a traceback (aiohttp's errors quote the URL, and Telegram's URLs hold the token).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import TextIO

from bridge.log_context import conversation_id

REDACTED = "***"
CHATTY = ("aiohttp.access", "alembic", "aiogram.event", "matplotlib", "PIL")


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record with `***`: message, traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # the longest first, so a secret that contains another is replaced whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            record.exc_info = None  # the redacted text stands for it from now on
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
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
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def make_handler(fmt: str, secrets: Iterable[str], stream: TextIO | None = None) -> logging.Handler:
    """The handler every line the bridge writes goes through: redacted, tagged, formatted."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(ConversationTag())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s%(conversation)s: %(message)s")
        )
    return handler


def quiet_chatty_loggers(level: str) -> None:
    """Libraries that log every request or step stay at WARNING unless DEBUG is asked for."""
    quiet = max(logging.getLevelName(level), logging.WARNING)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(quiet)


def configure_logging(level: str, fmt: str, secrets: Iterable[str]) -> None:
    handler = make_handler(fmt, secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_chatty_loggers(level)
    sys.excepthook = _log_uncaught  # a crash's traceback goes through the same redaction


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("support-bridge").critical(
        "the program stopped on an unexpected error", exc_info=(kind, error, trace)
    )
