"""`studyledger migrate OLD NEW` on the command line: exit codes and sentences (SPEC §3), and that a
refused or failed migration writes nothing — not even a register key.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import open_ledger
from ledger.migrate import Replay
from tests.support.harness import Clock, Result

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def old(tmp_path: Path) -> Path:
    copy = tmp_path / "ledger-v1.sqlite"
    shutil.copy(DATA / "ledger-v1.sqlite", copy)
    return copy


def studyledger(*args: str) -> Result:
    factory = functools.partial(open_ledger, clock=Clock(), os_user="tester")
    outcome = CliRunner().invoke(cli, list(args), obj=factory, catch_exceptions=False)
    assert "Traceback" not in outcome.stderr
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def test_a_migration_prints_what_it_moved(old: Path, tmp_path: Path) -> None:
    result = studyledger("--json", "migrate", str(old), str(tmp_path / "new.db"))
    assert result.exit_code == 0, result.stderr
    moved = result.json()
    assert (moved["events"], moved["people"], moved["old"]) == (42, 5, str(old))
    assert moved["old_digest"] == (DATA / "ledger-v1.digest").read_text().strip()
    assert moved["key_made"] is None  # the tests' register key (STUDYLEDGER_KEY_FILE) is used
    human = studyledger("migrate", str(old), str(tmp_path / "other.db"))
    assert human.exit_code == 0 and human.stdout.startswith("Migrated 42 events from "), human.stdout


@pytest.mark.parametrize("args, code, says", [
    (["ftp://example.org/x", "{new}"], 2, "--db must be a file path"),
    (["{old}", "ftp://example.org/x"], 2, "--db must be a file path"),
    (["{old}\x00", "{new}"], 2, "NUL"),
    (["{old}.missing", "{new}"], 4, "There is no store at"),
    (["{new_folder}/x.db", "{new}"], 4, "There is no store at"),
    (["{old}", "{tmp}/no/such/folder/new.db"], 4, "the folder does not exist"),
    (["{not_a_ledger}", "{new}"], 4, "Cannot read the store at"),
    (["{empty_sqlite}", "{new}"], 4, "holds no ledger"),
    (["{old}"], 2, "Missing argument 'NEW'"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(old: Path, tmp_path: Path, args: list[str], code: int,
                                                      says: str) -> None:
    not_a_ledger = tmp_path / "notes.txt"
    not_a_ledger.write_text("not a ledger\n")
    sqlite3.connect(tmp_path / "empty.sqlite").execute("CREATE TABLE t (x)").connection.close()
    before = old.read_bytes()
    names = {"old": str(old), "new": str(tmp_path / "new.db"), "tmp": str(tmp_path),
             "new_folder": str(tmp_path), "not_a_ledger": str(not_a_ledger),
             "empty_sqlite": str(tmp_path / "empty.sqlite")}
    result = studyledger("migrate", *(a.format(**names) for a in args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert says in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "new.db").exists() and old.read_bytes() == before


def test_refusals_exit_1_with_json_errors(old: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    assert studyledger("migrate", str(old), str(new)).exit_code == 0
    into_full = studyledger("--json", "migrate", str(old), str(new))
    assert into_full.exit_code == 1
    error = json.loads(into_full.stderr)["error"]
    assert error["code"] == 1 and "holds events already" in error["message"]
    encrypted = studyledger("migrate", str(new), str(tmp_path / "again.db"))
    assert encrypted.exit_code == 1 and "encrypted already" in encrypted.stderr
    assert not (tmp_path / "again.db").exists()
    same = studyledger("migrate", str(old), str(old))  # OLD holds events: it is no new store
    assert same.exit_code == 1


def test_a_new_register_key_is_made_beside_a_new_file_and_removed_if_the_migration_fails(
        old: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("STUDYLEDGER_KEY_FILE", raising=False)
    monkeypatch.delenv("STUDYLEDGER_KEY", raising=False)
    real = Replay.moved

    def failing(self: Replay, event: Any) -> Any:
        if self.count == 20:
            raise OSError(28, "No space left on device")
        return real(self, event)

    monkeypatch.setattr(Replay, "moved", failing)
    failed = studyledger("migrate", str(old), str(tmp_path / "new.db"))
    assert failed.exit_code == 4, failed.stderr
    assert not list(tmp_path.glob("new.db*")), "neither the store nor its key is left"

    monkeypatch.setattr(Replay, "moved", real)
    done = studyledger("migrate", str(old), str(tmp_path / "new.db"))
    assert done.exit_code == 0, done.stderr
    key = tmp_path / "new.db.key"
    assert f"A new register key was written to {key}" in done.stdout
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_verify_migrated_from_on_a_store_never_migrated_is_a_problem(old: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    assert studyledger("--db", str(new), "init").exit_code == 0
    result = studyledger("--db", str(new), "--json", "audit", "verify", "--migrated-from", str(old))
    assert result.exit_code == 1 and "was not migrated" in result.json()["problems"][0]
    assert "migrated_from" not in result.json()
    bad = studyledger("--db", str(new), "audit", "verify", "--migrated-from", "ftp://x")
    assert bad.exit_code == 2, bad.stderr
