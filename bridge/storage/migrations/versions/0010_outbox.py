"""The outbox of deliveries, commands in the inbox, and what a topic shows.

Every delivery the core decides waits in `outbox` until a worker for its destination chat
sends it, so nothing depends on a send succeeding at once. The inbox keeps the command an
adapter mapped an update to (`command`), not the update. A customer row remembers what their
topic shows (name, closed, the card and the words under it) so unchanged cosmetics cost
nothing; a link remembers when its group message was composed (edits cannot be applied to it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("lane", sa.String(160), nullable=False),
        sa.Column("destination", sa.String(80), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("coalesce", sa.String(96), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("created_at", When, nullable=False),
        sa.Column("not_before", When, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("alerted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_state_destination_id", "outbox", ["state", "destination", "id"])
    op.create_index("ix_outbox_state_not_before", "outbox", ["state", "not_before"])
    op.create_index("ix_outbox_state_lane_id", "outbox", ["state", "lane", "id"])
    with op.batch_alter_table("inbox") as table:
        table.add_column(sa.Column("command", sa.String(48), nullable=True))
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("topic_name", sa.String(128), nullable=True))
        table.add_column(
            sa.Column("topic_closed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("card_body", sa.Text(), nullable=True))
        table.add_column(
            sa.Column("card_in_caption", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("message_links") as table:
        table.add_column(
            sa.Column("composed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "notices",
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("shown_at", When, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_notices"),
    )


def downgrade() -> None:
    op.drop_table("notices")
    with op.batch_alter_table("message_links") as table:
        table.drop_column("composed")
    with op.batch_alter_table("customers") as table:
        table.drop_column("card_in_caption")
        table.drop_column("card_body")
        table.drop_column("topic_closed")
        table.drop_column("topic_name")
    with op.batch_alter_table("inbox") as table:
        table.drop_column("command")
    op.drop_index("ix_outbox_state_lane_id", table_name="outbox")
    op.drop_index("ix_outbox_state_not_before", table_name="outbox")
    op.drop_index("ix_outbox_state_destination_id", table_name="outbox")
    op.drop_table("outbox")
