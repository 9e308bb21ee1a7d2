"""Departments: which operator group serves which customers (DEPARTMENTS_FILE).

A company splits its team (sales, claims) into departments, each with its operators' forum
group; one group may serve several departments, and each group is a Telegram budget of its
own. A customer lands in the department of the FAQ category they browsed last. Without a file
there is one department, the group in OPERATOR_CHAT_ID, as before departments existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import MappingNode, Node, SequenceNode

from bridge.errors import ConfigError
from bridge.faq.catalog import FaqCatalog
from bridge.localized import Localized
from bridge.working_hours import Schedule
from bridge.yaml_file import YamlReader, is_null, read_text

SETTING = "DEPARTMENTS_FILE"
GROUP_PREFIX = "group:"
MAIN = "main"  # the one department when there is no file


def topic_link(group: int, topic: int | None) -> str | None:
    """A link to a topic of a private supergroup (t.me/c/…), for those in it."""
    text = str(group)
    if topic is None or not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{topic}"


def group_destination(group: int) -> str:
    """The outbox destination of an operator group: one worker and one budget each."""
    return f"{GROUP_PREFIX}{group}"


@dataclass(frozen=True)
class Department:
    id: str
    name: Localized
    group: int  # the operators' forum supergroup (a negative chat id)
    faq: tuple[str, ...] = ()  # FAQ categories whose customers land here
    hours: str | None = None  # its own WORKING_HOURS, if it has them


@dataclass(frozen=True)
class Departments:
    default: Department
    all: tuple[Department, ...]

    @classmethod
    def single(cls, group: int) -> Departments:
        main = Department(MAIN, Localized("Підтримка", "Support"), group)
        return cls(main, (main,))

    @property
    def groups(self) -> tuple[int, ...]:
        """Every operator group, the default department's first, each once."""
        return tuple(dict.fromkeys(d.group for d in (self.default, *self.all)))

    @property
    def several(self) -> bool:
        return len(self.all) > 1

    def get(self, department_id: str | None) -> Department | None:
        return next((d for d in self.all if d.id == department_id), None)

    def of_category(self, category_id: str | None) -> Department | None:
        return next((d for d in self.all if category_id in d.faq), None)

    def of_group(self, group: int) -> tuple[Department, ...]:
        return tuple(d for d in self.all if d.group == group)

    @classmethod
    def load(cls, path: Path, catalog: FaqCatalog, timezone: str) -> Departments:
        """Read and check the file; every mistake is a ConfigError naming file and line."""
        return _Parser(path, catalog, timezone).departments(read_text(SETTING, path))


class _Parser(YamlReader):
    def __init__(self, path: Path, catalog: FaqCatalog, timezone: str) -> None:
        super().__init__(SETTING, path)
        self.catalog = catalog
        self.timezone = timezone

    def departments(self, text: str) -> Departments:
        root = self.compose(text)
        shape = 'the top level must be a mapping with "default" and a "departments" list'
        if root is None:
            self.fail_at(1, shape)
        if not isinstance(root, MappingNode):
            self.fail(root, shape)
        fields = self.fields(root, "the top level", ("default", "departments"))
        if "departments" not in fields:
            self.fail(root, shape)
        key, items = fields["departments"]
        if not isinstance(items, SequenceNode) or not items.value:
            self.fail(items if not is_null(items) else key, '"departments" must be a list')
        found: list[Department] = []
        lines: dict[str, int] = {}
        served: dict[str, str] = {}
        for number, item in enumerate(items.value, start=1):
            department = self.department(item, number)
            if department.id in lines:
                self.fail(
                    item,
                    f'department id "{department.id}" is already used on line '
                    f"{lines[department.id]}",
                )
            lines[department.id] = item.start_mark.line + 1
            for category in department.faq:
                if category in served:
                    self.fail(
                        item,
                        f'FAQ category "{category}" is in both "{served[category]}" and '
                        f'"{department.id}"; a category leads to one department',
                    )
                served[category] = department.id
            found.append(department)
        default = found[0]
        if "default" in fields:
            node = fields["default"][1]
            chosen = self.text(node)
            default_department = next((d for d in found if d.id == chosen), None)
            if default_department is None:
                known = ", ".join(d.id for d in found)
                self.fail(node, f'the default "{chosen}" is not one of the departments ({known})')
            default = default_department
        elif len(found) > 1:
            self.fail(root, 'with several departments, "default" must name one of them')
        return Departments(default, tuple(found))

    def department(self, node: Node, number: int) -> Department:
        place = f"department #{number}"
        if not isinstance(node, MappingNode):
            self.fail(node, f"{place} must be a mapping with id, name and group")
        fields = self.fields(node, place, ("id", "name", "group", "faq", "hours"))
        department_id = self.slug(node, fields, place)
        what = f'department "{department_id}"'
        name = self.localized(node, fields, what, "name")
        if "group" not in fields:
            self.fail(node, f'{what} has no "group" (its operators\' forum supergroup id)')
        group_node = fields["group"][1]
        group_text = self.text(group_node) or ""
        if not group_text.lstrip("-").isdigit() or int(group_text) >= 0:
            self.fail(
                group_node,
                f"the group of {what} must be a supergroup id like -1001234567890, "
                f'not "{group_text}"',
            )
        faq = self.categories(fields["faq"][1], what) if "faq" in fields else ()
        hours = None
        if "hours" in fields:
            hours_node = fields["hours"][1]
            hours = self.text(hours_node) or None
            if hours is not None:
                try:
                    Schedule.parse(self.timezone, hours)
                except ConfigError as error:
                    reason = str(error).rstrip(".")
                    self.fail(hours_node, f"the hours of {what} are not understood ({reason})")
        return Department(department_id, name, int(group_text), faq, hours)

    def categories(self, node: Node, what: str) -> tuple[str, ...]:
        if is_null(node):
            return ()
        problem = f"the faq of {what} must be a list of FAQ category ids"
        if not isinstance(node, SequenceNode):
            self.fail(node, problem)
        ids = []
        for item in node.value:
            category = self.text(item)
            if not category:
                self.fail(item, problem)
            if self.catalog.category(category) is None:
                known = ", ".join(c.id for c in self.catalog.categories)
                self.fail(
                    item,
                    f'{what} names FAQ category "{category}", which FAQ_FILE does not have '
                    f"({known})",
                )
            ids.append(category)
        return tuple(ids)
