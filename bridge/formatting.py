"""Text for platforms with poorer formatting: entity markup, splitting, short quotes.

Telegram entities count UTF-16 code units, so offsets are applied on UTF-16 text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

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
