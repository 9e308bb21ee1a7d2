"""Ratings, SLA reminders and who answered: the figures of service quality.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.String(500), nullable=True))
        batch.add_column(sa.Column("rated_at", When, nullable=True))
        batch.add_column(sa.Column("sla_alerted_at", When, nullable=True))
    with op.batch_alter_table("message_links") as batch:
        batch.add_column(sa.Column("operator_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("operator_name", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_links") as batch:
        batch.drop_column("operator_name")
        batch.drop_column("operator_id")
    with op.batch_alter_table("conversations") as batch:
        for column in ("sla_alerted_at", "rated_at", "rating_comment", "rating"):
            batch.drop_column(column)
