"""The media link's rules on their own: which files a browser may show inline and under what
name, and the small-file cache's bounds (too many files to reach through HTTP cheaply)."""

from __future__ import annotations

import pytest
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from bot.media_cache import CachedFile, SmallFileCache
from bot.media_headers import content_disposition, present


@pytest.mark.parametrize(
    ("name", "declared", "content_type", "inline"),
    [
        ("photo.jpg", "image/jpeg", "image/jpeg", True),
        ("sticker.png", "image/png", "image/png", True),
        ("wave.gif", "IMAGE/GIF; charset=binary", "image/gif", True),
        ("video.mp4", "video/mp4", "video/mp4", True),
        ("clip.mov", "video/quicktime", "video/quicktime", False),
        ("voice.ogg", "audio/ogg", "audio/ogg", False),
        ("policy.pdf", None, "application/pdf", False),
        (
            "report.docx",
            None,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            False,
        ),
        ("page.html", "text/html", "application/octet-stream", False),
        ("page.html", None, "application/octet-stream", False),
        ("logo.svg", "image/svg+xml", "application/octet-stream", False),
        ("x.jpg", "text/html; charset=utf-8", "application/octet-stream", False),
        ("x.bin", "text/plain\r\nX-Evil: 1", "application/octet-stream", False),
        ("noext", "not a type", "application/octet-stream", False),
        ("noext", None, "application/octet-stream", False),
    ],
)
def test_only_pictures_and_mp4_are_inline_and_no_active_type_is_named(
    name: str, declared: str | None, content_type: str, inline: bool
) -> None:
    look = present(name, declared)
    assert (look.content_type, look.inline) == (content_type, inline)
    headers = look.headers(name)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["Content-Disposition"].startswith("inline;" if inline else "attachment;")


@pytest.mark.parametrize(
    ("name", "fallback", "real"),
    [
        ("policy.pdf", "policy.pdf", "policy.pdf"),
        ('Звіт "Q4"; 100%.pdf', "____ _Q4__ 100_.pdf", 'Звіт "Q4"; 100%.pdf'),
        ("../../etc/passwd", "_.._etc_passwd", "_.._etc_passwd"),
        ("a\r\nX-Evil: 1\x00.txt", "aX-Evil: 1.txt", "aX-Evil: 1.txt"),
        ("\u202egnp.exe", "gnp.exe", "gnp.exe"),
        ("...", "file", "file"),
        ("", "file", "file"),
    ],
)
def test_file_names_reach_clients_safely(name: str, fallback: str, real: str) -> None:
    header = content_disposition("attachment", name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    kind, params = parse_content_disposition(header)
    assert (kind, params["filename"]) == ("attachment", fallback)
    assert content_disposition_filename(params, "filename") == real


def test_the_cache_keeps_small_files_within_its_total_least_recently_used_first() -> None:
    cache = SmallFileCache(total_bytes=1000, largest_file=400)
    for key in "abc":
        cache.put(key, CachedFile(bytes(300), "image/png"))
    assert cache.size == 900
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", CachedFile(bytes(300), "image/png"))  # b makes room
    assert [k for k in "abcd" if cache.get(k) is not None] == ["a", "c", "d"]
    assert cache.size == 900
    cache.put("big", CachedFile(bytes(401), "image/png"))  # too large: not kept
    assert cache.get("big") is None and cache.size == 900
    cache.put("c", CachedFile(bytes(100), "image/gif"))  # replaced, not counted twice
    assert cache.size == 700
    assert cache.get("c") == CachedFile(bytes(100), "image/gif")
