"""Property-based tests of both webhooks: malformed, oversized and hostile payloads never get a
5xx or crash the bridge, and nothing is relayed from a request that was refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import JSON
from tests.viber_harness import ViberScene, viber_bridge

MAX_BODY = 16 * 1024
SENDS = (
    "sendMessage",
    "copyMessage",
    "copyMessages",
    "sendMediaGroup",
    "sendPhoto",
    "sendDocument",
)
HOSTILE = st.sampled_from(
    [
        "<b>bold</b><a href='tg://user?id=1'>x</a>",
        "\u202eevil\u202c",
        "@admin /ban",
        "\x00\x01\x02",
        "😀" * 500,
        "'; DROP TABLE customers; --",
        "{{name}} %s %(x)s",
        "",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | HOSTILE,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("fuzz")) / "bridge.db"
    async with viber_bridge(db, max_body_bytes=MAX_BODY) as scene:
        yield scene


def sends(scene: ViberScene) -> int:
    return sum(1 for call in scene.fake.calls if call.method in SENDS)


def mutated_update(scene: ViberScene, path: list[str], value: Any) -> JSON:
    """A real customer update with one field replaced by something else."""
    user = scene.fake.add_user("Fuzzy")
    update = scene.fake.customer_message(user, text="hello")
    target = update
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return update


async def check_health(scene: ViberScene) -> None:
    status, _ = await scene.http("GET", "/healthz")
    assert status == 200


@FUZZ
@given(body=st.binary(max_size=2048) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
async def test_telegram_webhook_refuses_junk_cleanly(scene: ViberScene, body: bytes) -> None:
    await scene.settled()  # what earlier examples decided has gone out
    before = sends(scene)
    status, _ = await scene.fake.post_webhook(body, secret=scene.fake.webhook["secret_token"])
    assert status in (200, 400, 413), status
    if status != 200:
        assert sends(scene) == before
    await check_health(scene)


@FUZZ
@given(
    path=st.sampled_from(
        [
            ["update_id"],
            ["message", "text"],
            ["message", "chat"],
            ["message", "chat", "id"],
            ["message", "from"],
            ["message", "message_id"],
            ["message", "date"],
            ["message", "entities"],
        ]
    ),
    value=JSON_VALUES,
)
async def test_telegram_webhook_survives_broken_fields(
    scene: ViberScene, path: list[str], value: Any
) -> None:
    update = mutated_update(scene, path, value)
    await scene.settled()  # what earlier examples decided has gone out
    before = sends(scene)
    status, _ = await scene.fake.post_webhook(update, secret=scene.fake.webhook["secret_token"])
    assert status in (200, 400, 413), status
    if status != 200:
        assert sends(scene) == before
    await check_health(scene)


@FUZZ
@given(text=st.text(max_size=300) | HOSTILE, name=st.text(max_size=80) | HOSTILE)
async def test_hostile_names_and_texts_are_relayed_escaped(
    scene: ViberScene, text: str, name: str
) -> None:
    user = scene.fake.add_user(name or "x")
    update = scene.fake.customer_message(user, text=text or ".")
    status, _ = await scene.fake.post_webhook(update, secret=scene.fake.webhook["secret_token"])
    assert status in (200, 400, 413)
    for call in scene.fake.calls[-6:]:
        if call.method == "createForumTopic":
            assert 0 < len(call.params["name"]) <= 128
            assert "\u202e" not in call.params["name"]
        if call.params.get("parse_mode") == "HTML":
            assert "<a href='tg://user?id=1'>" not in call.params.get("text", "")
    await check_health(scene)


@FUZZ
@given(
    body=st.binary(max_size=2048) | JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    signed=st.booleans(),
)
async def test_viber_webhook_refuses_junk_cleanly(
    scene: ViberScene, body: bytes, signed: bool
) -> None:
    await scene.settled()  # what earlier examples decided has gone out
    before = sends(scene)
    if signed:
        status, _ = await scene.viber.send_callback(body)
    else:
        status, _ = await scene.viber.send_callback(body, signature="0" * 64)
    assert status in (200, 400, 403, 413), status
    if status != 200:
        assert sends(scene) == before
    if not signed:
        assert status in (403, 413)
    await check_health(scene)


@FUZZ
@given(
    field=st.sampled_from(["sender", "message", "message_token", "event", "timestamp"]),
    value=JSON_VALUES,
)
async def test_viber_webhook_survives_broken_fields(
    scene: ViberScene, field: str, value: Any
) -> None:
    user = scene.viber.add_user("Fuzzy Viber")
    event = scene.viber.message_event(user, scene.viber.text("hello"))
    event[field] = value
    await scene.settled()  # what earlier examples decided has gone out
    before = sends(scene)
    status, _ = await scene.viber.send_callback(json.dumps(event).encode())
    # a timestamp far from now is a replay (403); anything else broken is malformed (400)
    assert status in ((200, 400, 403, 413) if field == "timestamp" else (200, 400, 413)), status
    if status != 200:
        assert sends(scene) == before
    await check_health(scene)


async def test_oversized_bodies_get_413_on_both_webhooks(scene: ViberScene) -> None:
    huge = json.dumps({"update_id": 1, "padding": "x" * (MAX_BODY * 2)}).encode()
    status, _ = await scene.fake.post_webhook(huge, secret=scene.fake.webhook["secret_token"])
    assert status == 413
    status, _ = await scene.viber.send_callback(huge)
    assert status == 413
    await check_health(scene)
