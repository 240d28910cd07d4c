"""The register key (SPEC §9), as the operator meets it on the command line.

`init` on a new store with no key given writes one (mode 0600) and says where; a second init
keeps it. An encrypted store without its key, with another register's key or with a file that
is no key at all is exit 4 with one sentence, and nothing is written. STUDYLEDGER_KEY (the key
in base64) does instead of a file. A store made before §9 (tests/data/ledger-v1.sqlite) needs
no key at all.

Each test unsets the test key tests/conftest.py gives every test, and sets what it needs.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import open_ledger
from tests.support.harness import Clock, Result
from tests.support.tampering import RawStore

DATA = Path(__file__).parents[1] / "data"
OTHER_KEY = base64.b64encode(b"another-register-key-32-bytes!!!").decode()
REGISTER = ("professional", "register", "P-1", "--name", "Pia", "--group", "nurse", "--registered-on", "2024-01-01")


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key given; the current folder is the test's (where PostgreSQL's default key file is looked for)."""
    monkeypatch.delenv("STUDYLEDGER_KEY", raising=False)
    monkeypatch.delenv("STUDYLEDGER_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli_run(db_url: str, clock: Clock) -> Any:
    """`studyledger --db <the test's store> ARGS…` in process, with no init done first."""
    factory = functools.partial(open_ledger, clock=clock, os_user="tester")

    def invoke(*args: str, db: str = db_url) -> Result:
        outcome = CliRunner().invoke(cli, ["--db", db, *args], obj=factory, catch_exceptions=False)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    return invoke


def default_key(db_url: str, tmp_path: Path) -> Path:
    """Where a key is written when none is given: beside a SQLite file; ./studyledger.key for PostgreSQL."""
    return Path(db_url + ".key") if not db_url.startswith("postgresql") else tmp_path / "studyledger.key"


def written(db_url: str) -> tuple[int, int]:
    """How many events and key-store people the store holds, read in SQL (no key needed)."""
    raw = RawStore(db_url)
    people = raw.execute("SELECT COUNT(*) FROM studyledger_people")[0][0]
    return len(raw.rows()), people


def one_sentence(stderr: str) -> str:
    assert stderr.endswith("\n") and stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr


# --- init makes a key when none is given -----------------------------------------------------------


def test_init_without_a_key_writes_one_readable_by_the_owner_only_and_says_where(
        no_key: None, cli_run: Any, db_url: str, tmp_path: Path) -> None:
    key = default_key(db_url, tmp_path)
    result = cli_run("init")
    assert result.exit_code == 0, result.stderr
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(base64.b64decode(key.read_text().strip(), validate=True)) == 32
    assert str(key) in result.stderr and "apart from the store's backups" in result.stderr
    assert str(key) not in result.stdout  # stdout says the store is ready; the note is for the operator
    made = key.read_bytes()
    again = cli_run("--json", "init")
    assert again.exit_code == 0, again.stderr
    assert "key_file" not in again.json() and again.stderr == ""  # no new key: nothing to say
    assert key.read_bytes() == made
    assert cli_run(*REGISTER).exit_code == 0  # the store opens with the key it made
    assert cli_run("--json", "balance", "P-1").json()["total"] == "0"


def test_init_json_names_the_key_file_it_wrote(no_key: None, cli_run: Any, db_url: str, tmp_path: Path) -> None:
    result = cli_run("--json", "init")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["key_file"] == str(default_key(db_url, tmp_path)) and shown["status"] == "ready"


def test_init_with_a_key_file_named_writes_none_and_a_second_init_keeps_it(
        no_key: None, cli_run: Any, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "keys" / "register.key"
    named.parent.mkdir()
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(named))
    first = cli_run("--json", "init")
    assert first.exit_code == 0 and first.json()["key_file"] == str(named)  # the file named did not exist
    made = named.read_bytes()
    assert not default_key(db_url, tmp_path).exists()
    assert "key_file" not in cli_run("--json", "init").json()
    assert named.read_bytes() == made


def test_init_where_the_key_cannot_be_written_is_exit_4_and_leaves_no_store_without_its_key(
        no_key: None, cli_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(tmp_path / "no-such-folder" / "register.key"))
    result = cli_run("init")
    assert result.exit_code == 4
    assert "no-such-folder" in one_sentence(result.stderr)
    # no key store was made with a key nobody has: the next init, given a place it can write, makes one
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(tmp_path / "register.key"))
    again = cli_run("--json", "init")
    assert again.exit_code == 0 and again.json()["key_file"] == str(tmp_path / "register.key"), again.stderr
    assert cli_run(*REGISTER).exit_code == 0


# --- an encrypted store without its key ----------------------------------------------------------


@pytest.fixture
def encrypted(no_key: None, cli_run: Any, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store made with a key file of its own, holding P-1; the key file's path."""
    key = tmp_path / "register.key"
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(key))
    assert cli_run("init").exit_code == 0
    assert cli_run(*REGISTER).exit_code == 0
    return key


def test_a_missing_key_is_exit_4_naming_where_it_was_looked_for_and_nothing_is_written(
        encrypted: Path, cli_run: Any, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = written(db_url)
    gone = tmp_path / "elsewhere.key"
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(gone))
    for args in (("professional", "register", "P-2", "--name", "Piet", "--group", "nurse"), ("balance", "P-1"),
                 ("init",)):
        result = cli_run(*args)
        assert result.exit_code == 4, (args, result.stderr)
        assert str(gone) in one_sentence(result.stderr) and "not found" in result.stderr
    monkeypatch.delenv("STUDYLEDGER_KEY_FILE")  # nothing named: the default place is where it looks
    result = cli_run("professional", "register", "P-2", "--name", "Piet", "--group", "nurse")
    assert result.exit_code == 4 and str(default_key(db_url, tmp_path)) in one_sentence(result.stderr)
    assert not gone.exists() and not default_key(db_url, tmp_path).exists()  # no key made for a store that has one
    assert written(db_url) == before


def test_json_errors_of_the_key_are_one_document(encrypted: Path, cli_run: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(tmp_path / "elsewhere.key"))
    result = cli_run("--json", "balance", "P-1")
    assert result.exit_code == 4
    assert json.loads(result.stderr)["error"]["code"] == 4


def test_another_register_s_key_does_not_open_the_store(encrypted: Path, cli_run: Any, db_url: str,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = written(db_url)
    other = tmp_path / "other.key"
    other.write_text(OTHER_KEY + "\n")
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(other))
    for args in (REGISTER[:2] + ("P-2",) + REGISTER[3:], ("balance", "P-1"), ("audit", "history", "P-1")):
        result = cli_run(*args)
        assert result.exit_code == 4, (args, result.stderr)
        assert "does not open" in one_sentence(result.stderr) and str(other) in result.stderr
    monkeypatch.setenv("STUDYLEDGER_KEY", OTHER_KEY)  # the variable, too, is named
    result = cli_run("balance", "P-1")
    assert result.exit_code == 4 and "STUDYLEDGER_KEY" in one_sentence(result.stderr)
    assert written(db_url) == before


@pytest.mark.parametrize("content", ["not base64 at all!\n", base64.b64encode(b"too short").decode(), "",
                                     "\xff\xfe".encode("latin-1").decode("latin-1")])
def test_a_key_file_that_holds_no_key_is_exit_4(encrypted: Path, cli_run: Any, db_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    before = written(db_url)
    bad = tmp_path / "bad.key"
    bad.write_bytes(content.encode("latin-1"))
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(bad))
    result = cli_run("professional", "register", "P-2", "--name", "Piet", "--group", "nurse")
    assert result.exit_code == 4, result.stderr
    assert str(bad) in one_sentence(result.stderr)
    assert written(db_url) == before


def test_the_key_from_the_variable_opens_what_it_made(no_key: None, cli_run: Any, db_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("STUDYLEDGER_KEY", key)
    made = cli_run("--json", "init")
    assert made.exit_code == 0 and "key_file" not in made.json()
    assert not default_key(db_url, tmp_path).exists()
    assert cli_run(*REGISTER).exit_code == 0
    assert cli_run("--json", "balance", "P-1").json()["total"] == "0"
    monkeypatch.delenv("STUDYLEDGER_KEY")  # and without it: the default file, which is not there
    assert cli_run("balance", "P-1").exit_code == 4
    (tmp_path / "k").write_text(key)  # the same key in a file does
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(tmp_path / "k"))
    assert cli_run("balance", "P-1").exit_code == 0


def test_a_store_made_before_encryption_opens_and_verifies_with_no_key(no_key: None, tmp_path: Path,
                                                                       clock: Clock) -> None:
    copy = tmp_path / "ledger-v1.sqlite"
    shutil.copy(DATA / "ledger-v1.sqlite", copy)
    run = functools.partial(CliRunner().invoke, cli, obj=functools.partial(open_ledger, clock=clock, os_user="t"),
                            catch_exceptions=False)
    digest = (DATA / "ledger-v1.digest").read_text().strip()
    verdict = run(["--db", str(copy), "--json", "audit", "verify", "--digest", digest])
    assert verdict.exit_code == 0 and json.loads(verdict.stdout)["ok"] is True, verdict.stdout + verdict.stderr
    balance = run(["--db", str(copy), "--json", "balance", "N-1", "--at", "2025-12-31"])
    assert balance.exit_code == 0, balance.stderr
    assert run(["--db", str(copy), "init"]).exit_code == 0
    assert not Path(str(copy) + ".key").exists()  # an old store is not made encrypted in place (see migrate)
