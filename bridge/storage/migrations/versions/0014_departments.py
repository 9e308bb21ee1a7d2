"""Departments: a customer's topic lives in one of several operator groups.

`customers.group_id`: the group their topic is in (NULL for topics made before departments:
the start fills in OPERATOR_CHAT_ID's group, which is where they are). `customers.department`:
the department their conversations go to. `customers.last_category`: the FAQ category they
browsed last, which picks the department. `former_topics`: topics a customer had in another
group before a transfer, so what operators write or edit there still reaches them.
`message_links.group_id`: the group a message was shown in (NULL before: OPERATOR_CHAT_ID's),
so a reply or a receipt is matched with a message of the topic it goes to. A thread id is unique within its group only, so the
unique key becomes (group_id, topic_id).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _rebuilding_customers() -> None:
    """SQLite changes a unique key by copying the table and dropping the old one, which the
    foreign keys to it forbid once there are rows: they are off for this (between
    transactions, the only place SQLite lets them go off), and `migrate` closes the connection
    afterwards so none keeps them off."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.connection.dbapi_connection.commit()  # type: ignore[union-attr]  # none: a no-op
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")


def _still_consistent() -> None:
    if op.get_bind().dialect.name == "sqlite":
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"the customers table was rebuilt with {len(broken)} dangling keys")


def upgrade() -> None:
    op.create_table(
        "former_topics",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_former_topics_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("group_id", "topic_id", name="pk_former_topics"),
    )
    op.create_index("ix_former_topics_customer_id", "former_topics", ["customer_id"])
    with op.batch_alter_table("message_links") as links:  # in place: a column is added
        links.add_column(sa.Column("group_id", sa.BigInteger(), nullable=True))
    _rebuilding_customers()
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("group_id", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("department", sa.String(20), nullable=True))
        table.add_column(sa.Column("last_category", sa.String(20), nullable=True))
        table.drop_constraint("uq_customers_topic_id", type_="unique")
        table.create_unique_constraint("uq_customers_group_id_topic_id", ["group_id", "topic_id"])
    _still_consistent()


def downgrade() -> None:
    _rebuilding_customers()
    with op.batch_alter_table("customers") as table:
        table.drop_constraint("uq_customers_group_id_topic_id", type_="unique")
        table.create_unique_constraint("uq_customers_topic_id", ["topic_id"])
        table.drop_column("last_category")
        table.drop_column("department")
        table.drop_column("group_id")
    _still_consistent()
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), not a table copy
        op.execute(sa.text("ALTER TABLE message_links DROP COLUMN group_id"))
    else:
        op.drop_column("message_links", "group_id")
    op.drop_index("ix_former_topics_customer_id", table_name="former_topics")
    op.drop_table("former_topics")
