"""What the bot shows customers, platform-neutral: a text and rows of buttons.

Adapters render a `Screen` as Telegram inline keyboards or Viber keyboards. A button either
carries an `action` (sent back when pressed, handled by `HelpDesk.press`) or opens a `url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.faq.catalog import FaqCatalog, FaqCategory, FaqEntry
from bridge.texts import Texts

LANGUAGE_NAMES = {"uk": "🇺🇦 Українська", "en": "🇬🇧 English"}


@dataclass(frozen=True)
class CustomerButton:
    label: str
    action: str | None = None
    url: str | None = None


Row = tuple[CustomerButton, ...]


@dataclass(frozen=True)
class Screen:
    text: str
    rows: tuple[Row, ...] = ()


class Screens:
    """Builds every screen from the catalogue and the texts, in one language."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    def _t(self, key: str, language: str, **values: object) -> str:
        return self.texts.get(key, language, **values)

    def menu_rows(self, catalog: FaqCatalog, language: str) -> tuple[Row, ...]:
        topics = tuple(
            (CustomerButton(c.title.get(language), f"c:{c.id}"),) for c in catalog.categories
        )
        return (
            *topics,
            (CustomerButton(self._t("operator_button", language), "op"),),
            (CustomerButton(self._t("language_button", language), "lang"),),
        )

    def menu(self, catalog: FaqCatalog, language: str, text_key: str = "menu_title") -> Screen:
        return Screen(self._t(text_key, language), self.menu_rows(catalog, language))

    def category(self, category: FaqCategory, language: str) -> Screen:
        questions = tuple(
            (CustomerButton(e.question.get(language), f"q:{category.id}:{e.id}"),)
            for e in category.entries
        )
        back = (CustomerButton(self._t("back_button", language), "menu"),)
        text = self._t("category_prompt", language, category=category.title.get(language))
        return Screen(text, (*questions, back))

    def answer(self, entry: FaqEntry, language: str, *, feedback: bool = True) -> Screen:
        text = f"❓ {entry.question.get(language)}\n\n{entry.answer.get(language)}"
        rows: list[Row] = []
        if entry.link is not None:
            rows.append((CustomerButton(entry.link.label.get(language), url=entry.link.url),))
        if feedback:
            text += f"\n\n{self._t('helped_question', language)}"
            ref = f"{entry.category_id}:{entry.id}"
            rows.append(
                (
                    CustomerButton(self._t("helped_yes_button", language), f"y:{ref}"),
                    CustomerButton(self._t("operator_button", language), f"n:{ref}"),
                )
            )
            rows.append(
                (CustomerButton(self._t("back_button", language), f"c:{entry.category_id}"),)
            )
        return Screen(text, tuple(rows))

    def suggestion(self, entry: FaqEntry, language: str) -> Screen:
        offered = self.answer(entry, language)
        intro = self._t("suggestion_intro", language)
        return Screen(f"{intro}\n\n{offered.text}", offered.rows[:-1])  # no Back: not in a menu

    def department_choice(self, departments: Sequence[tuple[str, str]], language: str) -> Screen:
        """`departments`: (id, name in the customer's language) of each, in the file's order."""
        rows = tuple((CustomerButton(name, f"dept:{ident}"),) for ident, name in departments)
        return Screen(self._t("department_choose", language), rows)

    def language_choice(self, language: str) -> Screen:
        rows = tuple(
            (CustomerButton(name, f"lang:{code}"),) for code, name in LANGUAGE_NAMES.items()
        )
        return Screen(self._t("language_choose", language), rows)

    def text(self, key: str, language: str, **values: object) -> Screen:
        return Screen(self._t(key, language, **values))

    def rating(self, conversation_id: int, language: str, text_key: str = "closed") -> Screen:
        """Closing words with 1–5 stars; the conversation id keeps late presses meaningful."""
        stars = tuple(
            CustomerButton("⭐" * n if n < 3 else f"{n}⭐", f"rate:{conversation_id}:{n}")
            for n in range(1, 6)
        )
        text = f"{self._t(text_key, language)}\n\n{self._t('rate_prompt', language)}"
        return Screen(text, (stars,))

    def comment_invite(self, conversation_id: int, language: str) -> Screen:
        skip = CustomerButton(self._t("rating_skip_button", language), f"skip:{conversation_id}")
        return Screen(self._t("rating_thanks", language), ((skip,),))
