"""Customers, topics, conversations, the message map and processed updates.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(256), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("profile_url", sa.String(512), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", When, nullable=False),
        sa.Column("last_seen_at", When, nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("banned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("platform", "external_id", name="uq_customers_platform_external_id"),
        sa.UniqueConstraint("topic_id", name="uq_customers_topic_id"),
    )
    op.create_table(
        "processed_updates",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("processed_at", When, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_processed_updates"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.Column("first_operator_reply_at", When, nullable=True),
        sa.Column("last_customer_message_at", When, nullable=True),
        sa.Column("last_operator_message_at", When, nullable=True),
        sa.Column("closed_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_conversations_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index(
        "ix_conversations_customer_opened", "conversations", ["customer_id", "opened_at"]
    )
    op.create_table(
        "message_links",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("customer_message_id", sa.String(64), nullable=False),
        sa.Column("group_message_id", sa.BigInteger(), nullable=False),
        sa.Column("from_customer", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_message_links_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_message_links_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_links"),
    )
    op.create_index(
        "ix_message_links_customer_message", "message_links", ["customer_id", "customer_message_id"]
    )
    op.create_index("ix_message_links_group_message", "message_links", ["group_message_id"])


def downgrade() -> None:
    op.drop_table("message_links")
    op.drop_table("conversations")
    op.drop_table("processed_updates")
    op.drop_table("customers")
