"""Who may act as an operator: members of the operator group, checked with a short cache.

Anyone who can see a card can press its buttons only if they are in the group, but a message
forwarded elsewhere keeps its buttons, and a group can let outsiders write (a discussion group,
a public one): presses and commands from outside must do nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})


class Membership:
    """Of every operator group: a member of one group acts there, not in another's topics."""

    def __init__(self, bot: Bot, groups: Collection[int], ttl_seconds: float = 300) -> None:
        self._bot = bot
        self._groups = frozenset(groups)
        self._ttl = ttl_seconds
        # (group, user id) → (member, fresh until)
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_member(self, user_id: int, chat_id: int) -> bool:
        """Asks Telegram at most every `ttl_seconds` per user. When Telegram cannot answer
        now, the last answer stands (an operator is not locked out by an outage); someone
        never seen is an outsider."""
        if chat_id not in self._groups:
            return False
        key = (chat_id, user_id)
        cached = self._known.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except (TelegramBadRequest, TelegramForbiddenError) as error:  # not a participant
            log.info("user %s is not in the operator group (%s)", user_id, error.message)
            self._known[key] = (False, now + self._ttl)
            return False
        except TelegramAPIError as error:
            known = cached[0] if cached is not None else False
            log.info("membership of %s not checked (%s); kept: %s", user_id, error.message, known)
            return known
        status = str(member.status.value if hasattr(member.status, "value") else member.status)
        ok = status in MEMBER_STATUSES or (
            status == "restricted" and bool(getattr(member, "is_member", False))
        )
        self._known[key] = (ok, now + self._ttl)
        return ok


class SeenOperators:
    """Who this process already reported as seen in the group, as they looked then: a
    member's message outside a customer's topic becomes a command (to remember their
    @username for `/assign`) only when they are new or changed their name or username.
    Forgetting it (a restart) costs one more such command per operator, nothing else."""

    def __init__(self, most: int = 10_000) -> None:
        self._known: dict[int, tuple[str, str | None]] = {}
        self._most = most

    def is_new(self, user_id: int, name: str, username: str | None) -> bool:
        return self._known.get(user_id) != (name, username)

    def remember(self, user_id: int, name: str, username: str | None) -> None:
        if len(self._known) >= self._most:
            self._known.clear()
        self._known[user_id] = (name, username)
