"""Text for platforms with poorer formatting: entity markup, splitting, short quotes.

Telegram entities count UTF-16 code units, so offsets are applied on UTF-16 text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from html import escape, unescape

from bridge.model import TextEntity

# Viber clients render *bold*, _italic_, ~strikethrough~ and ```monospace```.
VIBER_MARKERS = {
    "bold": "*",
    "italic": "_",
    "strikethrough": "~",
    "code": "```",
    "pre": "```",
}


def viber_markup(text: str, entities: Sequence[TextEntity]) -> str:
    """Telegram-formatted text made readable in Viber: markers for styles, URLs after links."""
    if not entities:
        return text
    units = text.encode("utf-16-le")
    opening: dict[int, list[str]] = {}
    closing: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e.offset, -e.length)):
        start, end = entity.offset, entity.offset + entity.length
        if entity.type in VIBER_MARKERS:
            marker = VIBER_MARKERS[entity.type]
            opening.setdefault(start, []).append(marker)
            closing.setdefault(end, []).insert(0, marker)
        elif entity.type == "text_link" and entity.url:
            closing.setdefault(end, []).insert(0, f" ({entity.url})")
    pieces: list[str] = []
    cursor = 0
    for position in sorted(set(opening) | set(closing)):
        pieces.append(units[cursor * 2 : position * 2].decode("utf-16-le", errors="replace"))
        pieces.extend(closing.get(position, ()))
        pieces.extend(opening.get(position, ()))
        cursor = position
    pieces.append(units[cursor * 2 :].decode("utf-16-le", errors="replace"))
    return "".join(pieces)


def split_text(text: str, max_chars: int, max_bytes: int | None = None) -> list[str]:
    """Cut a long text into parts that fit, at paragraph, line, sentence or word boundaries."""
    return list(_split(text, max_chars, max_bytes or max_chars * 4))


def _fits(part: str, max_chars: int, max_bytes: int) -> bool:
    return len(part) <= max_chars and len(part.encode()) <= max_bytes


def _split(text: str, max_chars: int, max_bytes: int) -> Iterator[str]:
    rest = text.strip()
    while rest and not _fits(rest, max_chars, max_bytes):
        window = rest[:max_chars]
        while len(window.encode()) > max_bytes:
            window = window[: len(window) * 3 // 4]
        cut = _best_cut(window)
        yield rest[:cut].rstrip()
        rest = rest[cut:].lstrip()
    if rest:
        yield rest


def _best_cut(window: str) -> int:
    floor = len(window) // 3  # never leave a sliver: a cut must keep a third of the window
    for separator in ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "):
        at = window.rfind(separator)
        if at > floor:
            return at + len(separator)
    return len(window)


def short_quote(text: str | None, limit: int = 80) -> str:
    """A one-line excerpt for quoting a replied-to message."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _tags(entity: TextEntity) -> tuple[str, str] | None:
    """Telegram HTML for one entity (https://core.telegram.org/bots/api#html-style)."""
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if entity.type in simple:
        tag = simple[entity.type]
        return f"<{tag}>", f"</{tag}>"
    if entity.type == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if entity.type == "pre":
        if entity.language:
            language = escape(entity.language, quote=True)
            return f'<pre><code class="language-{language}">', "</code></pre>"
        return "<pre>", "</pre>"
    if entity.type == "text_link" and entity.url:
        return f'<a href="{escape(entity.url, quote=True)}">', "</a>"
    if entity.type == "custom_emoji" and entity.custom_emoji_id:
        return f'<tg-emoji emoji-id="{escape(entity.custom_emoji_id, quote=True)}">', "</tg-emoji>"
    return None  # mentions, links, hashtags: Telegram finds them in plain text again


def html_of(text: str, entities: Sequence[TextEntity]) -> str:
    """A formatted Telegram text as Telegram HTML, its own text escaped: how the bridge writes
    a customer's words into a post of its own (under a card, several texts in one post)."""
    units = text.encode("utf-16-le")
    opening: dict[int, list[str]] = {}
    closing: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e.offset, -e.length)):
        tags = _tags(entity)
        if tags is None or entity.length <= 0:
            continue
        start, end = entity.offset, entity.offset + entity.length
        opening.setdefault(start, []).append(tags[0])
        closing.setdefault(end, []).insert(0, tags[1])
    pieces: list[str] = []
    cursor = 0
    for position in sorted(set(opening) | set(closing)):
        chunk = units[cursor * 2 : position * 2].decode("utf-16-le", errors="replace")
        pieces.append(escape(chunk, quote=False))
        pieces.extend(closing.get(position, ()))
        pieces.extend(opening.get(position, ()))
        cursor = position
    tail = units[cursor * 2 :].decode("utf-16-le", errors="replace")
    pieces.append(escape(tail, quote=False))
    return "".join(pieces)


_TAG = re.compile(r"<[^>]*>")


def plain_length(html: str) -> int:
    """How long a Telegram HTML text is once parsed: what Telegram's limits count."""
    return len(unescape(_TAG.sub("", html)))
