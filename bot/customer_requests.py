"""`support-bridge forget-customer` and `export-customer`: one customer's data on request.

Both run beside a running bridge, on its database. Each writes one audit line to the log that
names the customer (platform and id) and the moment, never what they wrote; the export itself
goes to stdout or to a file only its owner may read.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bridge.customer_data import erase_customer, export_customer
from bridge.errors import ConfigError
from bridge.model import Erasure, Platform
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory

UNKNOWN = 1  # exit status: nobody has that id
TOPIC_KEPT = 3  # exit status: the rows are erased, but Telegram refused to delete the topic

audit = logging.getLogger("support-bridge.audit")
audit.setLevel(logging.INFO)  # whatever LOG_LEVEL says: who was erased or exported is recorded


def _unknown(platform: Platform, external_id: str) -> int:
    print(
        f"support-bridge: no {platform.value} customer has the id {external_id}; nothing was done.",
        file=sys.stderr,
    )
    return UNKNOWN


def _some(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def describe(platform: Platform, external_id: str, erased: Erasure, topic: str) -> str:
    """One sentence: what was erased, by kind, and what became of the topic."""
    return (
        f"Erased {platform.value} customer {external_id}: "
        f"{_some(erased.conversations, 'conversation')} ({erased.ratings} rated), "
        f"{_some(erased.messages, 'message')}, {_some(erased.updates, 'stored update')}, "
        f"{_some(erased.deliveries, 'delivery', 'deliveries')}, "
        f"{_some(erased.media_links, 'media link')} and "
        f"{_some(erased.held_messages, 'held message')}; {topic}."
    )


async def forget(
    settings: Settings, platform: Platform, external_id: str, delete_topic: bool
) -> int:
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        uow = SqlUnitOfWorkFactory(make_sessions(engine))
        erased = await erase_customer(uow, platform, external_id)
    finally:
        await engine.dispose()
    if erased is None:
        return _unknown(platform, external_id)
    audit.info(
        "customer %s:%s erased at %s", platform.value, external_id, datetime.now(UTC).isoformat()
    )
    refusal = None
    if erased.topic_id is None:
        topic = "they had no topic"
    elif not delete_topic:
        topic = f"their topic {erased.topic_id} stays in the group (--delete-topic deletes it)"
    else:
        refusal = await _delete_topic(settings, erased.group_id, erased.topic_id)
        state = "was not deleted" if refusal else "was deleted"
        topic = f"their topic {erased.topic_id} {state}"
    print(describe(platform, external_id, erased, topic))
    if refusal is not None:
        print(
            f"support-bridge: Telegram refused to delete topic {erased.topic_id} ({refusal}): "
            "give the bot the right to delete messages, or delete the topic in the group.",
            file=sys.stderr,
        )
        return TOPIC_KEPT
    return 0


async def _delete_topic(settings: Settings, group_id: int | None, topic_id: int) -> str | None:
    """Telegram's refusal in a few words, or None once the topic is gone."""
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.app import telegram_bot

    bot = telegram_bot(settings, settings.telegram_timeout_seconds)
    try:
        await bot.delete_forum_topic(group_id or settings.operator_chat_id, topic_id)
    except TelegramNetworkError:
        return "Telegram could not be reached"
    except TelegramAPIError as error:
        return error.message.replace(settings.telegram_bot_token, "***")
    finally:
        await bot.session.close()
    return None


async def export(
    settings: Settings, platform: Platform, external_id: str, output: Path | None
) -> int:
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        uow = SqlUnitOfWorkFactory(make_sessions(engine))
        document = await export_customer(uow, platform, external_id, datetime.now(UTC))
    finally:
        await engine.dispose()
    if document is None:
        return _unknown(platform, external_id)
    data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_private(output, data)
    audit.info(
        "customer %s:%s exported at %s",
        platform.value,
        external_id,
        datetime.now(UTC).isoformat(),
    )
    if output is not None:
        print(
            f"Exported {platform.value} customer {external_id}: "
            f"{_some(len(document['conversations']), 'conversation')}, "
            f"{_some(len(document['messages']), 'message')} and "
            f"{_some(len(document['media_links']), 'media link')}, to {output}."
        )
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """A new file is readable by its owner only: it holds what a customer wrote."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise ConfigError(f"--output {path} cannot be written ({error.strerror}).") from None
