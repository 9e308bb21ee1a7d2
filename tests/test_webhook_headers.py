"""Both webhooks compare their secret header as bytes: whatever bytes arrive, a wrong value is
refused like any wrong value (401 Telegram, 403 Viber), never a 500, and nothing is relayed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standins.viber import signature_of
from tests.raw_http import raw_request
from tests.viber_harness import ViberScene, viber_bridge

GARBAGE = [
    pytest.param(b"\xff\xfe\xfd", id="never-utf8"),
    pytest.param(b"\xc3\x28", id="broken-sequence"),
    pytest.param("é".encode("latin-1"), id="latin-1"),
    pytest.param(b"\x80" * 64, id="64-continuation-bytes"),
]


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("headers")) / "bridge.db"
    async with viber_bridge(db) as scene:
        yield scene


def relayed(scene: ViberScene, words: str) -> bool:
    return any(words in json.dumps(call.params, ensure_ascii=False) for call in scene.fake.calls)


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_telegram_secret_that_is_not_utf8_gets_401(scene: ViberScene, garbage: bytes) -> None:
    user = scene.fake.add_user("Raw Bytes")
    update = scene.fake.customer_message(user, text="not from Telegram")
    secret = str(scene.fake.webhook["secret_token"]).encode()
    for value in (garbage, secret + garbage, garbage + secret):
        status, _ = await raw_request(
            f"{scene.base_url}/telegram/webhook",
            headers=[
                (b"Content-Type", b"application/json"),
                (b"X-Telegram-Bot-Api-Secret-Token", value),
            ],
            body=json.dumps(update).encode(),
        )
        assert status == 401, value
    assert not relayed(scene, "not from Telegram")
    assert (await scene.http("GET", "/healthz"))[0] == 200


async def test_telegram_right_secret_sent_as_raw_bytes_is_accepted(scene: ViberScene) -> None:
    """The raw request itself is sound: with the right secret it gets through."""
    user = scene.fake.add_user("Raw Right")
    update = scene.fake.customer_message(user, text="raw and right")
    status, _ = await raw_request(
        f"{scene.base_url}/telegram/webhook",
        headers=[
            (b"Content-Type", b"application/json"),
            (b"X-Telegram-Bot-Api-Secret-Token", str(scene.fake.webhook["secret_token"]).encode()),
        ],
        body=json.dumps(update).encode(),
    )
    assert status == 200
    await scene.shows(await scene.topic_of(user), "raw and right")


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_viber_signature_that_is_not_utf8_gets_403(scene: ViberScene, garbage: bytes) -> None:
    user = scene.viber.add_user("Raw Viber")
    body = json.dumps(scene.viber.message_event(user, scene.viber.text("forged bytes"))).encode()
    right = signature_of(body, scene.viber.auth_token).encode()
    for value in (garbage, right[: -len(garbage)] + garbage, right + garbage):
        status, _ = await raw_request(
            f"{scene.base_url}/viber/webhook",
            headers=[(b"Content-Type", b"application/json"), (b"X-Viber-Content-Signature", value)],
            body=body,
        )
        assert status == 403, value
    assert not relayed(scene, "forged bytes")
    assert (await scene.http("GET", "/healthz"))[0] == 200


async def test_viber_right_signature_sent_as_raw_bytes_is_accepted(scene: ViberScene) -> None:
    user = scene.viber.add_user("Raw Signed")
    body = json.dumps(scene.viber.message_event(user, scene.viber.text("signed raw"))).encode()
    status, _ = await raw_request(
        f"{scene.base_url}/viber/webhook",
        headers=[
            (b"Content-Type", b"application/json"),
            (b"X-Viber-Content-Signature", signature_of(body, scene.viber.auth_token).encode()),
        ],
        body=body,
    )
    assert status == 200
    await scene.shows(await scene.viber_topic(user), "signed raw")
