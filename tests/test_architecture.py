"""The core stays platform-neutral: `bridge/` imports no aiogram, viberbot or aiohttp."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"aiogram", "viberbot", "aiohttp", "bot"}
CORE = Path(__file__).resolve().parent.parent / "bridge"


def imported_roots(source: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_no_platform_library() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path) & FORBIDDEN) for path in files
    }
    assert {name: found for name, found in offenders.items() if found} == {}
