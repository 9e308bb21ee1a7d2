"""End to end: the media links Viber fetches operators' files from (`/media/<token>/<name>`).

What a browser may do with a file (inline pictures and MP4 only; everything else a download,
never active), how often Telegram is asked for it (small files once, a large one streamed, at
most two at a time per link), and what a failing Telegram looks like (502, nothing revealed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.harness import JSON, TOKEN
from tests.viber_harness import ViberScene, viber_bridge

MB = 1024 * 1024
BIG = bytes(range(256)) * (19 * 4096)  # 19 MiB: under Telegram's 20 MB, far over the cache's
BUSY_WAIT = 2.0  # bot.media_endpoint.TURN_WAIT_SECONDS, for the reader


@pytest.fixture(scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ViberScene]:
    db = Path(tmp_path_factory.mktemp("media")) / "bridge.db"
    async with viber_bridge(db) as scene:
        yield scene


@pytest.fixture(autouse=True)
def nothing_private_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever fails, the logs never hold the bot token or a file URL, and no error escapes
    to aiohttp (which would log it with its whole text)."""
    caplog.set_level(logging.INFO)
    yield
    text = caplog.text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert "/file/bot" not in text
    escaped = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= 40]
    assert escaped == []


async def published(scene: ViberScene, name: str, **content: Any) -> tuple[JSON, str]:
    """An operator sends `content` to a new Viber customer, whom Viber delivers it to (it
    fetches the link once); returns what Viber received and the Telegram file id."""
    user = scene.viber.add_user(f"Media {name}")
    await scene.customer_sends(user, scene.viber.text("send it please"))
    topic = await scene.viber_topic(user)
    await scene.operator_says(topic, **content)
    (received,) = await scene.received(user, media=...)
    kind = next(iter(content))
    item = content[kind][-1] if kind == "photo" else content[kind]
    return received, str(item["file_id"])


def document(scene: ViberScene, name: str, data: bytes, mime: str) -> JSON:
    return {"document": scene.fake.document(name, data, mime)}


async def get(url: str, method: str = "GET") -> tuple[int, aiohttp.ClientResponse, bytes]:
    async with aiohttp.ClientSession() as http, http.request(method, url) as response:
        return response.status, response, await response.read()


def assert_locked_down(response: aiohttp.ClientResponse) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


# ---------------------------------------------------------------------- presentation


@pytest.mark.parametrize(
    ("name", "mime", "data"),
    [
        ("page.html", "text/html", b"<script>alert(document.cookie)</script>"),
        ("logo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>'),
        ("page.xhtml", "application/xhtml+xml", b"<html><script>x()</script></html>"),
        ("feed.xml", "application/xml", b"<?xml version='1.0'?><x/>"),
        ("tool.js", "text/javascript", b"alert(1)"),
        ("sneaky.jpg", "text/html", b"<script>alert(1)</script>"),
    ],
)
async def test_active_files_are_plain_downloads(
    scene: ViberScene, name: str, mime: str, data: bytes
) -> None:
    received, _ = await published(scene, name, **document(scene, name, data, mime))
    status, response, body = await get(received["media"])
    assert (status, body) == (200, data)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.content_disposition is not None
    assert response.content_disposition.type == "attachment"
    assert response.content_disposition.filename == name
    assert_locked_down(response)
    assert received["fetched"]["content_type"] == "application/octet-stream"  # Viber's view


async def test_pictures_and_mp4_video_are_inline_the_rest_attachments(scene: ViberScene) -> None:
    fake = scene.fake
    cases = [
        ("photo", {"photo": fake.photo(b"\xff\xd8\xff\xe0photo")}, "image/jpeg", "inline"),
        ("video", {"video": fake.video(b"\x00\x00\x00\x18ftypmp42")}, "video/mp4", "inline"),
        (
            "png",
            document(scene, "scan.png", b"\x89PNG\r\n\x1a\nscan", "image/png"),
            "image/png",
            "inline",
        ),
        ("gif", document(scene, "wave.gif", b"GIF89a-wave", "image/gif"), "image/gif", "inline"),
        (
            "pdf",
            document(scene, "policy.pdf", b"%PDF-1.4", "application/pdf"),
            "application/pdf",
            "attachment",
        ),
        (
            "webp",
            document(scene, "pic.webp", b"RIFF0000WEBPVP8 ", "image/webp"),
            "image/webp",
            "attachment",
        ),
        ("voice", {"voice": fake.voice()}, "audio/ogg", "attachment"),
    ]
    for label, content, content_type, disposition in cases:
        received, _ = await published(scene, label, **content)
        status, response, _ = await get(received["media"])
        assert status == 200, label
        assert response.headers["Content-Type"] == content_type, label
        assert response.content_disposition is not None
        assert response.content_disposition.type == disposition, label
        assert_locked_down(response)


async def test_file_names_are_encoded_safely(scene: ViberScene) -> None:
    name = 'Звіт "Q4"; копія.pdf'
    received, _ = await published(
        scene, "name", **document(scene, name, b"%PDF", "application/pdf")
    )
    _, response, _ = await get(received["media"])
    assert response.content_disposition is not None
    assert response.content_disposition.filename == name  # from filename*, RFC 5987
    header = response.headers["Content-Disposition"]
    assert header.isascii()
    quoted = header.split('filename="', 1)[1].split('"', 1)[0]
    assert quoted == "____ _Q4__ _____.pdf"  # the stand-in for old clients: no quote, no ;


# ---------------------------------------------------------------------- downloads from Telegram


async def test_a_small_file_is_downloaded_from_telegram_once(scene: ViberScene) -> None:
    data = b"%PDF small " * 30_000  # 330 KB
    received, file_id = await published(
        scene, "small", **document(scene, "terms.pdf", data, "application/pdf")
    )
    assert received["fetched"]["data"] == data
    assert scene.fake.downloads_of(file_id) == 1  # Viber's fetch
    for _ in range(5):
        status, _, body = await get(received["media"])
        assert (status, body) == (200, data)
    status, response, body = await get(received["media"], "HEAD")
    assert (status, body, response.content_length) == (200, b"", len(data))
    assert scene.fake.downloads_of(file_id) == 1


async def test_parallel_gets_of_a_small_file_share_two_downloads(scene: ViberScene) -> None:
    fake = scene.fake
    data = b"\x89PNG\r\n\x1a\n" + bytes(500_000)
    fake.outage(methods=["file"])  # Viber's own fetch fails: nothing is cached
    try:
        received, file_id = await published(
            scene, "parallel", **document(scene, "plan.png", data, "image/png")
        )
    finally:
        fake.end_outage()
    assert received["fetched"]["status"] == 502
    before = fake.downloads_of(file_id)
    answers = await asyncio.gather(*(get(received["media"]) for _ in range(20)))
    assert [(status, body) for status, _, body in answers] == [(200, data)] * 20
    assert fake.downloads_of(file_id) - before <= 2


async def test_a_large_file_is_streamed_and_a_link_fetches_at_most_twice_at_once(
    scene: ViberScene,
) -> None:
    """20 parallel GETs of a 19 MB file while Telegram's file server is slow: two download
    and pass the first megabyte on before the rest has come (streamed, not buffered); the
    others wait briefly, then get 503 with Retry-After. Telegram sees two downloads."""
    fake = scene.fake
    received, file_id = await published(
        scene, "large", **document(scene, "scan.tiff", BIG, "image/tiff")
    )
    assert received["fetched"]["data"] == BIG  # Viber's fetch, streamed through
    before = fake.downloads_of(file_id)
    status, response, body = await get(received["media"], "HEAD")
    assert (status, body, response.content_length) == (200, b"", len(BIG))
    assert fake.downloads_of(file_id) == before  # a HEAD costs no download
    progress = asyncio.Condition()
    heads: list[bytes] = []

    async def notify() -> None:
        async with progress:
            progress.notify_all()

    async def until(check: Callable[[], bool]) -> None:
        async with progress:
            await asyncio.wait_for(progress.wait_for(check), timeout=BUSY_WAIT + 20)

    async def fetch(http: aiohttp.ClientSession) -> tuple[int, dict[str, str], bytes]:
        try:
            async with http.get(received["media"]) as response:
                if response.status != 200:
                    return response.status, dict(response.headers), await response.read()
                head = await response.content.readexactly(MB)
                heads.append(head)
                await notify()
                return 200, dict(response.headers), head + await response.content.read()
        finally:
            await notify()

    fake.hold_downloads(after_bytes=MB)
    try:
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.ensure_future(fetch(http)) for _ in range(20)]
            await until(lambda: len(heads) == 2 and sum(t.done() for t in tasks) == 18)
            refused = [t.result() for t in tasks if t.done()]
            assert {(status, h["Retry-After"]) for status, h, _ in refused} == {(503, "5")}
            assert all(body == b"busy, try again shortly" for _, _, body in refused)
            assert heads == [BIG[:MB]] * 2  # passed on while the rest was held
            assert fake.downloads_of(file_id) - before == 2
            fake.release_downloads()
            results = await asyncio.gather(*tasks)
    finally:
        fake.release_downloads()
    served = [result for result in results if result[0] == 200]
    assert len(served) == 2
    assert all(body == BIG and h["Content-Length"] == str(len(BIG)) for _, h, body in served)
    assert fake.downloads_of(file_id) - before == 2


async def test_clients_that_leave_mid_file_give_their_turn_back(scene: ViberScene) -> None:
    fake = scene.fake
    received, file_id = await published(
        scene, "leaving", **document(scene, "manual.bin", BIG, "application/octet-stream")
    )
    url = received["media"]
    fake.hold_downloads(after_bytes=MB)
    try:
        for _ in range(2):  # both turns of the link, each left after the first megabyte
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                assert await response.content.readexactly(MB) == BIG[:MB]
    finally:
        fake.release_downloads()  # the bridge writes on, finds the clients gone, lets go
    before = fake.downloads_of(file_id)
    answers = await asyncio.gather(get(url), get(url))
    assert [(status, body == BIG) for status, _, body in answers] == [(200, True)] * 2
    assert fake.downloads_of(file_id) - before == 2


# ---------------------------------------------------------------------- when Telegram fails


async def test_telegram_failing_answers_502_and_reveals_nothing(scene: ViberScene) -> None:
    fake = scene.fake
    data = b"%PDF medium " * 200_000  # 2.4 MB: streamed, never cached
    received, file_id = await published(
        scene, "failing", **document(scene, "claim.pdf", data, "application/pdf")
    )
    url = received["media"]
    path = fake.files[file_id].file_path
    failures: list[tuple[str, Callable[[], None]]] = [
        ("file server down", lambda: fake.outage(methods=["file"])),
        ("file server JSON 500", lambda: fake.outage(500, html=False, methods=["file"])),
        ("getFile nginx page", lambda: fake.fail("getFile", 502, "Bad Gateway", html=True)),
        ("getFile 500", lambda: fake.fail("getFile", 500, "Internal Server Error")),
        (
            "getFile 429",
            lambda: fake.fail("getFile", 429, "Too Many Requests: retry after 3", retry_after=3),
        ),
    ]
    for label, fail in failures:
        fail()
        try:
            status, response, body = await get(url)
        finally:
            fake.end_outage()
        assert status == 502, label
        assert body == b"the file could not be fetched; try again later", label
        assert_locked_down(response)
        for secret in (TOKEN, path, "bot", "http", "Error"):
            assert secret not in body.decode(), (label, secret)
        assert (await get(url))[:1] == (200,), label  # the link itself is fine


async def test_a_download_that_breaks_off_is_never_passed_on_as_complete(
    scene: ViberScene,
) -> None:
    fake = scene.fake
    large = bytes(range(256)) * 12_000  # 3 MB: streamed
    small = b"%PDF tiny " * 1000  # 10 KB: read whole first
    received_large, _ = await published(
        scene, "cut-large", **document(scene, "large.bin", large, "application/octet-stream")
    )
    fake.outage(methods=["file"])  # keep the small one out of the cache
    try:
        received_small, _ = await published(
            scene, "cut-small", **document(scene, "small.pdf", small, "application/pdf")
        )
    finally:
        fake.end_outage()

    fake.cut_downloads(after_bytes=MB)
    async with aiohttp.ClientSession() as http, http.get(received_large["media"]) as response:
        assert (response.status, response.content_length) == (200, len(large))
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()  # short of Content-Length: the client knows it is broken

    fake.cut_downloads(after_bytes=1000)
    status, _, body = await get(received_small["media"])
    assert (status, body) == (502, b"the file could not be fetched; try again later")
    assert (await get(received_small["media"]))[::2] == (200, small)


async def test_a_file_gone_from_telegram_is_404_and_one_over_20_mb_is_413(
    scene: ViberScene,
) -> None:
    fake = scene.fake
    data = b"%PDF gone " * 200_000  # 2 MB: not cached
    received, file_id = await published(
        scene, "gone", **document(scene, "gone.pdf", data, "application/pdf")
    )
    fake.files[file_id].data = BIG + bytes(2 * MB)  # 21 MB on Telegram's side now
    status, _, body = await get(received["media"])
    assert (status, body) == (413, b"the file is larger than Telegram lets bots pass on (20 MB)")
    del fake.files[file_id]  # getFile: "Bad Request: invalid file_id"
    status, _, body = await get(received["media"])
    assert (status, body) == (404, b"the file is no longer available")
