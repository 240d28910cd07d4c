"""Security checks that can fail (SECURITY.md says what they cover and what they do not).

- A database password is in no message, no `--json` error and no log record, whatever goes
  wrong (refused port, unknown database or role, wrong password) and when all goes well.
- A new SQLite store is private: mode 0600 for the file made by `init`, `demo` (and `import`,
  which makes none: it needs an initialised store), and for SQLite's -wal and -shm files and
  the projections' lock files beside it — under a permissive umask.
- `?schema=` in `--db` is an SQL identifier: anything but a plain name is refused (exit 2,
  one sentence) before any connection, so no such schema is ever created.
- Professionals' names are in no log record, warning or stderr line during a full demo run.
- Text with SQL metacharacters is data: stored and shown verbatim, matching nothing else.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import stat
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import open_ledger
from ledger.demo import NURSES, TEACHERS
from storage.config import resolve
from tests.support.harness import POSTGRES_URL, Clock, Result, drop_schema
from tests.support.pgserver import RefusingServer

SECRET = "Pw-Zebra-0xC0FFEE-9137"
# The same secret with characters a URL must escape: neither form may show.
ODD_SECRET = "P@ss:w/rd 100%?#Zebra"

needs_postgres = pytest.mark.postgres  # skipped without STUDYLEDGER_TEST_POSTGRES_URL (tests/conftest.py)

LIBRARY_LOGGERS = ["", "cli", "ledger", "projections", "domain", "eventsourcing", "psycopg", "psycopg.pool",
                   "sqlalchemy"]


def invoke(*args: str, stdin: str | None = None, clock: Clock | None = None) -> Result:
    factory = functools.partial(open_ledger, clock=clock or Clock(), os_user="tester")
    outcome = CliRunner(env={"STUDYLEDGER_DB": None, "STUDYLEDGER_DEBUG": None}).invoke(
        cli, list(args), input=stdin, obj=factory, catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def one_sentence(result: Result, as_json: bool) -> str:
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    if as_json:
        error = json.loads(result.stderr)["error"]
        assert error["code"] == result.exit_code
        return error["message"]
    return result.stderr[:-1]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record, at every level, of our code and the libraries it drives."""
    for name in LIBRARY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


# --- 1. no password in any output ------------------------------------------------------------

COMMANDS = [
    ["init"],
    ["balance", "R-1"],
    ["professional", "register", "R-1", "--name", "Rosa", "--group", "nurse"],
    ["import", "-"],
    ["projections", "rebuild"],
    ["audit", "verify"],
]


def _server_url(password: str, *, host: str, port: int, user: str = "postgres", dbname: str = "test") -> str:
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}?schema=sec_x"


def _assert_no_secret(result: Result, logs: pytest.LogCaptureFixture, password: str) -> None:
    for text in (result.stdout, result.stderr, logs.text, *(str(r.args) for r in logs.records)):
        assert password not in text
        assert quote(password, safe="") not in text


@pytest.mark.parametrize("password", [SECRET, ODD_SECRET])
@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_refused_connection_shows_no_password(logs, args, as_json, password):
    url = _server_url(password, host="127.0.0.1", port=1)  # nothing listens there
    result = invoke("--db", url, *(["--json"] if as_json else []), *args, stdin="")
    assert result.exit_code == 4
    message = one_sentence(result, as_json)
    assert "Cannot connect" in message or "unavailable" in message
    _assert_no_secret(result, logs, password)


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_wrong_password_shows_no_password(logs, args, as_json):
    """Against a stand-in server that asks for the password and refuses it (the test database trusts
    every local connection, so it never refuses one)."""
    server = RefusingServer()
    try:
        url = _server_url(ODD_SECRET, host="127.0.0.1", port=server.port, user="register")
        result = invoke("--db", url, *(["--json"] if as_json else []), *args, stdin="")
    finally:
        server.close()
    assert result.exit_code == 4
    assert ODD_SECRET in server.passwords  # it was sent, decoded from the URL...
    assert "password authentication failed" in one_sentence(result, as_json)
    _assert_no_secret(result, logs, ODD_SECRET)  # ...and is shown nowhere


@needs_postgres
@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
@pytest.mark.parametrize("wrong", ["database", "role"])
def test_an_unknown_database_or_role_shows_no_password(logs, wrong, as_json):
    server = urlsplit(POSTGRES_URL)
    name = "no_such_" + uuid.uuid4().hex[:8]
    url = _server_url(SECRET, host=server.hostname or "127.0.0.1", port=server.port or 5432,
                      user=name if wrong == "role" else server.username or "postgres",
                      dbname=name if wrong == "database" else server.path.lstrip("/"))
    result = invoke("--db", url, *(["--json"] if as_json else []), "init")
    assert result.exit_code == 4
    assert name in one_sentence(result, as_json)
    _assert_no_secret(result, logs, SECRET)


@needs_postgres
@pytest.mark.parametrize("password", [SECRET, ODD_SECRET])
def test_a_working_store_shows_its_password_nowhere(logs, password):
    server = urlsplit(POSTGRES_URL)
    schema = "sec_" + uuid.uuid4().hex[:12]
    url = (f"postgresql://{server.username or 'postgres'}:{quote(password, safe='')}@{server.hostname}:"
           f"{server.port or 5432}{server.path}?schema={schema}")
    try:
        for args in (["init"], ["professional", "register", "R-1", "--name", "Rosa", "--group", "nurse"],
                     ["balance", "R-1"], ["projections", "status"], ["projections", "rebuild"], ["audit", "verify"],
                     ["audit", "digest"], ["policy", "show"], ["professional", "register", "R-1", "--name", "Rosa",
                                                               "--group", "nurse"]):
            for as_json in ([], ["--json"]):
                result = invoke("--db", url, *as_json, *args)
                assert result.exit_code in (0, 1), result.stderr
                _assert_no_secret(result, logs, password)
    finally:
        drop_schema(POSTGRES_URL, schema)


def test_a_stores_repr_holds_no_password():
    assert SECRET not in repr(resolve(f"postgresql://u:{SECRET}@127.0.0.1:5432/db?schema=s"))


# --- 2. a new SQLite store is private ------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # 0600 must come from the ledger, not from the umask
    try:
        yield
    finally:
        os.umask(old)


def _private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & 0o077 == 0, f"{path.name} is {oct(mode)}"


@pytest.mark.parametrize("form", ["path", "sqlite-url"])
@pytest.mark.parametrize("command", ["init", "demo"])
def test_a_new_sqlite_store_and_the_files_beside_it_are_mode_0600(tmp_path, permissive_umask, command, form):
    path = tmp_path / "new.db"
    db = str(path) if form == "path" else f"sqlite:///{path}"
    result = invoke("--db", db, command)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # With a connection held open, SQLite keeps its -wal and -shm files while others write.
    held = sqlite3.connect(path)
    try:
        held.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        for args in (["reviewer", "appoint", "V-9", "--name", "Vera"], ["review", "queue"], ["projections", "rebuild"]):
            assert invoke("--db", db, *args).exit_code == 0
        beside = sorted(p.name for p in tmp_path.glob("new.db?*"))
        assert {"new.db-wal", "new.db-shm"} <= set(beside), beside
        for name in beside:  # the -wal and -shm files, the projections' lock files
            _private(tmp_path / name)
    finally:
        held.close()
    _private(path)


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_import_into_a_missing_store_makes_no_file(tmp_path, permissive_umask, as_json):
    path = tmp_path / "missing.db"
    result = invoke("--db", str(path), *(["--json"] if as_json else []), "import", "-",
                    stdin='{"command": "professional register", "id": "R-1", "name": "Rosa", "group": "nurse"}\n')
    assert result.exit_code == 4
    assert "run 'studyledger init' first" in one_sentence(result, as_json)
    assert list(tmp_path.iterdir()) == []


# --- 3. ?schema= is a plain name ------------------------------------------------------------

BAD_SCHEMAS = [
    'a"b',
    'x"; DROP TABLE studyledger_events; --',
    'x".studyledger_events IN SHARE MODE; CREATE TABLE pwned(x int); --',
    "public,pg_catalog",
    "a b",
    "a -c default_transaction_read_only=off",
    "x&options=-cstatement_timeout=1",
    "1abc",
    "a.b",
    "s" * 64,  # PostgreSQL would cut it to 63 characters: another schema
    "Zoë",
    "Sec_Ok",  # the read models would look for sec_ok
    "a\nb",
    "a\x00b",
]


def _schema_url(schema: str) -> str:
    if POSTGRES_URL:
        separator = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{separator}schema={quote(schema, safe='')}"
    return f"postgresql://postgres@127.0.0.1:1/test?schema={quote(schema, safe='')}"


def _schema_exists(schema: str) -> bool:
    import psycopg

    with psycopg.connect(POSTGRES_URL) as connection:  # type: ignore[arg-type]
        return connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema[:63],)).fetchone() is not None


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
@pytest.mark.parametrize("schema", BAD_SCHEMAS, ids=range(len(BAD_SCHEMAS)))
@pytest.mark.parametrize("args", [["init"], ["audit", "verify"], ["projections", "catch-up"]], ids=" ".join)
def test_a_schema_that_is_not_a_plain_name_is_refused_before_connecting(logs, args, schema, as_json):
    result = invoke("--db", _schema_url(schema), *(["--json"] if as_json else []), *args)
    assert result.exit_code == 2, result.stderr  # 4 would mean it got as far as connecting
    message = one_sentence(result, as_json)
    assert message.startswith("Invalid input: --db")
    if POSTGRES_URL and "\x00" not in schema:
        assert not _schema_exists(schema)


@needs_postgres
@pytest.mark.parametrize("schema", ["sec_ok_{}", "_sec_{}"])
def test_a_plain_schema_name_is_used_as_given(schema):
    schema = schema.format(uuid.uuid4().hex[:8])
    try:
        assert invoke("--db", _schema_url(schema), "init").exit_code == 0
        assert _schema_exists(schema)
    finally:
        drop_schema(POSTGRES_URL, schema)  # type: ignore[arg-type]


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_a_nul_anywhere_in_the_url_is_refused(as_json):
    """libpq reads C strings: after a NUL (%00) it would drop host, port, user and password."""
    for url in ("postgresql://postgres:pw@127.0.0.1:1/te%00st?schema=s", "postgresql://postgres:p%00w@127.0.0.1:1/test"):
        result = invoke("--db", url, *(["--json"] if as_json else []), "init")
        assert result.exit_code == 2
        assert one_sentence(result, as_json) == "Invalid input: --db must not contain NUL characters (%00)."


# --- 4. no names in logs or on stderr -------------------------------------------------------

NAMES = [name for _, name in TEACHERS + NURSES] + ["Hanneke Vos", "Pieter de Graaf"]


@pytest.mark.slow  # the demo and a dozen commands on it
def test_a_full_demo_logs_and_warns_no_name(db_url, logs):
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        results = [invoke("--db", db_url, "demo")]
        results += [invoke("--db", db_url, "--json", "demo")]  # the demo is there already: nothing written
        results += [invoke("--db", db_url, *args) for args in (
            ["review", "queue"], ["balance", "T-1003"], ["audit", "history", "T-1003"], ["audit", "verify"],
            ["projections", "rebuild"], ["projections", "verify"], ["claim", "show", "demo-8"],
            # refused commands that concern named people
            ["professional", "register", "T-1001", "--name", "Anouk de Vries", "--group", "teacher-secondary"],
            ["reviewer", "appoint", "R-hvos", "--name", "Hanneke Vos"],
            ["claim", "endorse", "demo-8", "--by", "T-1003", "--statement", "Eva Dekker says so"],
        )]
    assert results[0].exit_code == 0, results[0].stderr
    assert [r.exit_code for r in results[1:]] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], [r.stderr for r in results]
    assert json.loads(results[1].stdout)["status"] == "already built"
    seen = "\n".join([logs.text, *(str(r.args) for r in logs.records), *(str(w.message) for w in warned),
                      *(r.stderr for r in results)])
    for name in NAMES:
        assert name not in seen


# --- 5. SQL metacharacters are data -------------------------------------------------------


def test_text_with_sql_metacharacters_is_stored_and_shown_verbatim(run):
    name = "Robert'); DROP TABLE stored_events; --"
    statement = "1' OR '1'='1\" -- ; SELECT * FROM pg_user; \\x00"
    assert run("professional", "register", "R-1", "--name", name, "--group", "nurse",
               "--registered-on", "2024-01-01").exit_code == 0
    assert run("professional", "register", "R-2", "--name", "Ann", "--group", "nurse",
               "--registered-on", "2024-01-01").exit_code == 0
    assert run("network", "register", "n-1", "--name", "N'; --", "--theme", "t", "--group", "nurse",
               "--founded-on", "2024-01-01").exit_code == 0
    for pid in ("R-1", "R-2"):
        assert run("network", "join", "n-1", pid, "--on", "2024-01-01").exit_code == 0
    claim = run("claim", "submit", "--professional", "R-1", "--network", "n-1", "--kind", "answer", "--on",
                "2025-01-01", "--hours", "1", "--description", statement, "--outcome", name,
                "--request-id", "k' OR 1=1 --").stdout.strip()
    assert run("claim", "endorse", claim, "--by", "R-2", "--statement", statement).exit_code == 0
    shown = run("--json", "claim", "show", "k' OR 1=1 --").json()
    assert (shown["description"], shown["outcome"], shown["endorsements"][0]["statement"]) == (statement, name, statement)
    for ref in ("' OR '1'='1", "k' OR 1=1 -- ", "%", "_", "*"):
        refused = run("claim", "show", ref)
        assert refused.exit_code == 1 and "UnknownClaim" in refused.stderr, refused.stderr
    assert run("audit", "verify").exit_code == 0


def test_a_short_password_is_redacted_only_where_it_stands_alone():
    from storage.errors import redact

    text = 'connection to "/var/run/postgresql" failed for user p with password p: p'
    assert redact(text, ("p",)) == 'connection to "/var/run/postgresql" failed for user *** with password ***: ***'
    assert redact("postgresql://u:s3cr3t@host/db says s3cr3t", ("s3cr3t",)) == "postgresql://u:***@host/db says ***"
