"""Inbox lanes: replicas sharing one database read a lane's pending updates in order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_state_lane_id", "inbox", ["state", "lane", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_state_lane_id", table_name="inbox")
