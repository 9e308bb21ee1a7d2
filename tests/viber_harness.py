"""Fake Telegram, fake Viber and the real bridge wired to both, for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from standins.telegram import FakeTelegram
from standins.viber import FakeViber
from tests.harness import JSON, TOKEN, Scene, running_bridge


class ShiftedClock:
    """Real time plus an offset tests can move forward (expiry, the 24-hour window)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, moment: datetime) -> None:
        """From now on the clock reads `moment`, then runs on from there."""
        self.offset = moment - datetime.now(UTC)


class ViberScene(Scene):
    def __init__(self, fake: FakeTelegram, viber: FakeViber, app: Any, clock: ShiftedClock):
        super().__init__(fake, app, "webhook")
        self.viber = viber
        self.clock = clock

    async def customer_sends(self, user: JSON, message: JSON, token: int | None = None) -> JSON:
        event = self.viber.message_event(user, message, message_token=token)
        status, _ = await self.viber.send_callback(event)
        assert status == 200
        return event

    async def viber_topic(self, user: JSON) -> int:
        """The topic whose card names this Viber customer."""

        def find() -> int | None:
            for thread_id, topic in self.fake.topics.items():
                if topic.deleted:
                    continue
                for message in self.fake.sent_by_bot(self.group, thread_id)[:1]:
                    text = message.get("text", "")
                    if "Platform: Viber" in text and user["name"] in text:
                        return thread_id
            return None

        return int(await self.fake.wait_for(find))

    async def received(self, user: JSON, count: int = 1, **match: Any) -> list[JSON]:
        def found() -> list[JSON] | None:
            hits = [
                m
                for m in self.viber.received(user["id"])
                if not m.get("welcome")
                and all(m.get(k) == v if v is not ... else k in m for k, v in match.items())
            ]
            return hits if len(hits) >= count else None

        return await self.viber.wait_for(found)  # type: ignore[no-any-return]


@asynccontextmanager
async def viber_bridge(
    db: Path, world: Callable[[FakeTelegram], dict[str, Any]] | None = None, **overrides: Any
) -> AsyncIterator[ViberScene]:
    """Fake Telegram, fake Viber and the real bridge wired to both."""
    clock = ShiftedClock()  # Viber stamps its callbacks with the time the bridge reads
    fake, viber = FakeTelegram(TOKEN), FakeViber(now=clock.now)
    if world is not None:  # more of the world first (another group), and settings naming it
        overrides = {**overrides, **world(fake)}
    await fake.start()
    await viber.start()
    try:
        async with running_bridge(
            fake,
            db,
            webhook=True,
            clock=clock,
            viber_auth_token=viber.auth_token,
            viber_api_url=viber.url,
            **overrides,
        ) as app:
            yield ViberScene(fake, viber, app, clock)
    finally:
        await viber.stop()
        await fake.stop()
    assert viber.server_errors == []
