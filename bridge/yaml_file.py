"""Reading a YAML settings file that people edit by hand (FAQ_FILE, DEPARTMENTS_FILE).

The file is checked node by node, so the first mistake is reported with the setting's name,
the file and the line, in one sentence, instead of a bare KeyError later.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from bridge.errors import ConfigError
from bridge.localized import LANGUAGES, Localized

SLUG = re.compile(r"[a-z0-9-]{1,20}")
_NULL_TAG = "tag:yaml.org,2002:null"


def read_text(setting: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{setting} {path} cannot be read: it is not UTF-8 text.") from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise ConfigError(f"{setting} {path} cannot be read: {reason}.") from None


class YamlReader:
    """Walks the composed node tree, which still knows the line of every value."""

    def __init__(self, setting: str, path: Path) -> None:
        self.setting = setting
        self.path = path

    def fail_at(self, line: int, problem: str) -> NoReturn:
        raise ConfigError(f"{self.setting} {self.path}, line {line}: {problem}.")

    def fail(self, node: Node, problem: str) -> NoReturn:
        self.fail_at(node.start_mark.line + 1, problem)

    def compose(self, text: str) -> Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = sentence_part(error.problem or error.context or "unexpected content")
            start = error.context_mark
            if error.problem and error.context and start and mark and start.line != mark.line:
                problem += f", {sentence_part(error.context)} started on line {start.line + 1}"
            # An unclosed bracket is found at the end of the stream, past the last line.
            last = max(len(text.splitlines()), 1)
            self.fail_at(
                min(mark.line + 1, last) if mark else 1, f"the YAML is invalid ({problem})"
            )
        except yaml.reader.ReaderError as error:
            line = text[: error.position].count("\n") + 1
            self.fail_at(line, f"the YAML is invalid ({sentence_part(error.reason)})")
        except yaml.YAMLError as error:
            self.fail_at(1, f"the YAML is invalid ({sentence_part(str(error))})")

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

    def localized(
        self, owner: Node, fields: dict[str, tuple[Node, Node]], what: str, field: str
    ) -> Localized:
        if field not in fields:
            self.fail(owner, f'{what} has no "{field}"')
        key, node = fields[field]
        if not isinstance(node, MappingNode):
            self.fail(node, f'the {field} of {what} must be a mapping with "uk" and "en" texts')
        texts = self.fields(node, f"the {field} of {what}", LANGUAGES)
        found: dict[str, str] = {}
        for language in LANGUAGES:
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

    @staticmethod
    def text(node: Node) -> str | None:
        """A scalar's text as written (so `yes` stays "yes"), "" for null, None for non-scalars."""
        if not isinstance(node, ScalarNode):
            return None
        return "" if is_null(node) else str(node.value).strip()

    def slug(self, owner: Node, fields: dict[str, tuple[Node, Node]], what: str) -> str:
        if "id" not in fields:
            self.fail(owner, f'{what} has no "id"')
        node = fields["id"][1]
        value = self.text(node)
        rule = "an id must be 1-20 lowercase Latin letters, digits or hyphens"
        if value is None:
            self.fail(node, f"{what} has an id that is not a plain word, but {rule}")
        if not SLUG.fullmatch(value):
            self.fail(node, f'{what} has the id "{value}", but {rule}')
        return value


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def sentence_part(text: str) -> str:
    """PyYAML's wording, made to fit inside our one-sentence message."""
    return " ".join(text.split()).rstrip(".")
