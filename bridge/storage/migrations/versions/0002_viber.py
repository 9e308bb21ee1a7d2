"""Reachability of customers, quote snippets, media links and held messages (Viber channel).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("unreachable", sa.String(32), nullable=True))
    with op.batch_alter_table("message_links") as batch:
        batch.add_column(sa.Column("snippet", sa.String(200), nullable=True))
    op.create_table(
        "media_links",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("file_id", sa.String(256), nullable=False),
        sa.Column("file_name", sa.String(256), nullable=True),
        sa.Column("mime_type", sa.String(128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_media_links_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("token", name="pk_media_links"),
    )
    op.create_table(
        "held_messages",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_held_messages_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_held_messages"),
    )


def downgrade() -> None:
    op.drop_table("held_messages")
    op.drop_table("media_links")
    with op.batch_alter_table("message_links") as batch:
        batch.drop_column("snippet")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("unreachable")
