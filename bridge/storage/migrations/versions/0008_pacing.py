"""Pacing: recent Telegram send moments, shared by replicas that pace through PostgreSQL.

The table exists on SQLite too (one schema for both), where pacing stays in the process.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pacing_sends",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sent_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pacing_sends"),
    )
    op.create_index("ix_pacing_sends_key_sent_at", "pacing_sends", ["key", "sent_at"])
    op.create_index("ix_pacing_sends_expires_at", "pacing_sends", ["expires_at"])


def downgrade() -> None:
    op.drop_table("pacing_sends")
