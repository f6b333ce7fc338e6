"""The house rules the code keeps (README: Development); `make lint` checks the import contracts.

Each rule here reads the source tree, so a change that breaks one fails the suite instead of drifting.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = [p for top in ("bot", "handlers", "storage") for p in sorted((ROOT / top).rglob("*.py"))]
CODE = [p for p in LIBRARY if "migrations" not in p.parts]
MAX_MODULE_LINES = 400
MAX_LISTENER_LINES = 25


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", CODE, ids=_rel)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_rel(path)} has {lines} lines: split it along the domain's seams"


def _listeners(tree: ast.Module) -> list[ast.AsyncFunctionDef]:
    """Async functions in a handlers module that Bolt calls: nested in `register`, or taking `ack`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and any(a.arg == "ack" for a in node.args.args):
            found.append(node)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "handlers").glob("*.py")), ids=_rel)
def test_listeners_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in _listeners(tree)
        if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_LISTENER_LINES
    }
    assert not long, f"listeners over {MAX_LISTENER_LINES} lines in {_rel(path)}: {long}"


@pytest.mark.parametrize("path", LIBRARY, ids=_rel)
def test_no_import_by_string(path: Path) -> None:
    # `importlib` targets hide imports from import-linter's contracts.
    assert "importlib" not in path.read_text(encoding="utf-8"), f"{_rel(path)} imports by string"


_OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|reference/|§|\bissue \d+\b")


@pytest.mark.parametrize("path", [*LIBRARY, *sorted((ROOT / "tests").rglob("*.py"))], ids=_rel)
def test_comments_cite_only_files_in_this_repository(path: Path) -> None:
    cited = [
        f"{number}: {line.strip()[:80]}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _OUTSIDE.search(line) and path.name != "test_architecture.py"
    ]
    assert not cited, f"{_rel(path)} cites documents that are not in this repository: {cited}"


def test_no_formatter_escapes() -> None:
    marked = [_rel(p) for p in [*LIBRARY, *(ROOT / "tests").rglob("*.py")] if "fmt: " + "skip" in p.read_text()]
    assert not marked, f"ruff format decides the layout; remove the markers in {marked}"
