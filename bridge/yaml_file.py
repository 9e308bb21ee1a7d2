"""Checking a YAML file that support staff edit by hand (FAQ_FILE, SNIPPETS_FILE).

The file is composed into nodes, which still know the line of every value, and walked node by
node, so the first mistake is reported as one sentence naming the setting, the file, the line
and what is wrong, instead of failing later with a bare KeyError or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from bridge.errors import ConfigError

_NULL_TAG = "tag:yaml.org,2002:null"


def read_text(setting: str, path: Path) -> str:
    """The file's text, or a ConfigError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{setting} {path} cannot be read: it is not UTF-8 text.") from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise ConfigError(f"{setting} {path} cannot be read: {reason}.") from None


class YamlChecker:
    """The walk's tools; a file's own checker adds what its entries must look like."""

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

    @staticmethod
    def text(node: Node) -> str | None:
        """A scalar's text as written (so `yes` stays "yes"), "" for null, None for non-scalars."""
        if not isinstance(node, ScalarNode):
            return None
        return "" if is_null(node) else str(node.value).strip()


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def sentence_part(text: str) -> str:
    """PyYAML's wording, made to fit inside our one-sentence message."""
    return " ".join(text.split()).rstrip(".")
