"""Issue 14: the reviewer's, auditor's and operator's day — find, filter, export, see progress.

Each test uses an output as its user would: a CSV read back with Python's csv reader and summed
to the balance, a claim id copied from a table and given to `claim show`, a digest passed to
`audit verify --digest` through the shell.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import cli.context
from tests.support.commands import subcommands
from tests.support.harness import count_events
from tests.support.snapshots import Snapshots

STUDYLEDGER = str(Path(sys.executable).with_name("studyledger"))


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


def usage(result: Any) -> str:
    """The one sentence of an exit-2 refusal."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr.strip()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class Register:
    """Nurses A-1…A-3 and teacher B-1; networks care (nurse) and didactics (teacher-secondary); reviewer V-1."""

    def __init__(self, run: Any, clock: Any, *, built: bool = False):
        """Registers them with `run`, unless the store holds them already (`built`)."""
        self.run, self.clock = run, clock
        if built:
            return
        ok(run("network", "register", "care", "--name", "Wondzorg", "--theme", "wound-care", "--group", "nurse",
               "--founded-on", "2020-01-01"))
        ok(run("network", "register", "didactics", "--name", "Digitale didactiek", "--theme", "digital",
               "--theme", "feedback", "--group", "teacher-secondary", "--founded-on", "2020-01-01"))
        for who, name, group in (("A-1", "Anna Smit", "nurse"), ("A-2", "Bas Bos", "nurse"), ("A-3", "Cor Mol", "nurse"),
                                 ("B-1", "Dirk de Wit", "teacher-secondary"), ("B-2", "Eva Dam", "teacher-secondary")):
            ok(run("professional", "register", who, "--name", name, "--group", group, "--registered-on", "2024-01-01"))
            ok(run("network", "join", "care" if group == "nurse" else "didactics", who, "--on", "2024-02-01"))
        ok(run("reviewer", "appoint", "V-1", "--name", "Vera Kok", "--on", "2024-01-01"))

    def submit(self, who: str, key: str, network: str = "care", kind: str = "answer", on: str = "2025-03-04",
               hours: str = "2", description: str = "Advised on a pressure ulcer") -> str:
        return ok(self.run("claim", "submit", "--professional", who, "--network", network, "--kind", kind, "--on", on,
                           "--hours", hours, "--description", description, "--outcome", "A protocol",
                           "--request-id", key)).stdout.strip()

    def endorse(self, key: str, by: str) -> None:
        ok(self.run("claim", "endorse", key, "--by", by, "--statement", "I was there"))


@pytest.fixture
def reg(run: Any, clock: Any, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Register:
    """The register: built by the first test of each engine, a copy of it for the others."""
    def build() -> None:
        Register(run, clock)

    snapshots.register("cli-day", db_url, clock, build, tmp_path)
    return Register(run, clock, built=True)


@pytest.fixture
def decided(reg: Register, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Register:
    """A-1: k1 approved 2, k2 approved 1.5 then revoked, k3 returned, k4 waiting; B-1: k5 waiting.
    Built by the first test of each engine, a copy of it for the others."""
    snapshots.register("cli-day-decided", db_url, reg.clock, lambda: _decide(reg), tmp_path)
    return reg


def _decide(reg: Register) -> None:
    run, clock = reg.run, reg.clock
    for key, hours, on in (("k1", "2", "2025-03-04"), ("k2", "1.5", "2025-04-01"), ("k3", "3", "2025-05-01")):
        clock.tick(hours=1)
        reg.submit("A-1", key, hours=hours, on=on)
        reg.endorse(key, "A-2")
    clock.tick(hours=1)
    ok(run("review", "approve", "k1", "--reviewer", "V-1", "--rationale", "Clear"))
    ok(run("review", "approve", "k2", "--reviewer", "V-1", "--rationale", "Clear"))
    ok(run("review", "return", "k3", "--reviewer", "V-1", "--reason", "What changed?"))
    clock.tick(hours=1)
    ok(run("review", "revoke", "k2", "--reviewer", "V-1", "--reason", "Counted twice"))
    clock.tick(days=20)
    reg.submit("A-1", "k4", kind="question", hours="1", on="2025-06-01")
    clock.tick(days=10)
    reg.submit("B-1", "k5", network="didactics", kind="co-construction", hours="12", on="2025-06-02")
    reg.endorse("k5", "B-2")
    clock.tick(days=1)


# --- the auditor ------------------------------------------------------------------------


def test_history_csv_points_sum_to_the_balance_with_activity_and_membership_dates(decided: Register) -> None:
    run = decided.run
    text = ok(run("audit", "history", "A-1", "--format", "csv")).stdout
    table = rows(text)
    summed = sum(Decimal(r["points"]) for r in table if r["role"] == "claimant" and r["points"])
    assert str(summed) == "2.0"
    assert Decimal(ok(run("--json", "balance", "A-1")).json()["total"]) == summed
    assert Decimal(table[-1]["balance"]) == summed
    # a spreadsheet can reproduce `balance --at D`: postings carry their activity dates
    at = "2025-03-31"
    until_at = sum(Decimal(r["points"]) for r in table
                   if r["role"] == "claimant" and r["points"] and r["activity_date"] <= at)
    assert Decimal(ok(run("--json", "balance", "A-1", "--at", at)).json()["total"]) == until_at == Decimal(2)
    joined = [r for r in table if r["type"] == "MembershipJoined"]
    assert [(r["network"], r["on"]) for r in joined] == [("care", "2024-02-01")]
    assert [r["on"] for r in table if r["type"] == "ProfessionalRegistered"] == ["2024-01-01"]
    assert all(r["recorded_at"].endswith("+00:00") for r in table)  # every instant with its time zone


def test_a_claim_id_copied_from_the_history_table_is_accepted_by_claim_show(decided: Register) -> None:
    run = decided.run
    table = ok(run("audit", "history", "A-1")).stdout.splitlines()
    header = table[1].split()
    assert header[:5] == ["recorded", "event", "as", "by", "claim"]
    submitted = next(line.split() for line in table if " ClaimSubmitted " in line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", submitted[0])  # UTC, said so
    shown = ok(run("claim", "show", submitted[4]))
    assert shown.stdout.startswith(f"Claim {submitted[4]}  [approved]\n  request id       k1\n")


def test_a_reviewers_history_lists_their_decisions(decided: Register) -> None:
    document = ok(decided.run("--json", "audit", "history", "V-1")).json()
    assert document["reviewer"] == "V-1" and "professional" not in document
    decisions = [(e["type"], e.get("points"), e.get("professional"), e.get("network")) for e in document["events"]
                 if e.get("claim")]
    assert decisions == [("ClaimApproved", "2", "A-1", "care"), ("ClaimApproved", "1.5", "A-1", "care"),
                         ("ClaimReturned", None, None, None), ("ClaimRevoked", "-1.5", "A-1", "care")]
    assert document["events"][0]["type"] == "ReviewerAppointed"
    human = ok(decided.run("audit", "history", "V-1")).stdout
    assert human.startswith("History of reviewer V-1 (instants in UTC):\n")
    refused = decided.run("audit", "history", "NOBODY")
    assert (refused.exit_code, refused.stderr) == (
        1, "Refused (rule 1, UnknownProfessional): no professional or reviewer 'NOBODY' is registered.\n")


def test_as_known_before_a_person_was_recorded_every_read_answers_the_same_way(reg: Register) -> None:
    run, clock = reg.run, reg.clock
    clock.tick(days=1)
    ok(run("professional", "register", "L-1", "--name", "Late", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("network", "register", "late", "--name", "Late network", "--theme", "t", "--group", "nurse",
           "--founded-on", "2024-01-01"))
    before = "2026-06-15T23:00:00Z"
    balance = ok(run("balance", "L-1", "--known-at", before)).stdout
    assert balance.splitlines()[1:] == ["  total   0", "  (L-1 was not yet on the register as known then)"]
    members = ok(run("network", "members", "late", "--known-at", before)).stdout
    assert members == ("Members of late on 2026-06-16, as known at 2026-06-15T23:00:00Z (0):\n"
                       "  (none: late was not yet registered then)\n")
    history = ok(run("audit", "history", "L-1", "--known-at", before)).stdout
    assert history == ("No events concerning L-1 were recorded by 2026-06-15T23:00:00Z: not yet on the register "
                       "then.\n")
    documents = [ok(run("--json", *args, "--known-at", before)).json()
                 for args in (["balance", "L-1"], ["network", "members", "late"], ["audit", "history", "L-1"])]
    assert [d["recorded"] for d in documents] == [False, False, False]
    # and as known now, each of them was recorded
    assert [ok(run("--json", *args)).json()["recorded"]
            for args in (["balance", "L-1"], ["network", "members", "late"], ["audit", "history", "L-1"])] == [True] * 3


def test_headers_say_as_known_at_in_utc_to_the_fraction_of_a_second(reg: Register) -> None:
    run, clock = reg.run, reg.clock
    reg.submit("A-1", "k1")
    reg.endorse("k1", "A-2")
    clock.tick(microseconds=250_000)
    ok(run("review", "approve", "k1", "--reviewer", "V-1", "--rationale", "ok"))  # at 12:00:00.250000Z
    before = ok(run("balance", "A-1", "--known-at", "2026-06-15T13:00:00.1+01:00")).stdout.splitlines()
    after = ok(run("balance", "A-1", "--known-at", "2026-06-15T12:00:00.25Z")).stdout.splitlines()
    assert before[:2] == ["Balance of A-1 on 2026-06-15 (as known at 2026-06-15T12:00:00.100000Z)", "  total   0"]
    assert after[:2] == ["Balance of A-1 on 2026-06-15 (as known at 2026-06-15T12:00:00.250000Z)", "  total   2"]
    assert ok(run("network", "map")).stdout.startswith(
        "Networks on 2026-06-15, as known at 2026-06-15T12:00:00.250000Z:\n")
    assert ok(run("network", "members", "care", "--known-at", "2026-06-15T14:00:00+02:00")).stdout.startswith(
        "Members of care on 2026-06-15, as known at 2026-06-15T12:00:00Z (3):\n")


@pytest.mark.processes  # a shell and two studyledger children
def test_a_digest_passed_through_the_shell_verifies(reg: Register, db_url: str) -> None:
    db = db_url.replace("'", "'\\''")
    script = (f"'{STUDYLEDGER}' --db '{db}' audit verify --digest "
              f"\"$('{STUDYLEDGER}' --db '{db}' audit digest 2>/dev/null)\"")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "the digest matches: no event up to" in done.stdout


# --- the reviewer -----------------------------------------------------------------------


def test_the_queue_shows_request_ids_names_and_activity_dates_with_numbers_right_aligned(decided: Register) -> None:
    lines = ok(decided.run("review", "queue")).stdout.splitlines()
    assert lines[0] == "2 claims waiting, oldest first:"
    assert lines[1].split() == ["submitted", "claim", "request", "id", "professional", "name", "network", "kind",
                                "activity", "hours", "endorsements", "suggested"]
    k4, k5 = lines[3], lines[4]
    assert k4.split()[2:5] == ["k4", "A-1", "Anna"] and "2025-06-01" in k4 and "0 (1 needed)" in k4
    assert k5.split()[2:5] == ["k5", "B-1", "Dirk"] and "1 (1 needed)" in k5
    # hours and suggested points end in the same column on every row
    assert k4.endswith("1") and k5.endswith("8")  # k5: 12 hours, capped at 8
    assert len(k4) == len(k5) == len(lines[1])
    assert k4.index(" 1  0 (") == k5.index("12  1 (")


@pytest.mark.parametrize(("filters", "expected"), [
    ([], ["k4", "k5"]),
    (["--network", "care"], ["k4"]),
    (["--group", "teacher-secondary"], ["k5"]),
    (["--kind", "co-construction"], ["k5"]),
    (["--older-than", "5"], ["k4"]),  # k4 waits 11 days, k5 1 day
    (["--older-than", "30"], []),
    (["--limit", "1"], ["k4"]),
])
def test_the_queue_is_filtered(decided: Register, filters: list[str], expected: list[str]) -> None:
    document = ok(decided.run("--json", "review", "queue", *filters)).json()
    assert [c["request_id"] for c in document["claims"]] == expected
    assert document["total"] == (2 if filters == ["--limit", "1"] else len(expected))
    table = rows(ok(decided.run("review", "queue", *filters, "--format", "csv")).stdout)
    assert [r["request_id"] for r in table] == expected


def test_the_queue_says_when_the_limit_cut_it_and_refuses_bad_filters(decided: Register) -> None:
    assert ok(decided.run("review", "queue", "--limit", "1")).stdout.startswith(
        "The oldest 1 of 2 claims waiting (--limit), oldest first:\n")
    assert usage(decided.run("review", "queue", "--limit", "0")) == "Invalid input: --limit must be at least 1."
    assert usage(decided.run("review", "queue", "--kind", "lecture")).startswith("Invalid input: --kind must be one of")
    assert usage(decided.run("review", "queue", "--older-than", "a week")) == (
        "Invalid input: --older-than must be a whole number.")


def test_a_returned_claim_is_found_again_with_claim_list(decided: Register) -> None:
    run = decided.run
    table = ok(run("claim", "list", "--status", "returned")).stdout.splitlines()
    assert table[0] == "1 claim, newest first:"
    claim_id = table[3].split()[1]
    assert ok(run("--json", "claim", "show", claim_id)).json()["request_id"] == "k3"
    mine = ok(run("--json", "claim", "list", "--professional", "A-1")).json()
    assert [(c["request_id"], c["status"], c["points"]) for c in mine["claims"]] == [
        ("k4", "submitted", None), ("k3", "returned", None), ("k2", "revoked", "1.5"), ("k1", "approved", "2")]
    assert [c["request_id"] for c in ok(run("--json", "claim", "list", "--kind", "question")).json()["claims"]] == ["k4"]
    assert ok(run("--json", "claim", "list", "--network", "didactics", "--limit", "5")).json()["total"] == 1
    assert ok(run("claim", "list", "--professional", "NOBODY")).stdout == "No claims match.\n"
    assert usage(run("claim", "list", "--status", "lost")).startswith("Invalid input: --status must be one of")


def test_claim_show_shows_the_request_id_and_wraps_long_texts(reg: Register, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    long = "Explained how the ward documents pressure ulcers between shifts, " * 3
    reg.submit("A-1", "long-one", description=long.strip())
    lines = ok(reg.run("claim", "show", "long-one")).stdout.splitlines()
    assert lines[1] == "  request id       long-one"
    start = next(i for i, line in enumerate(lines) if line.startswith("  description      "))
    described = lines[start:next(i for i, line in enumerate(lines) if line.startswith("  outcome"))]
    assert len(described) > 1 and all(len(line) <= 80 for line in described)
    assert all(line.startswith(" " * 19) for line in described[1:])
    assert " ".join(line.strip() for line in described).removeprefix("description ").strip() == long.strip()


def test_repeating_a_decision_after_the_claim_changed_says_it_is_a_replay(reg: Register, store: Any) -> None:
    run = reg.run
    claim = reg.submit("A-1", "k1", hours="2.5")
    reg.endorse("k1", "A-2")
    approve = ["review", "approve", "k1", "--reviewer", "V-1", "--rationale", "Clear", "--request-id", "a-1"]
    first = ok(run(*approve))
    assert (first.stdout, first.stderr) == (f"Claim {claim} approved: 2.5 points.\n", "")
    reg.clock.tick()
    ok(run("review", "revoke", "k1", "--reviewer", "V-1", "--reason", "Counted twice"))
    events = count_events(store)
    again = ok(run(*approve))
    assert again.stdout == first.stdout
    assert again.stderr == ("Note: request id 'a-1' was carried out at 2026-06-15T12:00:00Z; this is its result "
                            "then, and nothing was written now. The claim is revoked now.\n")
    assert ok(run("--json", *approve)).json()["replayed"] == {"request_id": "a-1",
                                                              "first_recorded_at": "2026-06-15T12:00:00+00:00"}
    assert count_events(store) == events


def test_wording_one_point_and_endorsements_counted(reg: Register) -> None:
    run = reg.run
    claim = reg.submit("A-1", "k1", hours="1")
    assert ok(run("claim", "endorse", "k1", "--by", "A-2", "--statement", "Yes")).stdout == (
        f"Claim {claim} endorsed; it has 1 endorsement now.\n")
    assert ok(run("claim", "endorse", "k1", "--by", "A-3", "--statement", "Yes")).stdout == (
        f"Claim {claim} endorsed; it has 2 endorsements now.\n")
    assert ok(run("review", "approve", "k1", "--reviewer", "V-1", "--rationale", "ok")).stdout == (
        f"Claim {claim} approved: 1 point.\n")
    assert ok(run("review", "revoke", "k1", "--reviewer", "V-1", "--reason", "twice")).stdout == (
        f"Claim {claim} revoked: -1 point.\n")
    reg.submit("A-1", "k2", kind="question")
    reg.endorse("k2", "A-2")
    refused = run("review", "approve", "k2", "--reviewer", "V-1", "--points", "5", "--rationale", "ok")
    assert refused.stderr == ("Refused (rule 5, PointsOutOfRange): 5 points is more than 2, the cap for one claim of "
                              "kind question.\n")


# --- the operator -----------------------------------------------------------------------


def real(*args: str) -> Any:
    """`studyledger ARGS…` in process on the real clock (the demo's events then lie microseconds apart)."""
    from click.testing import CliRunner

    from cli.main import cli as root
    from tests.support.harness import Result

    outcome = CliRunner().invoke(root, list(args), catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def test_the_demo_run_twice_on_its_store_writes_nothing_and_exits_0(run: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    first = ok(run("--db", db, "demo", db=None))
    assert "Explore further" in first.stdout
    events = count_events(_resolve(db))
    second = ok(run("--db", db, "demo", db=None))
    assert second.stdout.startswith(f"The demo register is already in {db}; nothing was written.\n")
    assert f"studyledger --db {db} balance N-2003 --known-at " in second.stdout
    assert count_events(_resolve(db)) == events
    # a register that is not the demo is never written to
    other = str(tmp_path / "other.db")
    ok(run("--db", other, "init", db=None))
    ok(run("--db", other, "professional", "register", "X-1", "--name", "X", "--group", "nurse", db=None))
    assert usage(run("--db", other, "demo", db=None)) == (
        f"The store at {other} already holds a register other than the demo; the demo needs a new database: choose "
        "one with --db, e.g. 'studyledger --db demo.db demo'.")


def _resolve(db: str) -> Any:
    from storage.config import resolve

    return resolve(db)


def test_the_demos_known_at_hint_shows_what_was_known_then(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    shown = ok(real("--db", db, "demo")).stdout
    hint = re.search(r"balance N-2003 --known-at (\S+)", shown)
    assert hint, shown
    then = ok(real("--db", db, "--json", "balance", "N-2003", "--known-at", hint.group(1))).json()
    now = ok(real("--db", db, "--json", "balance", "N-2003")).json()
    assert (then["total"], now["total"]) == ("3", "0")  # demo-10 approved, and since revoked


@pytest.fixture
def terminal(monkeypatch: Any) -> None:
    """As if stderr were a terminal: progress is shown."""
    monkeypatch.setattr(cli.context, "_terminal", lambda: True)


RATE = r"in \d+\.\d s \([\d,]+ events/s\)\.\n"


def test_import_shows_progress_and_a_summary_with_the_rate_on_a_terminal(run: Any, tmp_path: Path, terminal: None) -> None:
    path = tmp_path / "register.jsonl"
    path.write_text("".join(json.dumps({"command": "professional register", "id": f"P-{i}", "name": "N",
                                        "group": "nurse", "registered_on": "2024-01-01"}) + "\n" for i in range(30)))
    result = ok(run("import", str(path)))
    assert result.stdout == "Imported 30 commands (30 events).\n"  # a person's id guard is in the key store
    assert re.search(r"Imported 30 events " + RATE + r"\Z", result.stderr), result.stderr
    assert result.stderr.startswith("Importing")  # the bar's label


def test_rebuild_and_verify_show_progress_and_a_summary_on_a_terminal(reg: Register, terminal: None) -> None:
    rebuilt = ok(reg.run("projections", "rebuild"))
    assert re.search(r"Replayed \d+ events " + RATE + r"\Z", rebuilt.stderr), rebuilt.stderr
    verified = ok(reg.run("projections", "verify"))
    assert re.search(r"Replayed \d+ events " + RATE + r"\Z", verified.stderr), verified.stderr
    audited = ok(reg.run("audit", "verify"))
    assert re.search(r"Verified \d+ events " + RATE + r"\Z", audited.stderr), audited.stderr


def test_without_a_terminal_long_work_prints_its_answer_alone(reg: Register) -> None:
    assert ok(reg.run("projections", "rebuild")).stderr == ""
    assert ok(reg.run("audit", "verify")).stderr == ""


def test_json_after_the_command_is_refused_with_a_hint(reg: Register) -> None:
    refused = reg.run("balance", "A-1", "--json")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert json.loads(refused.stderr)["error"]["message"] == (
        "No such option '--json'. --json is a global option: put it before the command, e.g. "
        "'studyledger --json balance …'. See 'cli balance --help'.")
    assert usage(reg.run("network", "members", "care", "--db", "x.db")) == (
        "No such option '--db'. --db is a global option: put it before the command, e.g. "
        "'studyledger --db URL network members …'. See 'cli network members --help'.")


def test_json_with_another_format_is_a_conflict(reg: Register) -> None:
    refused = reg.run("--json", "balance", "A-1", "--format", "table")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert json.loads(refused.stderr)["error"]["message"] == (
        "Invalid input: --json asks for JSON but --format asks for table; give one of them.")
    assert ok(reg.run("--json", "balance", "A-1", "--format", "json")).json()["professional"] == "A-1"


READS = [
    ["balance", "A-1"], ["network", "members", "care"], ["network", "map"], ["network", "map", "--grid"],
    ["review", "queue"], ["claim", "list"], ["claim", "show", "k1"], ["audit", "history", "A-1"],
    ["policy", "show"], ["projections", "status"], ["keys", "show"],
]


@pytest.mark.parametrize("read", READS, ids=lambda r: " ".join(r))
def test_every_read_takes_format_table_json_and_csv(decided: Register, read: list[str]) -> None:
    as_json = ok(decided.run(*read, "--format", "json")).json()
    assert as_json == ok(decided.run("--json", *read)).json()
    table = ok(decided.run(*read, "--format", "csv")).stdout
    header = next(csv.reader(io.StringIO(table)))
    assert header and all(re.fullmatch(r"[a-z_]+", column) for column in header), header
    assert ok(decided.run(*read, "--format", "table")).stdout == ok(decided.run(*read)).stdout


def test_balance_csv_rows_add_up(decided: Register) -> None:
    figures = rows(ok(decided.run("balance", "A-1", "--format", "csv")).stdout)
    total = next(Decimal(r["points"]) for r in figures if r["figure"] == "total")
    assert total == sum(Decimal(r["points"]) for r in figures if r["figure"] == "by network") == Decimal(2)


def test_the_network_map_is_filtered_and_counted_by_theme_and_group(decided: Register) -> None:
    run = decided.run
    care = ok(run("--json", "network", "map", "--group", "nurse")).json()
    assert [n["id"] for n in care["networks"]] == ["care"] and list(care["themes"]) == ["wound-care"]
    assert [n["id"] for n in ok(run("--json", "network", "map", "--theme", "feedback")).json()["networks"]] == [
        "didactics"]
    now = decided.clock.now
    assert ok(run("network", "map", "--grid")).stdout.splitlines() == [
        f"Networks / members by theme and group on {now:%Y-%m-%d}, as known at {now:%Y-%m-%dT%H:%M:%S}Z:",
        "theme       nurse  teacher-secondary",
        "----------  -----  -----------------",
        "digital                        1 / 2",
        "feedback                       1 / 2",
        "wound-care  1 / 3",
    ]
    grid = rows(ok(run("network", "map", "--grid", "--format", "csv")).stdout)
    assert sum(int(r["members"]) for r in grid if r["theme"] == "wound-care") == 3
    assert usage(run("network", "map", "--grid", "--format", "dot")) == "Invalid input: --grid is a table; it has no --format dot."


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="Graphviz's dot is not installed")
def test_the_network_map_as_svg_through_graphviz(decided: Register) -> None:
    svg = ok(decided.run("network", "map", "--format", "svg")).stdout
    assert svg.lstrip().startswith("<?xml") and "Wondzorg" in svg and "</svg>" in svg


def test_the_network_map_as_a_picture_without_graphviz_is_exit_2(decided: Register, monkeypatch: Any) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert usage(decided.run("network", "map", "--format", "png")) == (
        "--format png needs Graphviz's dot program, which is not installed (e.g. apt install graphviz); "
        "--format dot prints the picture's source instead.")


# --- help -------------------------------------------------------------------------------


def _commands() -> list[list[str]]:
    import click

    from cli.main import cli as root

    found = []

    def walk(group: click.Group, path: list[str]) -> None:
        for name, command in subcommands(group):
            if isinstance(command, click.Group):
                walk(command, path + [name])
            else:
                found.append(path + [name])

    walk(root, [])
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c))
def test_every_commands_help_has_an_example(run: Any, command: list[str]) -> None:
    shown = ok(run(*command, "--help", db=None)).stdout
    assert "\n  Example:\n    studyledger " in shown, shown
    shown = " ".join(shown.split()).replace("- ", "-")  # as read, whatever the wrapping
    if any(option in shown for option in ("--at DATE", "--on DATE", "-from DATE", "-on DATE")):
        assert "DATE is YYYY-MM-DD" in shown
    if "--known-at INSTANT" in shown:
        assert "INSTANT is ISO 8601 with a time zone" in shown


def test_no_summary_is_cut_and_the_root_help_names_the_exit_codes(run: Any) -> None:
    groups = sorted({tuple(c[:1]) for c in _commands() if len(c) > 1})
    for path in [[], *map(list, groups)]:
        listing = ok(run(*path, "--help", db=None)).stdout.split("\nCommands:\n")[-1]
        assert "..." not in listing and "…" not in listing, listing
    root = ok(run("--help", db=None)).stdout
    assert "Exit codes: 0 done; 1 refused by a ledger rule" in root
    assert "balances, memberships, claims" in ok(run("projections", "rebuild", "--help", db=None)).stdout


def test_csv_exports_neutralise_formulas(reg: Register) -> None:
    reg.submit("A-1", "k1", description="=HYPERLINK(\"http://evil.example\",\"click\")")
    shown = rows(ok(reg.run("claim", "show", "k1", "--format", "csv")).stdout)
    assert shown[0]["description"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert shown[0]["hours"] == "2"  # plain numbers stay numbers


def test_a_claims_read_model_of_an_earlier_version_asks_for_a_rebuild(reg: Register, store: Any) -> None:
    from sqlalchemy import text

    from ledger.app import open_ledger
    from projections.runner import ReadModels

    reg.submit("A-1", "k1")
    ledger = open_ledger(store)
    models = ReadModels(ledger.event_log)
    try:
        generation = models.state()["claims"][0]
        with models.engine.begin() as conn:  # as a store written before request ids were kept
            conn.execute(text(f"DROP TABLE rm_claim_keys_g{generation}"))
    finally:
        models.close()
        ledger.close()
    refused = reg.run("review", "queue")
    assert (refused.exit_code, refused.stdout) == (4, "")
    assert refused.stderr == (
        f"The claims read model's bookkeeping is inconsistent (its table rm_claim_keys_g{generation} is missing: it "
        "was built by an earlier version), so it was neither read nor advanced: run 'studyledger projections "
        "rebuild claims'.\n")
    ok(reg.run("projections", "rebuild", "claims"))
    assert [c["request_id"] for c in ok(reg.run("--json", "review", "queue")).json()["claims"]] == ["k1"]


@pytest.mark.processes  # completion runs the installed command
def test_shell_completion_offers_request_ids_and_professionals(decided: Register, db_url: str) -> None:
    def complete(*words: str) -> list[str]:
        env = {**os.environ, "_STUDYLEDGER_COMPLETE": "bash_complete",
               "COMP_WORDS": " ".join(["studyledger", "--db", db_url, *words]), "COMP_CWORD": str(len(words) + 2)}
        done = subprocess.run([STUDYLEDGER], env=env, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (0, "")
        return [line.removeprefix("plain,") for line in done.stdout.splitlines() if line]

    assert complete("claim", "show", "k") == []  # the read model as it stands: nothing read, nothing applied yet
    ok(decided.run("review", "queue"))  # a read catches the claims read model up
    assert complete("claim", "show", "k") == ["k1", "k2", "k3", "k4", "k5"]
    assert complete("review", "approve", "k4") == ["k4"]
    assert complete("balance", "A-") == ["A-1", "A-2", "A-3"]
    assert complete("audit", "history", "B") == ["B-1", "B-2"]
    claim = ok(decided.run("--json", "claim", "show", "k5")).json()["claim"]
    assert complete("claim", "show", claim[:9]) == [claim]
