"""The help section: categories of questions with answers in Ukrainian and English.

Support staff edit it as YAML, so `FaqCatalog.load` checks the file node by node and names the
line of the first mistake instead of failing later with a bare KeyError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bridge.errors import ConfigError

_SLUG = re.compile(r"[a-z0-9-]{1,20}")
_NULL_TAG = "tag:yaml.org,2002:null"
_LANGUAGES = ("uk", "en")


@dataclass(frozen=True)
class Localized:
    """One text in both languages we speak, so no customer ever gets an empty reply."""

    uk: str
    en: str

    def get(self, language: str | None) -> str:
        """English for `en` (and `en-US`), Ukrainian for everything else."""
        base = (language or "").split("-")[0].lower()
        return self.en if base == "en" else self.uk


@dataclass(frozen=True)
class FaqLink:
    """A button under an answer that opens a page (a calculator, an online form)."""

    url: str
    label: Localized


@dataclass(frozen=True)
class FaqEntry:
    """One question and its answer; `keywords` are extra words customers use for it."""

    id: str
    category_id: str
    question: Localized
    answer: Localized
    link: FaqLink | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class FaqCategory:
    """A menu section with its questions."""

    id: str
    title: Localized
    entries: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class FaqCatalog:
    """The whole help section; ids are stable so buttons can carry them in callback data."""

    categories: tuple[FaqCategory, ...]

    def category(self, category_id: str) -> FaqCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def entry(self, category_id: str, entry_id: str) -> FaqEntry | None:
        category = self.category(category_id)
        if category is None:
            return None
        return next((e for e in category.entries if e.id == entry_id), None)

    def entries(self) -> tuple[FaqEntry, ...]:
        return tuple(entry for category in self.categories for entry in category.entries)

    @classmethod
    def load(cls, path: Path) -> FaqCatalog:
        """Read and check a FAQ file; every mistake is a ConfigError naming file and line."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(f"FAQ_FILE {path} cannot be read: it is not UTF-8 text.") from None
        except OSError as error:
            reason = (error.strerror or str(error)).lower()
            raise ConfigError(f"FAQ_FILE {path} cannot be read: {reason}.") from None
        return _Parser(path).catalog(text)

    @classmethod
    def shipped(cls) -> FaqCatalog:
        """The sample that comes with the bridge, also a template for a company's own file."""
        return cls.load(Path(__file__).parent / "sample.yaml")


class _Parser:
    """Walks the composed node tree, which still knows the line of every value."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail_at(self, line: int, problem: str) -> NoReturn:
        raise ConfigError(f"FAQ_FILE {self.path}, line {line}: {problem}.")

    def fail(self, node: Node, problem: str) -> NoReturn:
        self.fail_at(node.start_mark.line + 1, problem)

    def catalog(self, text: str) -> FaqCatalog:
        root = self.compose(text)
        shape = 'the top level must be a mapping with a "categories" list'
        if root is None:
            self.fail_at(1, shape)
        if not isinstance(root, MappingNode):
            self.fail(root, shape)
        fields = self.fields(root, "the top level", ("categories",))
        if "categories" not in fields:
            self.fail(root, shape)
        _, node = fields["categories"]
        if not isinstance(node, SequenceNode) or not node.value:
            self.fail(node, '"categories" must be a non-empty list of categories')
        seen: dict[str, int] = {}
        categories = []
        for number, item in enumerate(node.value, start=1):
            category = self.category(item, number)
            if category.id in seen:
                self.fail(
                    item, f'category id "{category.id}" is already used on line {seen[category.id]}'
                )
            seen[category.id] = item.start_mark.line + 1
            categories.append(category)
        return FaqCatalog(tuple(categories))

    def compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = _sentence_part(error.problem or error.context or "unexpected content")
            start = error.context_mark
            if error.problem and error.context and start and mark and start.line != mark.line:
                problem += f", {_sentence_part(error.context)} started on line {start.line + 1}"
            # An unclosed bracket is found at the end of the stream, past the last line.
            last = max(len(text.splitlines()), 1)
            self.fail_at(
                min(mark.line + 1, last) if mark else 1, f"the YAML is invalid ({problem})"
            )
        except yaml.reader.ReaderError as error:
            line = text[: error.position].count("\n") + 1
            self.fail_at(line, f"the YAML is invalid ({_sentence_part(error.reason)})")
        except yaml.YAMLError as error:
            self.fail_at(1, f"the YAML is invalid ({_sentence_part(str(error))})")

    def fields(
        self, node: MappingNode, what: str, allowed: tuple[str, ...]
    ) -> dict[str, tuple[Node, Node]]:
        """Keys of a mapping; unknown or repeated keys are reported, since they are typos."""
        found: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.fail(key, f"{what} has a key that is not a plain word")
            name = str(key.value)
            if name not in allowed:
                expected = ", ".join(allowed)
                self.fail(key, f'{what} has an unknown key "{name}" (expected {expected})')
            if name in found:
                self.fail(key, f'{what} has the key "{name}" twice')
            found[name] = (key, value)
        return found

    def category(self, node: Node, number: int) -> FaqCategory:
        if not isinstance(node, MappingNode):
            self.fail(node, f"category #{number} must be a mapping with id, title and questions")
        fields = self.fields(node, f"category #{number}", ("id", "title", "questions"))
        category_id = self.slug(node, fields, f"category #{number}")
        what = f'category "{category_id}"'
        title = self.localized(node, fields, what, "title")
        if "questions" not in fields:
            self.fail(node, f"{what} has no questions")
        key, items = fields["questions"]
        if _is_null(items) or (isinstance(items, SequenceNode) and not items.value):
            self.fail(key, f"{what} has no questions")
        if not isinstance(items, SequenceNode):
            self.fail(items, f"the questions of {what} must be a list")
        seen: dict[str, int] = {}
        entries = []
        for index, item in enumerate(items.value, start=1):
            entry = self.entry(item, category_id, index)
            if entry.id in seen:
                self.fail(
                    item,
                    f'question id "{entry.id}" is used twice in {what} '
                    f"(first on line {seen[entry.id]})",
                )
            seen[entry.id] = item.start_mark.line + 1
            entries.append(entry)
        return FaqCategory(category_id, title, tuple(entries))

    def entry(self, node: Node, category_id: str, number: int) -> FaqEntry:
        place = f'question #{number} of category "{category_id}"'
        if not isinstance(node, MappingNode):
            self.fail(node, f"{place} must be a mapping with id, question and answer")
        allowed = ("id", "question", "answer", "link", "keywords")
        fields = self.fields(node, place, allowed)
        entry_id = self.slug(node, fields, place)
        what = f'question "{category_id}/{entry_id}"'
        question = self.localized(node, fields, what, "question")
        answer = self.localized(node, fields, what, "answer")
        link = self.link(fields["link"][1], what) if "link" in fields else None
        keywords = self.keywords(fields["keywords"][1], what) if "keywords" in fields else ()
        return FaqEntry(entry_id, category_id, question, answer, link, keywords)

    def slug(self, owner: Node, fields: dict[str, tuple[Node, Node]], what: str) -> str:
        if "id" not in fields:
            self.fail(owner, f'{what} has no "id"')
        node = fields["id"][1]
        value = self.text(node)
        rule = "an id must be 1-20 lowercase Latin letters, digits or hyphens"
        if value is None:
            self.fail(node, f"{what} has an id that is not a plain word, but {rule}")
        if not _SLUG.fullmatch(value):
            self.fail(node, f'{what} has the id "{value}", but {rule}')
        return value

    def localized(
        self, owner: Node, fields: dict[str, tuple[Node, Node]], what: str, field: str
    ) -> Localized:
        if field not in fields:
            self.fail(owner, f'{what} has no "{field}"')
        key, node = fields[field]
        if not isinstance(node, MappingNode):
            self.fail(node, f'the {field} of {what} must be a mapping with "uk" and "en" texts')
        texts = self.fields(node, f"the {field} of {what}", _LANGUAGES)
        found: dict[str, str] = {}
        for language in _LANGUAGES:
            if language not in texts:
                self.fail(key, f'{what} has no "{language}" {field}')
            value_node = texts[language][1]
            value = self.text(value_node)
            if value is None:
                self.fail(value_node, f'the "{language}" {field} of {what} must be text')
            if not value:
                self.fail(value_node, f'{what} has an empty "{language}" {field}')
            found[language] = value
        return Localized(uk=found["uk"], en=found["en"])

    def link(self, node: Node, what: str) -> FaqLink:
        owner = f"the link of {what}"
        if not isinstance(node, MappingNode):
            self.fail(node, f"{owner} must be a mapping with url and label")
        fields = self.fields(node, owner, ("url", "label"))
        if "url" not in fields:
            self.fail(node, f'{owner} has no "url"')
        url_node = fields["url"][1]
        url = self.text(url_node) or ""
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(c.isspace() for c in url)
        ):
            self.fail(url_node, f'{owner} must be an http:// or https:// address, not "{url}"')
        return FaqLink(url, self.localized(node, fields, owner, "label"))

    def keywords(self, node: Node, what: str) -> tuple[str, ...]:
        if _is_null(node):
            return ()
        problem = f"the keywords of {what} must be a list of words"
        if not isinstance(node, SequenceNode):
            self.fail(node, problem)
        words = []
        for item in node.value:
            word = self.text(item)
            if not word:
                self.fail(item, problem)
            words.append(word)
        return tuple(words)

    @staticmethod
    def text(node: Node) -> str | None:
        """A scalar's text as written (so `yes` stays "yes"), "" for null, None for non-scalars."""
        if not isinstance(node, ScalarNode):
            return None
        return "" if _is_null(node) else str(node.value).strip()


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _sentence_part(text: str) -> str:
    """PyYAML's wording, made to fit inside our one-sentence message."""
    return " ".join(text.split()).rstrip(".")
