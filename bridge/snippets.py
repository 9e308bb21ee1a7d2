"""Operators' saved replies: short named texts in Ukrainian and English with a few variables.

They come from two places: `SNIPPETS_FILE` (YAML, checked at start like FAQ_FILE) and the
database (`/save <name>` in a topic, so every replica sees them and they survive restarts). A
text saved from a topic overrides the file's text in its language only.

A text is a template: `{first_name}` (the customer's), `{operator}` (the sender's first name)
and `{department}` are filled in when it is sent; `{{` and `}}` stand for braces themselves.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from yaml.nodes import MappingNode, Node, SequenceNode

from bridge.localized import LANGUAGES
from bridge.model import SavedSnippet
from bridge.yaml_file import YamlReader, is_null, read_text

NAME = re.compile(r"[a-z0-9-]{1,32}")
NAME_RULE = "a name is 1-32 lowercase Latin letters, digits or hyphens"

VARIABLES = ("first_name", "operator", "department")
TEXT_LIMIT = 4000  # one Telegram message (4096) with room for the variables filled in


@dataclass(frozen=True)
class Snippet:
    """One saved reply: its texts (templates) by language; at least one language."""

    name: str
    texts: Mapping[str, str]

    def text_for(self, language: str) -> tuple[str, str]:
        """(the language used, its template): the customer's, else the one there is."""
        if language in self.texts:
            return language, self.texts[language]
        other = next(code for code in (*LANGUAGES, *self.texts) if code in self.texts)
        return other, self.texts[other]


@dataclass(frozen=True)
class Variables:
    first_name: str
    operator: str
    department: str


def first_name(full_name: str) -> str:
    """The first word of a name as the platform gave it ("Iryna Operator" → "Iryna")."""
    words = full_name.split()
    return words[0] if words else full_name


def fill(template: str, values: Variables) -> str:
    """The text as the customer gets it; the template was checked (`template_problem`)."""
    return template.format_map(
        {
            "first_name": values.first_name,
            "operator": values.operator,
            "department": values.department,
        }
    )


def template_problem(text: str) -> str | None:
    """What is wrong with a text's variables, as part of a sentence, or None."""
    try:
        parts = list(Formatter().parse(text))
    except ValueError:
        return "a { or } stands alone (write {{ or }} for a brace itself)"
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in VARIABLES or spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "")
            written += (f":{spec}" if spec else "") + "}"
            known = "{first_name}, {operator} or {department}"
            return f"the variable {written} is unknown (use {known})"
    return None


def merged(from_file: Mapping[str, Snippet], saved: Iterable[SavedSnippet]) -> dict[str, Snippet]:
    """Every snippet by name: the file's, with texts saved from topics over them per language."""
    texts: dict[str, dict[str, str]] = {name: dict(s.texts) for name, s in from_file.items()}
    for snippet in saved:
        texts.setdefault(snippet.name, {})[snippet.language] = snippet.text
    return {name: Snippet(name, texts[name]) for name in sorted(texts)}


def closest(name: str, names: Iterable[str]) -> list[str]:
    """Names that look like a mistyped `name`, the likeliest first."""
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.5)


def load_file(path: Path | None) -> dict[str, Snippet]:
    """SNIPPETS_FILE's snippets (none when unset); a mistake is a ConfigError naming the line."""
    if path is None:
        return {}
    return _Parser(path).snippets(read_text("SNIPPETS_FILE", path))


class _Parser(YamlReader):
    def __init__(self, path: Path) -> None:
        super().__init__("SNIPPETS_FILE", path)

    def snippets(self, text: str) -> dict[str, Snippet]:
        root = self.compose(text)
        shape = 'the top level must be a mapping with a "snippets" list'
        if root is None:
            self.fail_at(1, shape)
        if not isinstance(root, MappingNode):
            self.fail(root, shape)
        fields = self.fields(root, "the top level", ("snippets",))
        if "snippets" not in fields:
            self.fail(root, shape)
        _, node = fields["snippets"]
        if is_null(node):
            return {}
        if not isinstance(node, SequenceNode):
            self.fail(node, '"snippets" must be a list of snippets, each with a name and a text')
        found: dict[str, Snippet] = {}
        lines: dict[str, int] = {}
        for number, item in enumerate(node.value, start=1):
            snippet = self.snippet(item, number)
            if snippet.name in found:
                self.fail(
                    item, f'the name "{snippet.name}" is already used on line {lines[snippet.name]}'
                )
            found[snippet.name] = snippet
            lines[snippet.name] = item.start_mark.line + 1
        return found

    def snippet(self, node: Node, number: int) -> Snippet:
        if not isinstance(node, MappingNode):
            self.fail(node, f"snippet #{number} must be a mapping with a name and a text")
        fields = self.fields(node, f"snippet #{number}", ("name", "text"))
        if "name" not in fields:
            self.fail(node, f'snippet #{number} has no "name"')
        name_node = fields["name"][1]
        name = self.text(name_node)
        if name is None or not NAME.fullmatch(name):
            shown = f'the name "{name}"' if name is not None else "a name that is not a word"
            self.fail(name_node, f"snippet #{number} has {shown}, but {NAME_RULE}")
        what = f'snippet "{name}"'
        if "text" not in fields:
            self.fail(node, f'{what} has no "text"')
        key, texts_node = fields["text"]
        if not isinstance(texts_node, MappingNode):
            self.fail(texts_node, f'the text of {what} must be a mapping with "uk" and/or "en"')
        texts: dict[str, str] = {}
        for language, (_, value) in self.fields(
            texts_node, f"the text of {what}", LANGUAGES
        ).items():
            text = self.text(value)
            if text is None:
                self.fail(value, f'the "{language}" text of {what} must be text')
            if not text:
                self.fail(value, f'{what} has an empty "{language}" text')
            if len(text) > TEXT_LIMIT:
                self.fail(value, f'the "{language}" text of {what} is longer than {TEXT_LIMIT}')
            problem = template_problem(text)
            if problem:
                self.fail(value, f'in the "{language}" text of {what}, {problem}')
            texts[language] = text
        if not texts:
            self.fail(key, f'{what} has no "uk" or "en" text')
        return Snippet(name, texts)
