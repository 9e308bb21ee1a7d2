"""How a published file is presented to whoever opens its link.

The link is fetched by Viber, but anyone who has it can open it in a browser, on our domain.
An operator's HTML or SVG file served inline would run there as a page of ours; so only the
kinds Viber shows inline (JPEG, PNG and GIF pictures, MP4 video) are `inline`, everything else
is an `attachment`, active types are never named as such, and every answer forbids sniffing
and sandboxes whatever a browser might still render.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from urllib.parse import quote

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "video/mp4"})
# Types no browser runs as a page or a script; any other type is sent as a plain download.
PASSIVE_PREFIXES = ("image/", "audio/", "video/")
PASSIVE_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/ogg",
        "application/octet-stream",
        "text/plain",
        "text/csv",
    }
)
PASSIVE_FAMILIES = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.")
ACTIVE_MARKS = ("xml", "html", "script", "svg")  # among pictures: image/svg+xml
DOWNLOAD_TYPE = "application/octet-stream"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# Legal in a quoted file name but misread by naive parsers (";" splits, "%" is decoded).
FALLBACK_AVOIDS = frozenset('";%')
# RFC 5987 attr-char, besides letters and digits, which `quote` keeps anyway.
ATTR_CHARS = "!#$&+-.^_`|~"


@dataclass(frozen=True)
class Presentation:
    content_type: str
    inline: bool

    def headers(self, file_name: str) -> dict[str, str]:
        """Content-Disposition and the headers that keep a browser from running the file."""
        kind = "inline" if self.inline else "attachment"
        return {"Content-Disposition": content_disposition(kind, file_name), **SECURITY_HEADERS}


def present(file_name: str, declared: str | None) -> Presentation:
    """The type to send and whether it may be shown inline, from the declared type or name."""
    content_type = media_type(declared) or media_type(mimetypes.guess_type(file_name)[0])
    if content_type is None or not passive(content_type):
        return Presentation(DOWNLOAD_TYPE, inline=False)
    return Presentation(content_type, inline=content_type in INLINE_TYPES)


def media_type(declared: str | None) -> str | None:
    """`type/subtype` in lower case without parameters, or None when it is not one."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if MEDIA_TYPE.fullmatch(value) else None


def passive(content_type: str) -> bool:
    """A type no browser runs: a known one, or a picture, sound or video that is not SVG."""
    if content_type in PASSIVE_TYPES or content_type.startswith(PASSIVE_FAMILIES):
        return True
    return content_type.startswith(PASSIVE_PREFIXES) and not any(
        mark in content_type for mark in ACTIVE_MARKS
    )


def content_disposition(kind: str, file_name: str) -> str:
    """`kind; filename="..."` with an ASCII stand-in, plus the real name RFC 6266 style.

    Quotes, semicolons, percent signs, slashes, control and non-ASCII characters never reach
    the quoted name; the exact name goes percent-encoded in `filename*` (RFC 5987), which
    every current browser and HTTP library prefers.
    """
    name = "".join(c for c in file_name if c.isprintable()).replace("/", "_").replace("\\", "_")
    name = name.strip().strip(".") or "file"
    fallback = "".join(c if " " <= c <= "~" and c not in FALLBACK_AVOIDS else "_" for c in name)
    value = f'{kind}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"
    return value
