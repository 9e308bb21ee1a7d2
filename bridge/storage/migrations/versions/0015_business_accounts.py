"""Telegram Business: the connections of companies' own accounts to the bot.

`business_accounts`: each connection's owner, whether it is on, and what the bot may do (reply,
read), as Telegram last reported it; the team is told in General when that changes, and the
customer's card names the account. Customers of the account are ordinary `customers` rows with
platform `business` and external id `<connection>:<chat>`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_accounts",
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_name", sa.String(256), nullable=False),
        sa.Column("owner_username", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("can_reply", sa.Boolean(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name="pk_business_accounts"),
    )


def downgrade() -> None:
    op.drop_table("business_accounts")
