"""Ownership: a conversation's owner (an operator of the group), and the operators seen there.

`conversations.owner_id`/`owner_name`: who owns it (took it, was assigned it, or answered it
first); kept after closing, so `/stats` counts what each operator owned. `operators`: everyone
seen writing in the operator group, with their @username, so `/assign @username` can find them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("seen_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
    )
    op.create_index("ix_operators_username", "operators", ["username"])
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("owner_id", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("owner_name", sa.String(128), nullable=True))
    op.create_index("ix_conversations_owner_id", "conversations", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_owner_id", table_name="conversations")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch copy drops the table, which the foreign keys that
        # refer to conversations forbid once there are rows.
        op.execute(sa.text("ALTER TABLE conversations DROP COLUMN owner_name"))
        op.execute(sa.text("ALTER TABLE conversations DROP COLUMN owner_id"))
    else:
        op.drop_column("conversations", "owner_name")
        op.drop_column("conversations", "owner_id")
    op.drop_index("ix_operators_username", table_name="operators")
    op.drop_table("operators")
