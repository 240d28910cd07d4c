"""The layers of issue 12, read from the source with `ast` (lazy imports inside functions count):

- `domain/` imports none of the other packages, nor a library of infrastructure;
- `storage/` imports none of the application's packages (it is the seam under them);
- `ledger/` and `projections/` import nothing of each other, but for one stored type: the read
  side handles the `Request` event class of `ledger.requests`, whose topic is in the stored events;
- nothing but `cli/` imports `cli`;
- no source file is over 300 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "storage", "ledger", "projections", "cli", "benchmarks")

# package → the top-level names its modules must not import (first dotted part)
FORBIDDEN = {
    "domain": {"storage", "ledger", "projections", "cli", "sqlalchemy", "marshmallow", "click", "psycopg", "sqlite3"},
    "storage": {"domain", "ledger", "projections", "cli", "marshmallow", "click"},
    "ledger": {"projections", "cli"},
    "projections": {"cli"},
}
# package → the only modules of a forbidden-looking package it may import
ALLOWED = {"projections": {"ledger.requests"}}


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, with its line (relative imports are not used in this code)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: a relative import"
            found.append((node.lineno, node.module or ""))
    return found


def crossings(package: str, root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module in imported(path):
            top = module.split(".")[0]
            if module in ALLOWED.get(package, set()):
                continue
            if top in FORBIDDEN.get(package, set()) or (top == "ledger" and package == "projections"):
                problems.append(f"{path.relative_to(root)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("package", ["domain", "storage", "ledger", "projections"])
def test_a_layer_imports_only_what_lies_beneath_it(package: str) -> None:
    assert crossings(package) == []


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    (tmp_path / "projections").mkdir()
    (tmp_path / "projections" / "bad.py").write_text(
        "from ledger.requests import Request\n\ndef f():\n    from ledger.app import Ledger\n    import cli.main\n")
    assert crossings("projections", tmp_path) == ["projections/bad.py:4 imports ledger.app",
                                                  "projections/bad.py:5 imports cli.main"]


def test_no_source_file_is_over_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for package in PACKAGES for p in (ROOT / package).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}
