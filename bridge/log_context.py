"""The conversation a log line is about, carried across awaits by a context variable."""

from __future__ import annotations

from contextvars import ContextVar

conversation_id: ContextVar[int | None] = ContextVar("conversation_id", default=None)


def about(conversation: int | None) -> None:
    """Tag every following log line of this task with the conversation."""
    conversation_id.set(conversation)
