"""A burst against the fake server's flood control: hundreds of messages from dozens of
customers, one of them flooding. The bridge paces itself, so Telegram never has to refuse; none
is lost, each customer's order is kept, and the flooder does not hold the others up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from standins.telegram import FakeTelegram
from tests.bridge_process import words_in
from tests.harness import JSON, TOKEN, running_bridge

OTHERS = 24
FLOOD = 60
EACH = 4


async def send_all(fake: FakeTelegram, updates: list[JSON]) -> None:
    for update in updates:
        assert await fake.deliver(update) == 200


async def test_burst_is_paced_fair_ordered_and_complete(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    fake.rate_limits(chat_per_second=1, group_per_minute=1800, global_per_second=30)
    try:
        async with running_bridge(
            fake,
            tmp_path / "burst.db",
            webhook=True,
            webhook_wait_seconds=0,  # answer once stored: the queue builds up inside the bridge
            # Below the fake's limits: here both share one event loop, whose delays bunch sends
            # up on arrival far more than a network does.
            rate_limit_chat_per_second=1,
            rate_limit_group_per_minute=1500,
            rate_limit_global_per_second=20,
        ):
            flooder = fake.add_user("Flooder")
            others = [fake.add_user(f"Calm{n}") for n in range(OTHERS)]
            flood = [fake.customer_message(flooder, text=f"spam {i}") for i in range(FLOOD)]
            calm = {
                u["id"]: [
                    fake.customer_message(u, text=f"{u['first_name']} {i}") for i in range(EACH)
                ]
                for u in others
            }
            await send_all(fake, flood)  # all of it is queued before the others write
            await asyncio.gather(*(send_all(fake, updates) for updates in calm.values()))

            total = FLOOD + OTHERS * EACH

            def copies() -> list[str]:
                """Every customer text in the group, in order; a post of the bridge's own
                (a card with the first words, texts merged under pressure) holds several."""
                return words_in(fake.sent_by_bot(fake.operator_chat_id), ("spam ", "Calm"))

            await fake.wait_for(lambda: len(copies()) >= total, timeout=60)
            relayed = copies()
            # Paced below the limits, Telegram should hardly ever refuse; a refusal that does
            # happen (arrivals bunched up by a loaded machine) must be honoured exactly.
            assert len(fake.flood_refusals) <= 2, fake.flood_refusals
            for refused in fake.flood_refusals:
                retry = next(
                    c
                    for c in fake.calls
                    if c.at > refused.at
                    and c.method == refused.method
                    and c.params == refused.params
                )
                assert retry.at - refused.at >= 1.0  # retry_after is at least 1 s
            assert len(relayed) == total  # nothing lost, nothing twice
            assert [t for t in relayed if t.startswith("spam ")] == [
                f"spam {i}" for i in range(FLOOD)
            ]
            last_flood = relayed.index(f"spam {FLOOD - 1}")
            for user in others:
                name = user["first_name"]
                mine = [t for t in relayed if t.startswith(f"{name} ")]
                assert mine == [f"{name} {i}" for i in range(EACH)]  # order kept
                assert relayed.index(mine[-1]) < last_flood  # not stuck behind the flood
    finally:
        await fake.stop()
