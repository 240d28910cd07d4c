"""The storage seam (issue 12): outside storage/, no module imports a database driver, holds SQL
text, or switches on the engine; and every error class maps to its documented exit code through
the CLI's one mapping (cli/errors.py), the errors themselves carrying none.

The source is read with `ast`, not imported: a driver imported lazily inside a function counts too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("domain", "ledger", "projections", "cli")  # every source package but storage/
DRIVERS = {"sqlite3", "psycopg", "psycopg2", "psycopg_pool"}
SQL_TEXT = re.compile(
    r"^\s*(SELECT\b|INSERT\s+INTO\b|UPDATE\s+\S+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX|SCHEMA)\b|DROP\s+\w|"
    r"ALTER\s+TABLE\b|PRAGMA\b|COPY\s+\S|LISTEN\b|NOTIFY\b|LOCK\s+TABLE\b|SET\s+(LOCAL|TRANSACTION)\b|BEGIN\b)"
)
ENGINES = {"sqlite", "postgresql", "postgres"}


def violations(path: Path) -> list[str]:
    """What in the module at `path` belongs behind the storage seam, one line each."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    sqlalchemy_text = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                       and (node.module or "").startswith("sqlalchemy") for alias in node.names if alias.name == "text"}
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in ("exec_driver_sql", "SQL") or (isinstance(called, ast.Name) and name in sqlalchemy_text) \
                    or (isinstance(called, ast.Attribute) and name == "text"
                        and getattr(called.value, "id", "") == "sqlalchemy"):
                found.append(f"{where} calls {name}()")
            if name == "__import__" and node.args and isinstance(node.args[0], ast.Constant) \
                    and str(node.args[0].value).split(".")[0] in DRIVERS:
                found.append(f"{where} imports {node.args[0].value}")
        elif isinstance(node, ast.Attribute) and (node.attr == "dialect" or node.attr.startswith("pg_")):
            found.append(f"{where} uses .{node.attr}")
        elif isinstance(node, ast.Compare):
            compared = [node.left, *node.comparators]
            if any(isinstance(c, ast.Constant) and c.value in ENGINES for c in compared):
                found.append(f"{where} switches on the engine")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if SQL_TEXT.match(node.value):
                found.append(f"{where} holds SQL text {node.value[:40]!r}")
    return found


def source(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def test_only_storage_holds_sql_or_a_driver() -> None:
    found = [line for path in source(*OUTSIDE) for line in violations(path)]
    assert not found, "belongs in storage/:\n" + "\n".join(found)


def test_the_check_finds_what_storage_holds() -> None:
    """The same check over storage/ itself finds each kind of thing it looks for: it is not blind."""
    found = "\n".join(line for path in source("storage") for line in violations(path))
    for kind in ("imports sqlite3", "imports from psycopg", "calls exec_driver_sql()", "calls SQL()",
                 "holds SQL text 'PRAGMA", "holds SQL text 'SELECT", "uses .dialect", "uses .pg_try_advisory_lock"):
        assert kind in found, kind


def test_every_error_maps_to_its_documented_exit_code() -> None:
    from cli.errors import EXIT_CODES, classify
    from domain.errors import DomainError, UnknownProfessional
    from ledger.errors import InvalidInput, LedgerError
    from ledger.keys import ProfessionalErased
    from projections.runner import Inconsistent
    from storage.errors import Busy, Conflict, InvalidAddress, StorageError, StorageFailure

    expected = {
        UnknownProfessional("x"): (1, "refused"),
        DomainError("x"): (1, "refused"),
        LedgerError("x"): (1, "refused"),
        ProfessionalErased("x"): (1, "refused"),
        InvalidInput("x"): (2, "invalid-input"),
        InvalidAddress("x"): (2, "invalid-input"),
        Conflict("x"): (3, "conflict"),
        Busy("x"): (3, "conflict"),
        StorageFailure("x"): (4, "storage"),
        Inconsistent("balances", "x"): (4, "storage"),
    }
    for error, code in expected.items():
        assert classify(error) == code, type(error).__name__
    assert classify(ValueError("x")) is None  # an unexpected error: main reports it as internal (4)
    assert classify(StorageError("x")) is None  # only its kinds are raised
    assert {code for _, code, _ in EXIT_CODES} == {1, 2, 3, 4}


def test_no_error_carries_an_exit_code() -> None:
    """Exit codes live in cli/errors.py only: no class outside cli/ sets one."""
    found = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in source("domain", "ledger", "projections", "storage")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.ClassDef) and any(
                 isinstance(s, (ast.Assign, ast.AnnAssign)) and any(
                     getattr(t, "id", "") in ("exit_code", "code")
                     for t in (s.targets if isinstance(s, ast.Assign) else [s.target])) for s in node.body)]
    assert not found, found


@pytest.mark.parametrize("argv, code, kind", [
    (["--db", "mysql://x/y", "balance", "P-1"], 2, "invalid-input"),  # storage.errors.InvalidAddress
    (["--db", "{missing}", "balance", "P-1"], 4, "storage"),  # StorageFailure: no ledger there
])
def test_the_cli_reports_storage_errors_with_their_codes(tmp_path: Path, argv: list[str], code: int, kind: str) -> None:
    import json

    from click.testing import CliRunner

    from cli.main import cli

    argv = [a.replace("{missing}", str(tmp_path / "none.db")) for a in argv]
    result = CliRunner().invoke(cli, ["--json", *argv])
    assert result.exit_code == code, result.output
    assert json.loads(result.stderr)["error"]["kind"] == kind
