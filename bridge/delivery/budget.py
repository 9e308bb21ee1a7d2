"""What the bridge spent lately in each chat, against the chat's limit.

Telegram allows about 20 operations a minute in a group, and counts sends, edits, reactions
and topic changes alike (tdlib/td#2592). The pacer (`bridge.pacing`) keeps every call within
that; this tells the group's worker how much is left, so it can spend a scarce slot on words
before notes and on notes before cosmetics, and merge what waits. Adapters report every
operation they perform (`spent`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

WINDOW = 60.0  # seconds: the group limit is per minute


class ChatBudget:
    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.limit = per_minute  # 0: no limit
        self._clock = clock
        self._spent: deque[float] = deque()

    def spent(self, count: int = 1) -> None:
        now = self._clock()
        self._spent.extend([now] * count)

    def _forget(self, now: float) -> None:
        while self._spent and self._spent[0] + WINDOW <= now:
            self._spent.popleft()

    def free(self) -> int | None:
        """Operations left in the window now; None when there is no limit."""
        if self.limit <= 0:
            return None
        self._forget(self._clock())
        return max(0, self.limit - len(self._spent))

    def next_free_in(self) -> float:
        """Seconds until one more operation fits (0 when one fits now)."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        self._forget(now)
        if len(self._spent) < self.limit:
            return 0.0
        return max(0.0, self._spent[len(self._spent) - self.limit] + WINDOW - now)

    @property
    def reserve(self) -> int:
        """Slots kept for words: cosmetics go only while more than this is free."""
        return max(2, self.limit // 2)


class Budgets:
    """One budget per group chat (customers' private chats need no choosing: one lane each)."""

    def __init__(self, group_per_minute: int, clock: Callable[[], float]) -> None:
        self._per_minute = group_per_minute
        self._clock = clock
        self._chats: dict[str, ChatBudget] = {}

    def of(self, destination: str) -> ChatBudget:
        budget = self._chats.get(destination)
        if budget is None:
            budget = self._chats[destination] = ChatBudget(self._per_minute, self._clock)
        return budget
