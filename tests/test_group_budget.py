"""The operator group's budget, spent on what matters: the burst from the issue.

Eight new customers write two messages each, an operator answers each and closes half of the
conversations, against a fake Telegram that charges sends, edits, reactions and topic changes
to the group's 20 operations a minute, as Telegram does. The bridge must stay within the
budget (no 429), spend at most 1.25 group operations per customer message at intake and at most
5.5 per conversation (4 before ownership: the first answer takes the conversation, and the card
is redrawn once to show who owns it), and still show every word, in order. Time is moved on,
for the bridge and the fake alike, instead of waited for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from standins.telegram import Call, FakeTelegram
from tests.harness import JSON, TOKEN, Scene, running_bridge
from tests.viber_harness import ShiftedClock

CUSTOMERS = 8
GROUP_PER_MINUTE = 20


def topic_of_call(fake: FakeTelegram, call: Call, names: dict[str, int]) -> int | None:
    """The topic a group operation went to (a reaction: its message's topic)."""
    if call.method == "createForumTopic":
        return next((t for n, t in names.items() if n in str(call.params.get("name"))), None)
    thread = call.params.get("message_thread_id")
    if thread is not None:
        return int(thread)
    message_id = call.params.get("message_id")
    if message_id is not None:
        return fake.message(fake.operator_chat_id, int(message_id)).get("message_thread_id")
    return None


async def test_a_burst_spends_the_group_budget_on_words_first(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    fake.rate_limits(chat_per_second=1, group_per_minute=GROUP_PER_MINUTE, global_per_second=30)
    clock = ShiftedClock()
    try:
        async with running_bridge(
            fake,
            tmp_path / "budget.db",
            webhook=True,
            clock=clock,
            webhook_wait_seconds=0,
            album_wait_seconds=0.8,  # as shipped: how long a new customer's words wait
            rate_limit_chat_per_second=1,
            rate_limit_group_per_minute=GROUP_PER_MINUTE,
            rate_limit_global_per_second=30,
        ) as app:
            scene = Scene(fake, app, "webhook")
            group = fake.operator_chat_id
            users = [fake.add_user(f"Burst{n}") for n in range(CUSTOMERS)]
            for user in users:  # each writes twice, at once
                for part in (1, 2):
                    text = f"{user['first_name']} question part {part}"
                    assert await fake.deliver(fake.customer_message(user, text=text)) == 200
            topics: dict[str, int] = {}
            for user in users:
                name = user["first_name"]
                topics[name] = await scene.topic_of(user)
                await scene.shows(topics[name], f"{name} question part 2")
            intake = fake.operation_count(group)
            messages = 2 * CUSTOMERS
            assert intake / messages <= 1.25, (intake, messages)

            answers: dict[str, JSON] = {}
            for user in users:  # an operator answers each, then closes half
                name = user["first_name"]
                answers[name] = await scene.operator_says(topics[name], text=f"answer {name}")
            for user in users:
                await scene.in_chat(user, text=f"answer {user['first_name']}")
            closed = [u["first_name"] for u in users[: CUSTOMERS // 2]]
            for name in closed:
                await scene.operator_says(topics[name], text="/close")

            async def minutes_pass_until(check: Callable[[], bool]) -> None:
                """Move the bridge's and the fake's clocks a minute at a time (the budget is
                per minute) until `check` holds."""
                for _ in range(4):
                    try:
                        await fake.wait_for(check, timeout=4)
                        return
                    except AssertionError:
                        fake.advance_clock(61)
                        clock.offset += timedelta(seconds=61)
                assert check()

            await minutes_pass_until(lambda: all(fake.topics[topics[n]].closed for n in closed))

            open_ones = [u["first_name"] for u in users[CUSTOMERS // 2 :]]

            def settled() -> bool:
                """What the topics show once the deferred cosmetics went out."""
                names = {n: fake.topics[topics[n]].name for n in topics}
                reactions = [
                    fake.message(group, answers[n]["message_id"]).get("reactions")
                    for n in open_ones
                ]
                return (
                    all(names[n].startswith("✅") for n in closed)
                    and all(names[n].startswith("🟢") for n in open_ones)
                    and all(r == ["👍"] for r in reactions)
                )

            await minutes_pass_until(settled)  # the deferred cosmetics go, within the budget

            assert fake.flood_refusals == []  # the budget held: Telegram never refused
            spent: dict[int, int] = {}
            for call in fake.operations(group):
                topic = topic_of_call(fake, call, topics)
                assert topic is not None, call.method
                spent[topic] = spent.get(topic, 0) + call.cost
            per_closed = [spent[topics[n]] for n in closed]
            assert sum(per_closed) / len(per_closed) <= 5.5, per_closed
            assert sum(spent.values()) / CUSTOMERS <= 5.5, spent
            print(f"intake: {intake} group operations for {messages} customer messages")
            print(f"per conversation: {sorted(spent.values())}")
    finally:
        await fake.stop()
