"""Who may act as an operator: members of the operator group, checked with a short cache.

Anyone who can see a card can press its buttons only if they are in the group, but a message
forwarded elsewhere keeps its buttons: presses from outside must do nothing.
"""

from __future__ import annotations

import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})


class Membership:
    def __init__(self, bot: Bot, chat_id: int, ttl_seconds: float = 300) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._ttl = ttl_seconds
        self._known: dict[int, tuple[bool, float]] = {}

    async def is_member(self, user_id: int) -> bool:
        cached = self._known.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self._bot.get_chat_member(self._chat_id, user_id)
        except TelegramAPIError as error:
            log.info("membership of %s not known (%s); treated as outsider", user_id, error.message)
            return False
        status = str(member.status.value if hasattr(member.status, "value") else member.status)
        ok = status in MEMBER_STATUSES or (
            status == "restricted" and bool(getattr(member, "is_member", False))
        )
        self._known[user_id] = (ok, now + self._ttl)
        return ok
