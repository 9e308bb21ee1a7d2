"""Storage and migrations on SQLite and PostgreSQL (PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.business import BusinessAccount
from bridge.model import CustomerProfile, NewDelivery, Platform, TopicState
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
PROFILE = CustomerProfile(Platform.TELEGRAM, "42", "Taras Shevchenko", "taras", "uk")
GROUP = -1001234567890  # an operator group


async def test_migrations_create_the_schema_and_are_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert {"customers", "conversations", "message_links", "inbox", "outbox", "snippets"} <= tables
    assert "business_accounts" in tables
    assert version == "0015"


async def test_a_business_connection_is_stored_and_updated(engine: AsyncEngine) -> None:
    await migrate(engine)
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    account = BusinessAccount("Ab3_x-9" * 4, 77, "Olena", "insure_ua", True, True, False, NOW)
    async with uow() as tx:
        assert await tx.business.get(account.connection_id) is None
        await tx.business.save(account)
        await tx.commit()
    off = replace(account, enabled=False, owner_username=None, updated_at=NOW + timedelta(hours=1))
    async with uow() as tx:
        assert await tx.business.get(account.connection_id) == account
        await tx.business.save(off)
        await tx.commit()
    async with uow() as tx:
        assert await tx.business.all() == [off]


async def test_customer_upsert_keeps_first_contact_and_is_unique(engine: AsyncEngine) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uow() as tx:
        first = await tx.customers.upsert(PROFILE, NOW)
        await tx.commit()
    renamed = CustomerProfile(Platform.TELEGRAM, "42", "Taras H. Shevchenko", None, "en")
    async with uow() as tx:
        again = await tx.customers.upsert(renamed, NOW + timedelta(days=1))
        await tx.commit()
    assert again.id == first.id
    assert again.first_seen_at == NOW  # aware UTC, as stored
    assert again.first_seen_at.tzinfo is not None
    assert (again.full_name, again.username, again.language) == ("Taras H. Shevchenko", None, "en")
    async with uow() as tx:
        viber = await tx.customers.upsert(
            CustomerProfile(Platform.VIBER, "42", "Same id, other platform"), NOW
        )
        await tx.commit()
    assert viber.id != first.id


async def test_conversations_links_topics_and_processed_updates(engine: AsyncEngine) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uow() as tx:
        customer = await tx.customers.upsert(PROFILE, NOW)
        await tx.customers.set_topic(customer.id, 9001, "🆕 Taras Shevchenko", GROUP)
        await tx.customers.set_card(customer.id, 9002, "<b>Hi</b>", False, NOW)
        conversation = await tx.conversations.start(customer.id, NOW)
        await tx.links.add(customer.id, conversation.id, "15", 9010, True, NOW, "Hi " * 100)
        await tx.commit()
    async with uow() as tx:
        by_topic = await tx.customers.by_topic(GROUP, 9001)
        assert await tx.customers.by_topic(GROUP - 1, 9001) is None  # the same thread elsewhere
        assert by_topic is not None
        assert (by_topic.id, by_topic.card_message_id) == (customer.id, 9002)
        assert (by_topic.topic_name, by_topic.card_body) == ("🆕 Taras Shevchenko", "<b>Hi</b>")
        assert await tx.links.group_message_for(customer.id, "15", GROUP, GROUP) == 9010
        link = await tx.links.by_group_message(9010, customer.id)
        assert link is not None
        assert (link.customer_id, link.customer_message_id) == (customer.id, "15")
        assert await tx.links.by_group_message(1, customer.id) is None
        assert link.snippet == ("Hi " * 100)[:200]
        latest = await tx.conversations.latest(customer.id)
        assert latest is not None
        assert latest.state is TopicState.NEW
        first = await tx.inbox.add("telegram:1", "tg:1", "telegram", {"update_id": 1}, NOW)
        assert first is not None
        assert await tx.inbox.add("telegram:1", "tg:1", "telegram", {}, NOW) is None
        assert await tx.inbox.add("telegram:2", "tg:1", "telegram", {"update_id": 2}, NOW)
        await tx.commit()
    async with uow() as tx:
        assert await tx.inbox.add("telegram:2", "tg:1", "telegram", {}, NOW) is None
        pending = await tx.inbox.pending(10)
        assert [(i.key, dict(i.payload)) for i in pending] == [
            ("telegram:1", {"update_id": 1}),
            ("telegram:2", {"update_id": 2}),
        ]
        await tx.inbox.record_attempt(pending[0].id, "Telegram unavailable")
        await tx.inbox.finish(pending[1].id, "done")
        await tx.commit()
    async with uow() as tx:
        [left] = await tx.inbox.pending(10)
        assert (left.key, left.attempts) == ("telegram:1", 1)
        assert await tx.inbox.prune(NOW + timedelta(days=8)) == 1  # only the finished one
        await tx.commit()


async def test_uncommitted_work_is_rolled_back(engine: AsyncEngine) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uow() as tx:
        await tx.customers.upsert(PROFILE, NOW)
    async with uow() as tx:
        assert await tx.customers.by_topic(GROUP, 1) is None
        assert await tx.inbox.add("fresh", "lane", "telegram", {}, NOW)
        count = await tx.conversations.count(1)
    assert count == 0


async def test_waiting_counts_from_the_first_message_after_the_last_answer(
    engine: AsyncEngine,
) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uow() as tx:
        customer = await tx.customers.upsert(PROFILE, NOW)
        new = await tx.conversations.start(customer.id, NOW)
        await tx.links.add(customer.id, new.id, "1", 501, True, NOW)
        await tx.links.add(customer.id, new.id, "2", 502, False, NOW + timedelta(minutes=1))
        later = NOW + timedelta(minutes=5)
        await tx.links.add(customer.id, new.id, "3", 503, True, later)
        await tx.links.add(customer.id, new.id, "4", 504, True, later + timedelta(minutes=2))
        await tx.conversations.save(
            replace(
                new,
                state=TopicState.WAITING,
                first_operator_reply_at=NOW + timedelta(minutes=1),
                last_operator_message_at=NOW + timedelta(minutes=1),
                last_customer_message_at=later + timedelta(minutes=2),
            )
        )
        other = await tx.customers.upsert(
            CustomerProfile(Platform.VIBER, "v1", "Never answered"), NOW
        )
        await tx.conversations.start(other.id, NOW + timedelta(minutes=3))
        await tx.commit()
    async with uow() as tx:
        waiting = {c.customer_id: since for c, since in await tx.conversations.waiting()}
        found = await tx.customers.many(set(waiting))
    assert waiting == {customer.id: later, other.id: NOW + timedelta(minutes=3)}
    assert waiting[customer.id].tzinfo is not None
    assert {c.full_name for c in found.values()} == {"Taras Shevchenko", "Never answered"}


async def test_the_sla_mark_survives_other_writes_and_is_set_once(engine: AsyncEngine) -> None:
    """Two replicas: one posts the reminder while the other saves the relayed message."""
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uow() as tx:
        customer = await tx.customers.upsert(PROFILE, NOW)
        conversation = await tx.conversations.start(customer.id, NOW)
        await tx.commit()
    read_before_the_mark = replace(conversation, state=TopicState.WAITING)
    async with uow() as tx:
        await tx.conversations.save(read_before_the_mark)
        assert await tx.conversations.mark_sla_alerted(conversation.id, NOW, NOW)
        await tx.commit()
    async with uow() as tx:  # the other replica's reminder finds it marked already
        assert not await tx.conversations.mark_sla_alerted(conversation.id, NOW, NOW)
        await tx.conversations.save(read_before_the_mark)  # a stale copy, without the mark
        await tx.commit()
    async with uow() as tx:
        stored = await tx.conversations.get(conversation.id)
        assert stored is not None and stored.sla_alerted_at == NOW  # not undone by the save
        answered = replace(stored, state=TopicState.ANSWERED)
        await tx.conversations.save(answered)
        await tx.conversations.clear_sla_alert(conversation.id)
        await tx.commit()
    later = NOW + timedelta(minutes=5)
    async with uow() as tx:
        stored = await tx.conversations.get(conversation.id)
        assert stored is not None and stored.sla_alerted_at is None
        # answered meanwhile: a reminder that read it as waiting must not mark it
        assert not await tx.conversations.mark_sla_alerted(conversation.id, later, later)


async def test_a_sqlite_url_that_keeps_connections_to_one_thread_still_works(
    tmp_path: Path,
) -> None:
    # cursors are made in the event loop's thread when sqlite3 allows it; here it does not
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}?check_same_thread=true")
    try:
        await migrate(engine)
        uow = SqlUnitOfWorkFactory(make_sessions(engine))
        async with uow() as tx:
            customer = await tx.customers.upsert(PROFILE, NOW)
            await tx.commit()
        async with uow() as tx:
            found = await tx.customers.find_with_latest(PROFILE.platform, PROFILE.external_id)
        assert found is not None and found[0].id == customer.id
    finally:
        await engine.dispose()


async def test_a_database_error_does_not_quote_what_was_written(engine: AsyncEngine) -> None:
    # errors end up in logs; an update's payload (a customer's words) must not go with them
    words = "my card number is 4111"
    with pytest.raises(DBAPIError, match="no_such_table") as raised:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO no_such_table (words) VALUES (:words)"), {"words": words}
            )
    assert words not in str(raised.value)


async def test_a_held_delivery_claimed_for_sending_takes_nothing_more(engine: AsyncEngine) -> None:
    """A message joins a held first post or album only while no worker has read it for
    sending: once claimed, `extend_held` refuses and the joiner makes a delivery of its own
    (otherwise the worker would send the old words and mark the grown row done)."""
    await migrate(engine)
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    held = NewDelivery("tg:1", "group:-1", 0, "post_words", {"n": 1}, None, NOW + timedelta(1))
    async with uow() as tx:
        (item,), _ = await tx.outbox.add([held], NOW)
        grown = await tx.outbox.extend_held(item.id, {"n": 2}, NOW + timedelta(2), NOW)
        await tx.commit()
    assert grown is not None and grown.payload == {"n": 2}
    async with uow() as tx:
        (claimed,) = await tx.outbox.claim([item.id], NOW)
        await tx.commit()
    assert claimed.payload == {"n": 2} and claimed.not_before == NOW
    async with uow() as tx:
        assert await tx.outbox.extend_held(item.id, {"n": 3}, NOW + timedelta(3), NOW) is None
        assert await tx.outbox.last_held("tg:1", "group:-1", "post_words", NOW) is None
