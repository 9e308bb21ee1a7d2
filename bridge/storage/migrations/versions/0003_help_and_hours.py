"""Chosen language, offline auto-reply bookkeeping and the FAQ outcome per conversation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("opened_offline", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("offline_reply_for", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("faq_offered", sa.String(64), nullable=True))
        batch.add_column(sa.Column("faq_helped", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        for column in ("faq_helped", "faq_offered", "offline_reply_for", "opened_offline"):
            batch.drop_column(column)
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("language_chosen")
