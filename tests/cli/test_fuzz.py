"""Fuzzing the command line and `import`: whatever the input, the CLI answers as SPEC §3 says.

Hypothesis draws argument lists from a grammar of the real commands and options (§3) mixed
with junk — unknown options, options without a value or given twice, huge strings, unicode,
control characters, NUL bytes, lone surrogates, negative, huge and non-decimal numbers, bad
dates and instants, ids that exist and ids that do not, `--json` on and off — and import
files of JSON Lines: a coherent run of valid lines with bad lines (malformed JSON, wrong
types, unknown keys and commands, lines that break a rule) at any position.

Properties, on SQLite and PostgreSQL:
- never a traceback (the runner does not catch exceptions; nothing says "Traceback", and no
  "failed unexpectedly": that is a traceback turned into exit 4);
- the exit code is one of 0–4;
- a failure says one sentence on stderr and nothing on stdout (with `--json`: one
  `{"error": {"code", "message"}}` document whose code is the exit code);
- nothing is written unless the exit code is 0, and a read command writes nothing: the
  stored events (and their seals) are compared byte for byte before and after;
- an import with a bad line anywhere names that line and leaves the events as they were;
  one without bad lines imports every line.

Every example runs against the same small register, built once per engine. A command that
did write (exit 0) is undone by restoring the store to that register — on SQLite with the
backup API, on PostgreSQL by deleting the later events and seals and resetting the position
counter — so every example starts from the same state and a failure shrinks and replays.

Size: by default 400 command lines and 200 import files on SQLite, 160 and 80 on PostgreSQL
(about 35 s together on two shared cores). STUDYLEDGER_FUZZ_EXAMPLES=N runs N examples in
each of the four tests instead, e.g. `STUDYLEDGER_FUZZ_EXAMPLES=5000 pytest tests/cli/test_fuzz.py -k sqlite`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.app import open_ledger
from ledger.commands import schema_for
from storage.config import resolve
from projections.runner import ReadModels
from tests.support.commands import subcommands
from tests.support.harness import POSTGRES_URL, Clock, Result, drop_schema

FUZZ_EXAMPLES = os.environ.get("STUDYLEDGER_FUZZ_EXAMPLES")


def examples(default: int) -> int:
    return int(FUZZ_EXAMPLES) if FUZZ_EXAMPLES else default


def fuzz_settings(default: int) -> settings:
    return settings(
        max_examples=examples(default),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        # No "explain" phase: it replays each failing example many times over, for little news here.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )


# --- the register every example starts from ---------------------------------------------

PROFESSIONALS = ["R-1", "R-2", "R-3", "R-4"]  # R-4 is deregistered
REVIEWERS = ["V-1", "V-2"]  # V-2 is retired
NETWORKS = ["wound-care", "old-net"]  # old-net is closed
CLAIMS = ["c-1", "c-2", "c-3", "c-4"]  # submitted+endorsed, approved, returned, withdrawn
MISSING = ["R-404", "V-404", "no-such-network", "c-404", "x", "00000000-0000-0000-0000-000000000000"]


def build_register(ledger: Any) -> None:
    """Four nurses, two reviewers, two networks, and a claim in each state that matters."""
    for pid, name in zip(PROFESSIONALS, ["Rosa Jansen", "Ruud de Boer", "Rania Haddad", "Rik Smit"]):
        ledger.register_professional(id=pid, name=name, group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-1", name="Vera Dijkstra", on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-2", name="Victor Kok", on=date(2024, 1, 1))
    ledger.retire_reviewer(id="V-2", on=date(2025, 1, 1))
    ledger.register_network(id="wound-care", name="Wondzorg", theme=["wound-care"], group=["nurse"],
                            founded_on=date(2021, 9, 1))
    ledger.register_network(id="old-net", name="Oud netwerk", theme=["care"], group=["nurse"],
                            founded_on=date(2020, 1, 1))
    for pid in ("R-1", "R-2", "R-3", "R-4"):
        ledger.join_network(network="wound-care", professional=pid, on=date(2025, 1, 1))
    ledger.join_network(network="old-net", professional="R-1", on=date(2024, 2, 1))  # after registering (rule 8)
    ledger.close_network(id="old-net", on=date(2024, 6, 1))
    ledger.adopt_policy(effective_from=date(2025, 1, 1), cap=[("answer", Decimal(5))])
    claim = functools.partial(ledger.submit_claim, network="wound-care", kind="answer", hours=Decimal(2),
                              description="Advised on a pressure ulcer", outcome="A shared protocol")
    claim(professional="R-1", on=date(2025, 3, 4), request_id="c-1")
    ledger.endorse_claim(claim="c-1", by="R-2", statement="I used the protocol too")
    claim(professional="R-2", on=date(2025, 3, 5), request_id="c-2")
    ledger.endorse_claim(claim="c-2", by="R-3", statement="Yes")
    ledger.approve_claim(claim="c-2", reviewer="V-1", rationale="Clear outcome")
    claim(professional="R-3", on=date(2025, 3, 6), request_id="c-3")
    ledger.return_claim(claim="c-3", reviewer="V-1", reason="What changed in your practice?")
    claim(professional="R-1", on=date(2025, 3, 7), request_id="c-4")
    ledger.withdraw_claim(claim="c-4", by="R-1")
    ledger.deregister_professional(id="R-4", on=date(2026, 1, 1))


@dataclass
class Harness:
    """One engine's store holding the register, a CLI runner on it, and a way back to the register."""

    engine: str
    folder: Path
    clock: Clock = field(default_factory=Clock)
    url: str = ""
    schemas: list[str] = field(default_factory=list)
    claim_uuid: str = ""
    pristine_head: int = 0
    restores: int = 0
    _serial: int = 0

    def __post_init__(self) -> None:
        self._build()

    def _build(self) -> None:
        self._serial += 1
        if self.engine == "sqlite":
            self.url = str(self.folder / "ledger.db")
        else:
            schema = "fuzz_" + uuid.uuid4().hex[:12]
            self.schemas.append(schema)
            separator = "&" if "?" in POSTGRES_URL else "?"  # type: ignore[operator]
            self.url = f"{POSTGRES_URL}{separator}schema={schema}"
        store = resolve(self.url)
        ledger = open_ledger(store, create=True, clock=self.clock, os_user="tester")
        try:
            build_register(ledger)
            self.claim_uuid = str(ledger.claim_id("c-1"))
            self.pristine_head = ledger.recorder.max_notification_id()
            models = ReadModels(ledger.event_log)
            try:
                models.ensure()
                models.catch_up()
            finally:
                models.close()
        finally:
            ledger.close()
        if self.engine == "sqlite":
            with sqlite3.connect(self.url) as live, sqlite3.connect(self.folder / "pristine.db") as pristine:
                live.backup(pristine)
        self.pristine = self.fingerprint()

    def restore(self) -> None:
        """Back to the register as built (after a command that wrote)."""
        self.restores += 1
        if self.engine == "sqlite":
            with sqlite3.connect(self.folder / "pristine.db") as pristine, sqlite3.connect(self.url) as live:
                pristine.backup(live)
        else:
            # The events after the register's, their seals, and the position counter: a new schema
            # would cost half a second. (Writes do not touch the read models, and every example
            # that wrote is undone before the next one can catch them up.)
            import psycopg
            from psycopg import sql

            schema, head = self.schemas[-1], self.pristine_head
            events, seals = sql.Identifier(schema, "studyledger_events"), sql.Identifier(schema, "studyledger_seals")
            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection, connection.transaction():  # type: ignore[arg-type]
                connection.execute(sql.SQL("DELETE FROM {} WHERE notification_id > %s").format(events), (head,))
                connection.execute(sql.SQL("DELETE FROM {} WHERE position > %s").format(seals), (head,))
                connection.execute("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
                                   (events.as_string(connection), head))
            if self.fingerprint() != self.pristine:
                drop_schema(POSTGRES_URL, self.schemas.pop())  # type: ignore[arg-type]
                self._build()
        assert self.fingerprint() == self.pristine

    def close(self) -> None:
        for schema in self.schemas:
            drop_schema(POSTGRES_URL, schema)  # type: ignore[arg-type]

    def fingerprint(self) -> str:
        """A digest of every stored event row and seal, byte for byte, read in plain SQL."""
        digest = hashlib.sha256()
        for row in self._rows():
            digest.update(repr(row).encode("utf-8", "backslashreplace"))
        return digest.hexdigest()

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        if self.engine == "sqlite":
            with sqlite3.connect(f"file:{self.url}?mode=ro", uri=True) as connection:
                yield from connection.execute("SELECT rowid, * FROM stored_events ORDER BY rowid")
                yield ("seals",)
                yield from connection.execute("SELECT * FROM studyledger_seals ORDER BY position")
            return
        import psycopg
        from psycopg import sql

        schema = self.schemas[-1]
        with psycopg.connect(POSTGRES_URL) as connection:  # type: ignore[arg-type]
            for table, order in (("studyledger_events", "notification_id"), ("studyledger_seals", "position")):
                yield (table,)
                yield from connection.execute(sql.SQL("SELECT * FROM {} ORDER BY {}").format(
                    sql.Identifier(schema, table), sql.Identifier(order)))

    def invoke(self, args: list[str], stdin: str | bytes | None = None) -> Result:
        self.clock.tick()
        factory = functools.partial(open_ledger, clock=self.clock, os_user="tester")
        # In a folder of its own, without STUDYLEDGER_DB: `--db ""` means ./studyledger.db.
        cwd = self.folder / "cwd"
        cwd.mkdir(exist_ok=True)
        previous = os.getcwd()
        os.chdir(cwd)
        try:
            outcome = CliRunner(env={"STUDYLEDGER_DB": None}).invoke(cli, args, input=stdin, obj=factory,
                                                                      catch_exceptions=False)
        finally:
            os.chdir(previous)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


@contextmanager
def harness_on(engine: str) -> Iterator[Harness]:
    with tempfile.TemporaryDirectory(prefix="studyledger-fuzz-") as folder:
        made = Harness(engine, Path(folder))
        try:
            yield made
        finally:
            made.close()


# Module-scoped: built once per engine, and restored by the tests after every write.
@pytest.fixture(scope="module")
def on_sqlite() -> Iterator[Harness]:
    with harness_on("sqlite") as made:
        yield made


@pytest.fixture(scope="module")
def on_postgresql() -> Iterator[Harness]:
    with harness_on("postgresql") as made:
        yield made


# --- the properties every answer has -------------------------------------------------------


def check_answer(result: Result, args: list[str], as_json: bool) -> None:
    note(f"exit {result.exit_code}\nstdout: {result.stdout[:2000]!r}\nstderr: {result.stderr[:2000]!r}")
    assert result.exit_code in (0, 1, 2, 3, 4)
    for stream in (result.stdout, result.stderr):
        assert FUZZ_PASSWORD not in stream
        assert "Traceback" not in stream
        assert "failed unexpectedly" not in stream  # an exception the CLI did not expect
    if result.exit_code == 0:
        return
    if result.exit_code == 1 and result.stderr == "" and set(args) & {"verify"}:
        # `audit verify` and `projections verify` found a problem: their report, on stdout, is the answer.
        assert result.stdout
        if as_json:
            assert json.loads(result.stdout)["ok"] is False
        return
    assert result.stdout == "", "a failed command prints its sentence on stderr only"
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, "one line on stderr"
    if as_json:
        error = json.loads(result.stderr)["error"]
        assert error["code"] == result.exit_code
        message = error["message"]
    else:
        message = result.stderr[:-1]
    assert isinstance(message, str) and message.strip() == message and len(message) > 1
    assert "\n" not in message and "\r" not in message
    assert message.endswith((".", "?")), "one sentence"


# --- the grammar of the command line -----------------------------------------------------

ID, PROF, REV, NET, CLAIM, TEXT, DAY, INSTANT, HOURS, POINTS, AMOUNT, WHOLE, KIND, CAP = (
    "id", "professional", "reviewer", "network", "claim", "text", "day", "instant", "hours", "points", "amount",
    "whole", "kind", "cap")
FORMAT_MAP, FORMAT_HISTORY, PROJECTION, FILE, DIGEST, KEY = ("format-map", "format-history", "projection", "file",
                                                            "digest", "key")
FORMAT, STATUS = "format", "status"  # every read's --format table|json|csv; a claim's status


@dataclass(frozen=True)
class Opt:
    kind: str
    required: bool = False
    multiple: bool = False
    flag: bool = False


@dataclass(frozen=True)
class Cmd:
    path: tuple[str, ...]
    arguments: tuple[tuple[str, bool], ...] = ()  # (kind, required)
    options: tuple[tuple[str, Opt], ...] = ()
    writes: bool = True


R = Opt  # shorthand below
REQ = ("--request-id", R(KEY))
WHEN = (("--at", R(DAY)), ("--known-at", R(INSTANT)))
AS = ("--format", R(FORMAT))

COMMANDS: list[Cmd] = [
    Cmd(("init",), writes=False),
    Cmd(("policy", "adopt"), options=(("--effective-from", R(DAY, True)), ("--points-per-hour", R(AMOUNT)),
                                      ("--cap", R(CAP, multiple=True)), ("--min-endorsements", R(WHOLE)),
                                      ("--cycle-years", R(WHOLE)), ("--norm", R(AMOUNT)), REQ)),
    Cmd(("policy", "cancel"), options=(("--effective-from", R(DAY, True)), REQ)),
    Cmd(("policy", "show"), options=(("--at", R(DAY)), AS), writes=False),
    Cmd(("professional", "register"), ((ID, True),),
        (("--name", R(TEXT, True)), ("--group", R(ID, True)), ("--registered-on", R(DAY)), REQ)),
    Cmd(("professional", "deregister"), ((PROF, True),), (("--on", R(DAY, True)), REQ)),
    Cmd(("professional", "reinstate"), ((PROF, True),), (REQ,)),
    Cmd(("professional", "erase"), ((PROF, True),), (("--reason", R(TEXT, True)), REQ)),
    Cmd(("reviewer", "appoint"), ((ID, True),), (("--name", R(TEXT, True)), ("--on", R(DAY)), REQ)),
    Cmd(("reviewer", "retire"), ((REV, True),), (("--on", R(DAY, True)), REQ)),
    Cmd(("reviewer", "reinstate"), ((REV, True),), (REQ,)),
    Cmd(("reviewer", "erase"), ((REV, True),), (("--reason", R(TEXT, True)), REQ)),
    Cmd(("network", "register"), ((ID, True),),
        (("--name", R(TEXT, True)), ("--theme", R(ID, True, True)), ("--group", R(ID, True, True)),
         ("--founded-on", R(DAY)), REQ)),
    Cmd(("network", "close"), ((NET, True),), (("--on", R(DAY, True)), REQ)),
    Cmd(("network", "reopen"), ((NET, True),), (REQ,)),
    Cmd(("network", "join"), ((NET, True), (PROF, True)), (("--on", R(DAY, True)), REQ)),
    Cmd(("network", "leave"), ((NET, True), (PROF, True)), (("--on", R(DAY)), ("--cancel", R(DAY, flag=True)), REQ)),
    Cmd(("network", "members"), ((NET, True),), (*WHEN, AS), writes=False),
    Cmd(("network", "map"), (), (*WHEN, ("--theme", R(TEXT, multiple=True)), ("--group", R(ID, multiple=True)),
                                 ("--grid", R(DAY, flag=True)), ("--format", R(FORMAT_MAP))), writes=False),
    Cmd(("claim", "submit"), (), (("--professional", R(PROF, True)), ("--network", R(NET, True)),
                                  ("--kind", R(KIND, True)), ("--on", R(DAY, True)), ("--hours", R(HOURS, True)),
                                  ("--description", R(TEXT, True)), ("--outcome", R(TEXT, True)),
                                  ("--practice-change", R(TEXT)), REQ)),
    Cmd(("claim", "endorse"), ((CLAIM, True),), (("--by", R(PROF, True)), ("--statement", R(TEXT, True)), REQ)),
    Cmd(("claim", "withdraw"), ((CLAIM, True),), (("--by", R(PROF, True)), REQ)),
    Cmd(("claim", "amend"), ((CLAIM, True),), (("--by", R(PROF, True)), ("--kind", R(KIND)), ("--on", R(DAY)),
                                               ("--hours", R(HOURS)), ("--description", R(TEXT)),
                                               ("--outcome", R(TEXT)), ("--practice-change", R(TEXT)), REQ)),
    Cmd(("claim", "show"), ((CLAIM, True),), (AS,), writes=False),
    Cmd(("claim", "list"), (), (("--professional", R(PROF)), ("--network", R(NET)), ("--status", R(STATUS)),
                                ("--kind", R(KIND)), ("--limit", R(WHOLE)), AS), writes=False),
    Cmd(("review", "queue"), (), (("--network", R(NET)), ("--group", R(ID)), ("--kind", R(KIND)),
                                  ("--older-than", R(WHOLE)), ("--limit", R(WHOLE)), AS), writes=False),
    Cmd(("review", "approve"), ((CLAIM, True),), (("--reviewer", R(REV, True)), ("--points", R(POINTS)),
                                                  ("--rationale", R(TEXT, True)), REQ)),
    *[Cmd(("review", verb), ((CLAIM, True),), (("--reviewer", R(REV, True)), ("--reason", R(TEXT, True)), REQ))
      for verb in ("reject", "return", "revoke")],
    Cmd(("balance",), ((PROF, True),), (*WHEN, AS), writes=False),
    Cmd(("audit", "history"), ((ID, True),), (("--known-at", R(INSTANT)), ("--format", R(FORMAT_HISTORY))),
        writes=False),
    Cmd(("audit", "verify"), (), (("--digest", R(DIGEST)),), writes=False),
    Cmd(("audit", "digest"), writes=False),
    Cmd(("projections", "status"), (), (AS,), writes=False),
    Cmd(("projections", "catch-up"), ((PROJECTION, False),), writes=False),
    Cmd(("projections", "rebuild"), ((PROJECTION, False),), writes=False),
    Cmd(("projections", "verify"), writes=False),
    Cmd(("import",), ((FILE, True),)),
    Cmd(("demo",), writes=False),  # on a store that holds another register: refused
]
# `projections run` follows the log until it is stopped by a signal: not a command to run in process.
# `keys` and `credential` read and write key files and credentials at paths of their own (the signing
# key in the working folder by default): their hostile input is tested in tests/credentials/.
NOT_FUZZED = [("projections", "run"), ("keys", "init"), ("keys", "rotate"), ("keys", "show"),
              ("keys", "rewrap"), ("keys", "new-register-key"),
              ("credential", "issue"), ("credential", "verify"),
              ("migrate",)]  # OLD NEW: two stores, not the one the fuzzer drives
GROUPS = sorted({c.path[0] for c in COMMANDS if len(c.path) > 1})

days = st.dates(date(2019, 1, 1), date(2026, 7, 1)).map(date.isoformat)
valid_ids = st.from_regex(r"\A[A-Za-z0-9._-]{1,64}\Z")
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40).filter(str.strip)

# Values that are wrong for (nearly) every option, or right for none in particular.
junk = st.one_of(
    st.sampled_from([
        "", " ", "\t", "-", "--", "---", "-1", "0", "-0", "+2", " 2 ", "1e3", "1E-2", "0x10", "0b1", "1_0", "٣", "²",
        "１２", "NaN", "-inf", "Infinity", "1.005", "2.", ".5", "1,5", "9" * 40, "-" + "9" * 40, "1" + "0" * 400,
        "0." + "0" * 50 + "1", "true", "null", "[]", "{}", "'", '"', "\\", "%s", "%(x)s", "{0}", "?", "*", ";",
        "'; DROP TABLE stored_events; --", "\" OR 1=1 --", "$(id)", "`id`", "../../etc/passwd", "/dev/null",
        "2025-02-29", "2024-02-30", "2025-13-01", "2025-00-10", "0000-01-01", "0001-01-01", "9999-12-31",
        "2025-1-1", "20250304", "2025-W10-2", "2025-063", "2025-03-04T12:00:00", "2025-03-04T24:00:00Z",
        "2025-03-04T12:00:00+25:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2025-03-04 12:00:00Z", "today", "now",
        "a\x00b", "\x00", "\x1b[31mred\x1b[0m", "line\nbreak", "cr\rreturn", "\u202etxet", "\ufeff", "\u200b",
        "\udcff", "a\ud800b", "Zoë", "名前", "🙂", "R-1\n", "R 1", "R/1", "R-1;", "x" * 65, "x" * 10_001,
        "question=", "=2", "answer=3=4", "answer=-1", "lecture=2",
        # issue 11: invisible-only text, claim-id-shaped keys, formula and quote-bearing names
        "\u200b", "\u200b\u200c\u200d", "\ufeff\u2060", " \u3164 ", "\u0301", "\u2800",
        "00000000-0000-0000-0000-000000000000", "URN:UUID:00000000-0000-0000-0000-000000000000",
        "urn:uuid:00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}",
        '=HYPERLINK("https://evil.example","x")', "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3",
        'Innocent", URL="https://evil.example", comment="', "back\\slash\\", '"', "\\N\\G",
    ]),
    st.text(max_size=30),
    st.text(st.characters(max_codepoint=0x1F), max_size=10),
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers(1, 30_000).map(lambda n: "y" * n),
)


def good_value(kind: str, harness: Harness) -> st.SearchStrategy[str]:
    """Values that may well be right for an option of `kind` (a rule may still refuse them)."""
    existing = {PROF: PROFESSIONALS, REV: REVIEWERS, NET: NETWORKS}
    if kind in existing:
        return st.one_of(st.sampled_from(existing[kind] + MISSING), valid_ids)
    return {
        ID: st.one_of(st.sampled_from(PROFESSIONALS + REVIEWERS + NETWORKS + ["nurse", "R-9", "wound-care-2"]),
                      valid_ids),
        CLAIM: st.sampled_from([*CLAIMS, harness.claim_uuid, harness.claim_uuid.upper(), *MISSING, str(uuid.uuid4())]),
        TEXT: text,
        DAY: days,
        INSTANT: st.one_of(days, st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())),
        HOURS: st.sampled_from(["1", "2", "0.5", "1.25", "40", "8"]),
        POINTS: st.sampled_from(["1", "2.5", "4", "5", "8", "100"]),
        AMOUNT: st.sampled_from(["0.5", "1", "2", "160", "1000"]),
        WHOLE: st.integers(0, 12).map(str),
        KIND: st.sampled_from(["question", "answer", "co-construction", "facilitation"]),
        CAP: st.tuples(st.sampled_from(["question", "answer", "co-construction", "facilitation"]),
                       st.sampled_from(["1", "2.5", "10"])).map("=".join),
        FORMAT_MAP: st.sampled_from(["table", "json", "csv", "dot", "svg"]),
        FORMAT: st.sampled_from(["table", "json", "csv"]),
        STATUS: st.sampled_from(["submitted", "approved", "rejected", "returned", "withdrawn", "revoked"]),
        FORMAT_HISTORY: st.sampled_from(["table", "json", "csv"]),
        PROJECTION: st.sampled_from(["balances", "memberships", "claims"]),
        FILE: st.sampled_from(["-", "/nonexistent/file.jsonl", "/", "/dev/null", str(harness.folder), "a\x00b"]),
        DIGEST: st.sampled_from(["sl1-1-00", "sl1-999-" + "0" * 32, "nonsense"]),
        KEY: st.one_of(st.sampled_from([*CLAIMS, "k-1"]), text),
    }[kind]


def value(kind: str, harness: Harness) -> st.SearchStrategy[str]:
    return st.one_of(good_value(kind, harness), good_value(kind, harness), junk)


FUZZ_PASSWORD = "Secret-Fuzz-7"
OTHER_DBS = [
    "mysql://root@localhost/ledger", "sqlite:///", "postgresql://u@127.0.0.1:notaport/db", "postgresql://u@127.0.0.1/",
    "/nonexistent-folder/ledger.db", 'postgresql://u@127.0.0.1:1/db?schema=a"b', "postgresql://u@127.0.0.1:1/db%00x",
    f"postgresql://postgres:{FUZZ_PASSWORD}@127.0.0.1:1/test", "", "://", "file:///x",
]


@st.composite
def command_lines(draw: st.DrawFn, harness: Harness) -> tuple[list[str], Cmd | None]:
    """(arguments after `--db URL`, the command they mean to run or None)."""
    if draw(st.integers(0, 19)) == 0:  # pure junk
        return draw(st.lists(st.one_of(junk, st.sampled_from(["--json", "--db", "-h", "--version", *GROUPS])),
                             max_size=6)), None
    cmd = draw(st.sampled_from(COMMANDS))
    words: list[str] = list(cmd.path)
    for kind, required in cmd.arguments:
        if required or draw(st.booleans()):
            words.append(draw(value(kind, harness)))
    for name, opt in cmd.options:
        if not opt.required and draw(st.integers(0, 2)) != 0:
            continue
        if opt.flag:
            words.append(name)
            continue
        for _ in range(draw(st.integers(1, 3)) if opt.multiple else 1):
            words += [name, draw(value(opt.kind, harness))]
    mutations = draw(st.lists(st.sampled_from(
        ["drop", "repeat", "unknown", "dangling", "extra", "junk", "shuffle", "json-late", "help", "equals"]),
        max_size=3))
    for mutation in mutations:
        options = [i for i, w in enumerate(words) if w.startswith("--") and i + 1 < len(words)]
        if mutation == "drop" and options:
            i = draw(st.sampled_from(options))
            del words[i : i + 2]
        elif mutation == "repeat" and options:
            i = draw(st.sampled_from(options))
            words += [words[i], draw(st.one_of(st.just(words[i + 1]), junk))]
        elif mutation == "unknown":
            words += [draw(st.sampled_from(["--colour", "--force", "-x", "--nam", "--Name", "--db", "--json=1"])),
                      draw(junk)]
        elif mutation == "dangling" and cmd.options:
            words.append(draw(st.sampled_from([name for name, _ in cmd.options])))
        elif mutation == "extra":
            words.append(draw(st.one_of(good_value(ID, harness), junk)))
        elif mutation == "junk":
            words.insert(draw(st.integers(0, len(words))), draw(junk))
        elif mutation == "shuffle" and len(words) > len(cmd.path):
            rest = words[len(cmd.path):]
            words = words[: len(cmd.path)] + draw(st.permutations(rest))
        elif mutation == "json-late":
            words.insert(draw(st.integers(0, len(words))), "--json")
        elif mutation == "help":
            words.append(draw(st.sampled_from(["--help", "-h"])))
        elif mutation == "equals" and options:
            i = draw(st.sampled_from(options))
            words[i : i + 2] = [f"{words[i]}={words[i + 1]}"]
    return words, cmd


@st.composite
def invocations(draw: st.DrawFn, harness: Harness) -> tuple[list[str], Cmd | None, bool]:
    words, cmd = draw(command_lines(harness))
    as_json = draw(st.booleans())
    prefix = ["--db", harness.url]
    if draw(st.integers(0, 24)) == 0:
        prefix = ["--db", draw(st.sampled_from(OTHER_DBS))]
    if as_json:
        prefix.append("--json")
    return [*prefix, *words], cmd, as_json


def test_the_grammar_knows_every_command():
    """The grammar covers the real CLI: every leaf command of `studyledger`, no more."""
    import click

    def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
        for name, command in subcommands(group):
            if isinstance(command, click.Group):
                yield from leaves(command, (*path, name))
            else:
                yield (*path, name)

    assert sorted(leaves(cli)) == sorted([*(c.path for c in COMMANDS), *NOT_FUZZED])


@pytest.mark.slow
@fuzz_settings(400)
@given(data=st.data())
def test_any_command_line_on_sqlite(on_sqlite, data):
    any_command_line(on_sqlite, data)


@pytest.mark.slow
@pytest.mark.postgres
@fuzz_settings(160)
@given(data=st.data())
def test_any_command_line_on_postgresql(on_postgresql, data):
    any_command_line(on_postgresql, data)


def any_command_line(harness: Harness, data: Any) -> None:
    """Exit 0–4, one sentence on failure, and no event written unless exit 0 (reads: none at all)."""
    args, cmd, _ = data.draw(invocations(harness), label="args")
    stdin = data.draw(st.one_of(st.just(""), st.just('{"command": "nonsense"}\n'), st.just("\x00\xff")), label="stdin")
    before = harness.fingerprint()
    result = harness.invoke(args, stdin)
    event(f"exit {result.exit_code}")
    # `--json` anywhere in the line makes an error a JSON document (cli.main), even in the wrong place.
    check_answer(result, args, "--json" in args)
    after = harness.fingerprint()
    try:
        if result.exit_code != 0 or cmd is None or not cmd.writes:
            assert after == before, "a failed or read command wrote events"
        elif "--json" in args[:3] and not {"--help", "-h", "--version"} & set(args):
            json.loads(result.stdout)
    finally:
        if after != harness.pristine:
            harness.restore()


# --- import files --------------------------------------------------------------------------

# A coherent run of commands that the register above accepts in this order (any prefix of it too).
VALID_RUN: list[dict[str, Any]] = [
    {"command": "professional register", "id": "I-1", "name": "Iris Bos", "group": "nurse", "registered_on": "2024-02-01"},
    {"command": "professional register", "id": "I-2", "name": "Ivo Meijer", "group": "nurse", "registered_on": "2024-02-01"},
    {"command": "network register", "id": "imp-net", "name": "Valpreventie", "theme": ["falls", "care"],
     "group": ["nurse"], "founded_on": "2023-01-01"},
    {"command": "network join", "network": "imp-net", "professional": "I-1", "on": "2024-03-01"},
    {"command": "network join", "network": "imp-net", "professional": "I-2", "on": "2024-03-01"},
    {"command": "claim submit", "professional": "I-1", "network": "imp-net", "kind": "co-construction",
     "on": "2025-05-01", "hours": "3.5", "description": "Built a falls checklist with the ward",
     "outcome": "A checklist in use on three wards", "practice_change": "I check footwear first", "request_id": "imp-1"},
    {"command": "claim endorse", "claim": "imp-1", "by": "I-2", "statement": "We use it daily"},
    {"command": "review approve", "claim": "imp-1", "reviewer": "V-1", "points": 3, "rationale": "Tangible outcome"},
    {"command": "claim endorse", "claim": "c-1", "by": "R-3", "statement": "Seen it work"},
    {"command": "review reject", "claim": "c-1", "reviewer": "V-1", "reason": "No outcome for the practice"},
    {"command": "policy adopt", "effective_from": "2026-01-01", "norm": 120, "cap": ["answer=6"]},
    {"command": "network leave", "network": "imp-net", "professional": "I-2", "on": "2025-12-31"},
    {"command": "reviewer appoint", "id": "V-3", "name": "Wendy Wit", "on": "2025-01-01"},
    {"command": "claim amend", "claim": "c-3", "by": "R-3", "hours": "1.5", "practice_change": "I ask first"},
]

# Lines a rule refuses whatever valid lines (a prefix of VALID_RUN) come before them.
RULE_BREAKING: list[dict[str, Any]] = [
    {"command": "professional register", "id": "R-1", "name": "Rosa again", "group": "nurse"},
    {"command": "network join", "network": "wound-care", "professional": "R-404", "on": "2025-01-01"},
    {"command": "claim endorse", "claim": "c-1", "by": "R-1", "statement": "My own"},
    {"command": "review approve", "claim": "c-4", "reviewer": "V-1", "rationale": "Withdrawn"},
    {"command": "review approve", "claim": "c-1", "reviewer": "V-2", "rationale": "Retired reviewer"},
    {"command": "claim submit", "professional": "R-2", "network": "wound-care", "kind": "answer", "on": "2027-01-01",
     "hours": "1", "description": "d", "outcome": "o"},
    {"command": "claim submit", "professional": "R-1", "network": "old-net", "kind": "answer", "on": "2025-01-01",
     "hours": "1", "description": "d", "outcome": "o"},
    {"command": "claim withdraw", "claim": "c-2", "by": "R-2"},
    {"command": "claim endorse", "claim": "c-404", "by": "R-2", "statement": "Unknown claim"},
    {"command": "review revoke", "claim": "c-2", "reviewer": "V-404", "reason": "Unknown reviewer"},
]

# Wrong values for each kind of field (every one of them is refused by the schema).
BAD_VALUES: dict[str, list[Any]] = {
    "id": ["", "R 1", "R/1", "x" * 65, "Zoë", "R-1\n", 7, 1.5, True, None, [], {}, ["R-1"]],
    "text": ["", "   ", "a\x00b", "x" * 10_001, "\ud800", 3, True, None, [], {"a": 1},
             "\u200b", "\u200b\u200d\ufeff", " \u3164 ", "\u2060\u202e", "\u0301"],  # invisible only (issue 11)
    "day": ["2025-02-30", "2025-13-01", "2025-1-1", "20250304", "2025-W10-2", "today", "", 20250304, None, True,
            ["2025-01-01"]],
    "hours": ["0", "-1", "41", "40.01", "2.555", "two", "NaN", "Infinity", "1e1", "0x10", "", True, None, [], {},
              0, -1, 41, 2.555, 1e400, "1" + "0" * 400],
    "amount": ["-1", "0", "1.005", "x", "1" + "0" * 40, 1e400, True, None, [], -0.5],
    "kind": ["lecture", "Answer", "", 1, None, True, ["answer"]],
    "list": ["nurse", [], [""], ["a b"], [1], [None], None, True, {}],
    "caps": [["answer"], ["lecture=6"], ["answer=x"], [1], [None], True, {}],  # no caps ([]) is allowed
    "whole": ["1.5", "x", "-1", "٣", 1.5, 10**30, True, None, []],
    "key": ["", "x" * 201, "\udcff", 5, True, None, [], {},
            "00000000-0000-0000-0000-000000000000", "urn:uuid:6ba39a69-2b63-482d-92b0-c03f0a0b95f1",
            "6BA39A692B63482D92B0C03F0A0B95F1", "{6ba39a69-2b63-482d-92b0-c03f0a0b95f1}"],  # claim-id forms
}
FIELD_KINDS = {
    "id": "id", "group": "id", "network": "id", "professional": "id", "by": "id", "reviewer": "id",
    "name": "text", "description": "text", "outcome": "text", "practice_change": "text", "statement": "text",
    "rationale": "text", "reason": "text",
    "registered_on": "day", "founded_on": "day", "on": "day", "effective_from": "day",
    "hours": "hours", "points": "amount", "norm": "amount", "kind": "kind", "theme": "list",
    "claim": "key", "request_id": "key", "cap": "caps", "min_endorsements": "whole",
}


def dumps(draw: st.DrawFn, line: dict[str, Any]) -> str:
    """One JSON line, keys in any order, spaced or not, escaped or not."""
    keys = draw(st.permutations(list(line)))
    ordered = {key: line[key] for key in keys}
    compact = draw(st.booleans())
    text = json.dumps(ordered, ensure_ascii=draw(st.booleans()), separators=(",", ":") if compact else (", ", ": "))
    if not text.isascii() and not text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") == text:
        text = json.dumps(ordered)  # a lone surrogate goes into the file as its JSON escape
    return text


@st.composite
def bad_lines(draw: st.DrawFn) -> str | bytes:
    """A line that is refused wherever it stands (bytes: a line that is no UTF-8)."""
    way = draw(st.sampled_from(["truncated", "junk", "not-an-object", "command", "wrong-value", "unknown-key",
                                "missing-key", "rule", "not-utf8", "deep", "repeated-key"]))
    base = dict(draw(st.sampled_from(VALID_RUN + RULE_BREAKING)))
    if way == "truncated":
        text = dumps(draw, base)
        return text[: draw(st.integers(1, len(text) - 1))]
    if way == "junk":
        return draw(st.text(st.characters(exclude_characters="\n\r"), min_size=1, max_size=60)
                    .filter(lambda t: t.strip() and not t.strip().startswith("{")))
    if way == "not-an-object":
        return json.dumps(draw(st.sampled_from([[], [base], 1, -2.5, "claim submit", None, True, ""])))
    if way == "command":
        command = draw(st.sampled_from([None, 1, ["claim", "submit"], "", "claim delete", "Claim Submit",
                                        " claim submit", "claim  submit", "claim", "balance", "init", "import",
                                        "demo", "claim show"]))
        if command is None and draw(st.booleans()):
            base.pop("command")
        else:
            base["command"] = command
        return dumps(draw, base)
    if way == "wrong-value":
        fields_ = [key for key in base if key != "command"]
        key = draw(st.sampled_from(fields_))
        required = schema_for(base["command"]).fields[key].required
        # null is an optional option left out
        base[key] = draw(st.sampled_from([v for v in BAD_VALUES[FIELD_KINDS[key]] if required or v is not None]))
        return dumps(draw, base)
    if way == "unknown-key":
        base[draw(st.sampled_from(["colour", "Name", "request-id", "registeredOn", "", "__proto__", "id "]))] = "x"
        return dumps(draw, base)
    if way == "missing-key":
        fields_ = schema_for(base["command"]).fields
        base.pop(draw(st.sampled_from(sorted(key for key in base if key in fields_ and fields_[key].required))))
        return dumps(draw, base)
    if way == "rule":
        return dumps(draw, draw(st.sampled_from(RULE_BREAKING)))
    if way == "deep":  # nested far beyond any command's shape (a RecursionError was exit 4)
        depth = draw(st.sampled_from([33, 100, 5_000, 100_000]))
        opener = draw(st.sampled_from(["[", '{"a": ']))
        closer = "]" if opener == "[" else "}"
        inner = opener * depth + "1" + closer * depth
        return draw(st.sampled_from([inner, opener * depth, '{"command": ' + inner + "}"]))
    if way == "repeated-key":  # the last value would win silently
        text = dumps(draw, base)
        key = draw(st.sampled_from(sorted(base)))
        return text[:-1] + ", " + json.dumps(key) + ": " + json.dumps(base[key] if isinstance(base[key], str) else "x") + "}"
    return dumps(draw, base).encode("utf-8").replace(b"{", b"{\xff", 1)


@st.composite
def import_files(draw: st.DrawFn) -> tuple[bytes, int, int | None, bool]:
    """(file contents, valid lines, number of the first bad line or None, whether any line is not UTF-8)."""
    valid = [dumps(draw, line) for line in VALID_RUN[: draw(st.integers(0, len(VALID_RUN)))]]
    lines: list[str | bytes] = list(valid)
    bad = draw(st.lists(bad_lines(), max_size=3))
    for line in bad:
        lines.insert(draw(st.integers(0, len(lines))), line)
    for _ in range(draw(st.integers(0, 2))):  # blank lines are skipped, but counted
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "\t"])))
    first_bad = next((number for number, line in enumerate(lines, 1) if any(line is b for b in bad)), None)
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    # A lone surrogate written out raw (not as a JSON escape) cannot be UTF-8: in a file it is
    # the bytes Python's "surrogatepass" gives it, which are not UTF-8 either.
    encoded = [line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass") for line in lines]
    body = end.join(encoded)
    if lines and draw(st.booleans()):
        body += end
    if draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body  # a byte-order mark is not part of line 1
    not_utf8 = any(isinstance(line, bytes) or line.encode("utf-8", "surrogatepass") != line.encode("utf-8", "replace")
                   for line in lines)
    return body, len(valid), first_bad, not_utf8


@pytest.mark.slow
@fuzz_settings(200)
@given(data=st.data())
def test_any_import_file_on_sqlite(on_sqlite, data):
    any_import_file(on_sqlite, data)


@pytest.mark.slow
@pytest.mark.postgres
@fuzz_settings(80)
@given(data=st.data())
def test_any_import_file_on_postgresql(on_postgresql, data):
    any_import_file(on_postgresql, data)


def any_import_file(harness: Harness, data: Any) -> None:
    """All or nothing: with a bad line anywhere, the events stay byte for byte as they were and the
    error names the first bad line; without one, every line is imported."""
    body, valid, first_bad, not_utf8 = data.draw(import_files(), label="file")
    as_json = data.draw(st.booleans(), label="--json")
    from_stdin = data.draw(st.booleans(), label="stdin")
    path = harness.folder / "commands.jsonl"
    path.write_bytes(body)
    args = ["--db", harness.url, *(["--json"] if as_json else []), "import", "-" if from_stdin else str(path)]
    before = harness.fingerprint()
    assert before == harness.pristine
    result = harness.invoke(args, body if from_stdin else None)
    event(f"exit {result.exit_code}")
    check_answer(result, args, as_json)
    after = harness.fingerprint()
    try:
        if first_bad is None:
            assert result.exit_code == 0, result.stderr
            if as_json:
                assert result.json()["commands"] == valid
            assert (after != before) == (valid > 0)
            return
        assert result.exit_code in (1, 2)
        assert after == before, "a refused import wrote events"
        message = json.loads(result.stderr)["error"]["message"] if as_json else result.stderr
        named = re.search(r"\bLine (\d+)\b", message)
        if not_utf8 and not named:
            # The file is decoded a block at a time, as it is read: a line that is no UTF-8 may be
            # found before the lines above it are applied.
            assert "is not UTF-8 text" in message
        else:
            assert named and int(named.group(1)) == first_bad, message
    finally:
        if after != harness.pristine:
            harness.restore()
