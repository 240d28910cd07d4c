"""No module of the tests imports a test module or a conftest: what tests share lives in tests/support/.

A test module imported by another runs its module-level code twice over and ties the two
together by accident; a conftest is pytest's to import. Fixtures shared by a folder live in
that folder's conftest.py, where pytest finds them without an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
NOT_SOURCE = {"node_modules", "js", "data", "__pycache__"}


def is_test_module(name: str) -> bool:
    """`name` (dotted, under `tests`) is a test module or a conftest."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def imported(source: str, package: str) -> list[str]:
    """The dotted names under `tests` that `source`, the text of a module in `package`, imports."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 packages
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in names if name == "tests" or name.startswith("tests.")]


def cross_imports(root: Path) -> list[str]:
    """Every `path: name` where a module under `root` (the tests folder) imports a test module or a conftest."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if NOT_SOURCE & set(path.relative_to(root).parts[:-1]):
            continue
        package = ".".join(("tests", *path.relative_to(root).parts[:-1]))
        found += [f"{path.relative_to(root.parent)}: {name}"
                  for name in imported(path.read_text(encoding="utf-8"), package) if is_test_module(name)]
    return found


def test_no_module_of_the_tests_imports_a_test_module_or_a_conftest() -> None:
    assert cross_imports(TESTS) == []


def test_the_check_finds_every_form_of_import(tmp_path: Path) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "test_a.py").write_text(
        "import tests.cli.test_b\n"
        "from tests.cli.test_b import helper\n"
        "from tests.cli import test_b\n"
        "from .test_b import helper\n"
        "from . import test_b\n"
        "from tests.conftest import Clock\n"
        "from tests.support.harness import Clock\n"  # allowed
        "import os\n", encoding="utf-8")
    (tmp_path / "support.py").write_text("from tests.cli.test_a import helper\n", encoding="utf-8")
    assert cross_imports(tmp_path) == [f"{tmp_path.name}/cli/test_a.py: {name}" for name in (
        "tests.cli.test_b", "tests.cli.test_b", "tests.cli.test_b", "tests.cli.test_b", "tests.cli.test_b",
        "tests.conftest")] + [f"{tmp_path.name}/support.py: tests.cli.test_a"]
