"""DEPARTMENTS_FILE: what a correct file gives, and one sentence with file and line for each
mistake an admin makes by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.departments import Departments
from bridge.errors import ConfigError
from bridge.faq.catalog import FaqCatalog

CATALOG = FaqCatalog.shipped()
FIRST, SECOND, THIRD = (c.id for c in CATALOG.categories[:3])
GOOD = f"""\
default: sales
departments:
  - id: sales
    name: {{uk: Продаж полісів, en: Buying a policy}}
    group: -1001111111111
    faq: [{FIRST}, {SECOND}]
  - id: claims
    name: {{uk: Страхові випадки, en: Claims}}
    group: -1002222222222
    faq: [{THIRD}]
    hours: "mon-sun 00:00-24:00"
  - id: vip
    name: {{uk: VIP, en: VIP}}
    group: -1002222222222
"""


def load(tmp_path: Path, text: str) -> Departments:
    path = tmp_path / "departments.yaml"
    path.write_text(text, encoding="utf-8")
    return Departments.load(path, CATALOG, "Europe/Kyiv")


def test_a_good_file(tmp_path: Path) -> None:
    departments = load(tmp_path, GOOD)
    assert departments.default.id == "sales"
    assert [d.id for d in departments.all] == ["sales", "claims", "vip"]
    assert departments.groups == (-1001111111111, -1002222222222)  # one group, two departments
    assert departments.of_category(THIRD) is departments.get("claims")
    assert departments.of_category("nothing") is None
    assert departments.get("claims") is not None
    assert departments.get("claims").hours == "mon-sun 00:00-24:00"  # type: ignore[union-attr]
    assert departments.get("vip").name.get("en") == "VIP"  # type: ignore[union-attr]
    assert [d.id for d in departments.of_group(-1002222222222)] == ["claims", "vip"]
    assert departments.several


def test_without_a_file_one_department_is_the_operator_group() -> None:
    single = Departments.single(-1009999999999)
    assert single.groups == (-1009999999999,)
    assert not single.several
    assert single.of_category(FIRST) is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the top level must be a mapping"),
        ("departments: []\n", 1, '"departments" must be a list'),
        ("default: sales\ndepartments:\n  - id: Sales!\n", 3, 'the id "Sales!"'),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: 12\n",
            4,
            'the group of department "a" must be a supergroup id like -1001234567890, not "12"',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n",
            2,
            'department "a" has no "group"',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A}\n    group: -100\n",
            3,
            'has no "en" name',
        ),
        (
            "default: b\ndepartments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n",
            1,
            'the default "b" is not one of the departments (a)',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n"
            "  - id: b\n    name: {uk: B, en: B}\n    group: -200\n",
            1,
            '"default" must name one of them',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n"
            "    faq: [no-such]\n",
            5,
            'names FAQ category "no-such", which FAQ_FILE does not have',
        ),
        (
            f"default: a\ndepartments:\n  - id: a\n    name: {{uk: A, en: A}}\n    group: -100\n"
            f"    faq: [{FIRST}]\n  - id: b\n    name: {{uk: B, en: B}}\n    group: -200\n"
            f"    faq: [{FIRST}]\n",
            7,
            f'FAQ category "{FIRST}" is in both "a" and "b"',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n"
            "  - id: a\n    name: {uk: A, en: A}\n    group: -100\n",
            5,
            'department id "a" is already used on line 2',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n"
            '    hours: "someday 9-5"\n',
            5,
            'the hours of department "a" are not understood',
        ),
        (
            "departments:\n  - id: a\n    name: {uk: A, en: A}\n    group: -100\n    boss: me\n",
            5,
            'unknown key "boss"',
        ),
        ("departments: [\n", 1, "the YAML is invalid"),
    ],
)
def test_each_mistake_is_one_sentence_with_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(f"DEPARTMENTS_FILE {tmp_path / 'departments.yaml'}, line {line}: ")
    assert problem in message, message
    assert message.endswith(".") and "\n" not in message


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^DEPARTMENTS_FILE .*absent\.yaml cannot be read"):
        Departments.load(tmp_path / "absent.yaml", CATALOG, "Europe/Kyiv")
