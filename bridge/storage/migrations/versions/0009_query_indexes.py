"""Indexes for the periodic and per-conversation reads, so their cost does not grow with history.

The SLA check (every SLA_CHECK_SECONDS) looks for open, waiting conversations and, for each, the
first customer message after the last answer; a new conversation's expected-wait estimate reads
recently opened ones. Without these, each was a scan of every conversation or every message
link, and on SQLite's one connection that scan held up the relay.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversations_state_closed", "conversations", ["state", "closed_at"])
    op.create_index("ix_conversations_opened_at", "conversations", ["opened_at"])
    op.create_index(
        "ix_message_links_conversation_created", "message_links", ["conversation_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_links_conversation_created", table_name="message_links")
    op.drop_index("ix_conversations_opened_at", table_name="conversations")
    op.drop_index("ix_conversations_state_closed", table_name="conversations")
