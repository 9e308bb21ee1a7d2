"""Text helpers for Viber: entity markup on UTF-16 offsets, splitting at natural boundaries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.formatting import short_quote, split_text, viber_markup
from bridge.model import TextEntity


def test_markup_uses_utf16_offsets_and_keeps_links() -> None:
    text = "Увага 😀 важливо: умови"
    entities = (
        TextEntity("bold", 0, 5),
        TextEntity("italic", 6, 2),  # the emoji is two UTF-16 units
        TextEntity("text_link", 18, 5, url="https://insurer.example/terms"),
    )
    assert viber_markup(text, entities) == (
        "*Увага* _😀_ важливо: умови (https://insurer.example/terms)"
    )


def test_nested_styles_close_in_reverse_order() -> None:
    entities = (TextEntity("bold", 0, 11), TextEntity("italic", 6, 5))
    assert viber_markup("Hello world", entities) == "*Hello _world_*"


def test_split_prefers_paragraphs_then_sentences() -> None:
    paragraph = "Перше речення. Друге речення."
    parts = split_text("\n\n".join([paragraph] * 3), max_chars=70)
    assert parts == [f"{paragraph}\n\n{paragraph}", paragraph]
    sentences = split_text("One two three. Four five six. Seven eight nine.", max_chars=32)
    assert sentences == ["One two three. Four five six.", "Seven eight nine."]


def test_split_respects_a_byte_budget() -> None:
    parts = split_text("🚗" * 3000, max_chars=7000, max_bytes=4000)
    assert all(len(p.encode()) <= 4000 for p in parts)
    assert "".join(parts) == "🚗" * 3000


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=20, max_value=500))
def test_split_never_loses_words_or_exceeds_the_limit(text: str, limit: int) -> None:
    parts = split_text(text, max_chars=limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


def test_short_quote() -> None:
    assert short_quote("  many\\n  spaces ") == "many\\n spaces"
    assert short_quote("x" * 100, limit=10) == "xxxxxxxxx…"
    assert short_quote(None) == ""
