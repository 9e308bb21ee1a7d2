"""End to end: intake outlives a database that refuses writes, and says so on /healthz.

Another connection holds SQLite's write lock (`BEGIN EXCLUSIVE`, as a backup tool or a stray
`sqlite3` shell would) while customers write. The bridge's writes wait out SQLite's busy
timeout (10 s) and fail. In polling mode the loop keeps the updates at Telegram (the offset
does not move) and stores them once the lock is gone; in webhook mode the webhook answers 503,
and Telegram (here: the test) delivers again. Reads still work meanwhile (WAL).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.viber.webhook import SIGNATURE_HEADER
from standins.telegram import FakeTelegram
from standins.viber import signature_of
from tests.bridge_process import words_in
from tests.harness import JSON, ON_POSTGRES, TOKEN, Scene, eventually, running_bridge
from tests.sqlite_lock import WriteLock, write_lock
from tests.viber_harness import viber_bridge

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the outage is SQLite's write lock")

POLLING_LOCK_SECONDS = 40.0  # four times SQLite's busy timeout


async def health(scene: Scene, path: str = "/healthz") -> tuple[int, JSON]:
    status, body = await scene.http("GET", path)
    return status, json.loads(body)


def health_is(scene: Scene, status: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await health(scene))[0] == status

    return check


def copies(scene: Scene, topic: int, prefix: str) -> list[str]:
    """The customer's texts in the topic, the first ones under the card included."""
    return words_in(scene.fake.sent_by_bot(scene.group, topic), prefix)


async def idle(lock: WriteLock) -> None:
    """Nothing stored is still being processed: the lock meets only intake."""
    await eventually(lambda: _none_pending(lock), within=10)


async def _none_pending(lock: WriteLock) -> bool:
    return await lock.pending() == 0


async def test_polling_survives_a_locked_database_and_loses_or_repeats_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake = FakeTelegram(TOKEN)
    await fake.start()
    db = tmp_path / "bridge.db"
    try:
        async with (
            running_bridge(fake, db, webhook=False, sla_first_response_seconds=3600) as app,
            write_lock(db) as lock,
        ):
            scene = Scene(fake, app, "polling")
            user = fake.add_user("Locked", last_name="Out")
            await scene.customer_says(user, text="note 0 before the lock")
            topic = await scene.topic_of(user)
            await scene.shows(topic, "note 0 before the lock")
            await idle(lock)

            await lock.take()
            locked_at = time.monotonic()
            sent = ["note 0 before the lock"]
            first_locked: int | None = None
            for n in range(1, 4):
                update = fake.customer_message(user, text=f"note {n} while locked")
                first_locked = first_locked or update["update_id"]
                await scene.deliver(update)
                sent.append(f"note {n} while locked")

            # a store that waits longer than 5 s counts as failing, before SQLite gives up
            await eventually(health_is(scene, 503), within=8)
            status, body = await health(scene)
            assert body["status"] == "intake failing", body
            assert "storing updates" in body["telegram"], body

            # customers keep writing; /healthz says 503 all along; the loop stays alive
            samples: list[int] = []
            while time.monotonic() - locked_at < POLLING_LOCK_SECONDS:
                if len(sent) < 7:
                    await scene.customer_says(user, text=f"note {len(sent)} while locked")
                    sent.append(f"note {len(sent)} while locked")
                samples.append((await health(scene))[0])
                await asyncio.sleep(1)
            assert set(samples) == {503}, samples
            status, body = await health(scene)
            assert "OperationalError: database is locked" in body["telegram"], body
            status, ready = await health(scene, "/readyz")
            assert status == 503
            assert ready["intake"].startswith("failing: telegram: "), ready
            assert copies(scene, topic, "note ") == ["note 0 before the lock"]
            polling = app.supervisor.restarts["Telegram polling"]

            await lock.release()
            released_at = time.monotonic()
            await fake.wait_for(lambda: len(copies(scene, topic, "note ")) >= len(sent), 30)
            await idle(lock)
            assert copies(scene, topic, "note ") == sent  # in order, none twice
            await eventually(health_is(scene, 200), within=10)
            assert app.supervisor.restarts["Telegram polling"] == polling == 0

            # the offset never passed an update that was not stored
            offsets = [c.params.get("offset") for c in fake.calls if c.method == "getUpdates"]
            moved = [o for o in offsets if o is not None]
            assert moved == sorted(moved)
            during = [
                c.params.get("offset")
                for c in fake.calls
                if c.method == "getUpdates" and locked_at <= c.at <= released_at
            ]
            assert all(o is None or o <= first_locked for o in during), (during, first_locked)
            keys = await lock.keys()
            assert len(keys) == len(set(keys))
            assert sum(k.startswith("telegram:") for k in keys) == len(sent)
        assert not any(text in caplog.text for text in sent[1:])
    finally:
        await fake.stop()


async def test_webhooks_answer_503_while_the_database_is_locked_and_take_redeliveries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    db = tmp_path / "bridge.db"
    async with viber_bridge(db, sla_first_response_seconds=3600) as scene, write_lock(db) as lock:
        fake, viber = scene.fake, scene.viber
        user = fake.add_user("Webhook", last_name="Locked")
        await scene.customer_says(user, text="hook 1 before the lock")
        topic = await scene.topic_of(user)
        viber_user = viber.add_user("Viber Locked")
        await scene.customer_sends(viber_user, viber.text("viber 1 before the lock"))
        viber_topic = await scene.viber_topic(viber_user)
        await scene.shows(viber_topic, "viber 1 before the lock")
        await idle(lock)

        await lock.take()
        update = fake.customer_message(user, text="hook 2 while locked")
        status, body = await fake.post_webhook(update, secret=fake.webhook["secret_token"])
        assert (status, json.loads(body)) == (503, {"error": "not stored, deliver it again later"})
        status, healthz = await health(scene)
        assert status == 503
        assert healthz == {
            "status": "intake failing",
            "telegram": healthz["telegram"],
        }
        assert healthz["telegram"].startswith("storing updates: OperationalError: database is")

        # SQLite gives up after 10 s, and so does the fake Viber (as Viber does): post it here
        event = viber.message_event(viber_user, viber.text("viber 2 while locked"))
        callback = json.dumps(event).encode()
        status, body = await scene.http(
            "POST",
            "/viber/webhook",
            data=callback,
            headers={SIGNATURE_HEADER: signature_of(callback, viber.auth_token)},
        )
        assert (status, json.loads(body)) == (503, {"error": "not stored, deliver it again later"})
        assert "viber" in (await health(scene))[1]
        await lock.release()

        async def redelivered() -> bool:  # as Telegram and Viber do, until they get a 2xx
            hook = await fake.post_webhook(update, secret=fake.webhook["secret_token"])
            callback = await viber.send_callback(event)
            return hook[0] == callback[0] == 200

        await eventually(redelivered, within=20)
        await scene.in_topic(topic, text="hook 2 while locked")
        await scene.in_topic(viber_topic, text="viber 2 while locked")
        await eventually(health_is(scene, 200), within=5)
        await idle(lock)
        assert copies(scene, topic, "hook ") == ["hook 1 before the lock", "hook 2 while locked"]
        assert copies(scene, viber_topic, "viber ") == [
            "viber 1 before the lock",
            "viber 2 while locked",
        ]
    lines = [r.getMessage() for r in caplog.records if "not stored" in r.getMessage()]
    assert lines[0] == (
        f"Telegram update {update['update_id']} not stored (OperationalError: database is "
        "locked); answered 503 to get it again"
    ), lines
    assert any(line.startswith("Viber message callback not stored (") for line in lines), lines
    assert "while locked" not in caplog.text
