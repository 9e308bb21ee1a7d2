"""Retention and erasure in storage, on SQLite and PostgreSQL: replicas forgetting at the same
moment count each deleted message once, migration 0011 dates the cards that already exist, and
on PostgreSQL an erasure waits for the replica that works the customer's lane."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.clock import Clock
from bridge.customer_data import erase_customer
from bridge.model import CustomerProfile, Operator, Platform
from bridge.retention import LINK_BATCH, Retention
from bridge.storage.advisory_locks import AdvisoryLaneLocks
from bridge.storage.database import alembic_config, make_engine, make_sessions, migrate
from bridge.storage.tables import CustomerRow, MessageLinkRow, MessageTallyRow
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from tests.harness import eventually

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


class At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_replicas_forgetting_together_tally_each_message_once(engine: AsyncEngine) -> None:
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    old = NOW - timedelta(days=40)
    async with uow() as tx:
        customer = await tx.customers.upsert(CustomerProfile(Platform.TELEGRAM, "42", "Taras"), old)
        conversation = await tx.conversations.start(customer.id, old)
        fresh = await tx.conversations.start(customer.id, NOW)
        await tx.links.add(customer.id, fresh.id, "fresh", 1, True, NOW, "kept")
        await tx.commit()
    operators = (Operator(1, "Iryna"), Operator(2, "Oleh"), None)
    total = LINK_BATCH * 2 + LINK_BATCH // 2  # several batches, so the replicas interleave
    rows = [
        {
            "customer_id": customer.id,
            "conversation_id": conversation.id,
            "customer_message_id": str(n),
            "group_message_id": 1000 + n,
            "from_customer": operators[n % 3] is None,
            "created_at": old + timedelta(seconds=n),
            "snippet": f"words {n}",
            "operator_id": operator.id if (operator := operators[n % 3]) else None,
            "operator_name": operator.name if operator else None,
            "composed": False,
        }
        for n in range(total)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(MessageLinkRow.__table__), rows)

    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        clock: Clock = At(NOW)
        replicas = [
            Retention(SqlUnitOfWorkFactory(make_sessions(e)), clock, timedelta(days=30))
            for e in (engine, other, engine, other)
        ]
        results = await asyncio.gather(*(r.run() for r in replicas))
    finally:
        await other.dispose()

    assert sum(r.links for r in results) == total
    async with engine.connect() as connection:
        left = (await connection.execute(select(MessageLinkRow.snippet))).scalars().all()
        tallies = (
            await connection.execute(
                select(
                    MessageTallyRow.from_customer,
                    MessageTallyRow.operator_name,
                    func.sum(MessageTallyRow.messages),
                    func.min(MessageTallyRow.first_at),
                )
                .where(MessageTallyRow.conversation_id == conversation.id)
                .group_by(MessageTallyRow.from_customer, MessageTallyRow.operator_name)
            )
        ).all()
    assert left == ["kept"]
    by_who = {(bool(f), name): (int(count), first) for f, name, count, first in tallies}
    third = total // 3
    assert by_who.keys() == {(False, "Iryna"), (False, "Oleh"), (True, None)}
    assert by_who[False, "Iryna"][0] == len(range(0, total, 3))
    assert by_who[False, "Oleh"][0] == len(range(1, total, 3))
    assert by_who[True, None][0] == len(range(2, total, 3)) >= third
    first_answer = by_who[False, "Iryna"][1]
    assert first_answer is not None
    if isinstance(first_answer, str):  # a raw aggregate on SQLite is text
        first_answer = datetime.fromisoformat(first_answer)
    assert first_answer.replace(tzinfo=UTC) == old


async def test_migration_0011_dates_existing_cards_and_goes_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0010"))
        for number, card in ((1, 501), (2, 601), (3, None)):
            await connection.execute(
                text(
                    "INSERT INTO customers (id, platform, external_id, full_name, details, "
                    "first_seen_at, last_seen_at, card_message_id, card_body, banned, "
                    "language_chosen, topic_closed, card_in_caption) VALUES (:id, 'telegram', "
                    ":external, 'Name', '{}', :first, :last, :card, :body, false, false, "
                    "false, false)"
                ),
                {
                    "id": number,
                    "external": str(number),
                    "first": NOW - timedelta(days=90),
                    "last": NOW,
                    "card": card,
                    "body": "<b>words</b>" if card else None,
                },
            )
        await connection.execute(
            text(
                "INSERT INTO conversations (id, customer_id, state, opened_at, opened_offline) "
                "VALUES (1, 1, 'new', :at, false)"
            ),
            {"at": NOW - timedelta(days=60)},
        )
        for message, at in ((501, 60), (502, 10), (501, 50)):  # two shown in the card's post
            await connection.execute(
                text(
                    "INSERT INTO message_links (customer_id, conversation_id, "
                    "customer_message_id, group_message_id, from_customer, created_at, "
                    "composed) VALUES (1, 1, :m, :g, true, :at, false)"
                ),
                {"m": f"{message}-{at}", "g": message, "at": NOW - timedelta(days=at)},
            )
    await migrate(engine)
    async with engine.connect() as connection:
        dated = dict(
            (await connection.execute(select(CustomerRow.id, CustomerRow.card_posted_at))).all()
        )
    assert dated == {1: NOW - timedelta(days=60), 2: NOW, 3: None}
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0010"))
        tables = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
    assert "message_tallies" not in tables
    await migrate(engine)


async def test_an_erasure_waits_for_the_replica_working_the_customer(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serves one process, whose lanes live in its memory")
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    profile = CustomerProfile(Platform.TELEGRAM, "42", "Taras")
    async with uow() as tx:
        customer = await tx.customers.upsert(profile, NOW)
        conversation = await tx.conversations.start(customer.id, NOW)
        await tx.commit()
    replica = AdvisoryLaneLocks(engine)  # another replica, in the middle of the customer's lane
    try:
        assert await replica.try_take("tg:42")
        erasing = asyncio.create_task(erase_customer(uow, Platform.TELEGRAM, "42"))

        async def waiting_for_the_lane() -> bool:
            async with engine.connect() as connection:
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            return bool(waiting)

        await eventually(waiting_for_the_lane)
        assert not erasing.done()
        async with uow() as tx:  # the replica finishes the message it was handling
            await tx.links.add(customer.id, conversation.id, "7", 70, True, NOW, "last words")
            await tx.commit()
        await replica.release("tg:42")
        erased = await asyncio.wait_for(erasing, timeout=10)
    finally:
        await replica.close()
    assert erased is not None
    assert (erased.conversations, erased.messages) == (1, 1)  # its last words went too
    async with uow() as tx:
        assert await tx.customers.find(Platform.TELEGRAM, "42") is None
