"""Retention: what `/stats` needs of deleted message links, when a card was posted, an index.

Message links older than RETENTION_DAYS are deleted; `message_tallies` keeps what the reports
count of them (messages per conversation from the customer and from each operator, and when the
first came), so old periods report the same figures. `customers.card_posted_at` dates the words
posted under a customer's card, so they can be cleared when they are as old; existing cards get
the time of the first message shown in them, or the customer's last activity when none is known
(never earlier than the truth, so nothing is cleared too soon). Retention reads message links by
age, hence the index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message_tallies",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("from_customer", sa.Boolean(), nullable=False),
        sa.Column("operator_name", sa.String(128), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("first_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_message_tallies_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_tallies"),
    )
    op.create_index("ix_message_tallies_conversation_id", "message_tallies", ["conversation_id"])
    op.create_index("ix_message_links_created_at", "message_links", ["created_at"])
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("card_posted_at", When, nullable=True))
    op.execute(
        sa.text(
            "UPDATE customers SET card_posted_at = COALESCE("
            "(SELECT MIN(message_links.created_at) FROM message_links"
            " WHERE message_links.customer_id = customers.id"
            " AND message_links.group_message_id = customers.card_message_id),"
            " customers.last_seen_at)"
            " WHERE card_message_id IS NOT NULL"
        )
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch copy drops the table, which the foreign keys that
        # refer to customers forbid once there are rows.
        op.execute(sa.text("ALTER TABLE customers DROP COLUMN card_posted_at"))
    else:
        op.drop_column("customers", "card_posted_at")
    op.drop_index("ix_message_links_created_at", table_name="message_links")
    op.drop_index("ix_message_tallies_conversation_id", table_name="message_tallies")
    op.drop_table("message_tallies")
