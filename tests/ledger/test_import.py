"""`import FILE`: JSON Lines of commands, validated by the command schemas, applied all or
nothing; an error names the line. Through the CLI and through `ledger.importer.import_lines`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from domain.errors import DomainError, EndorserMustNotBeClaimant
from ledger.app import open_ledger
from ledger.errors import InvalidInput
from ledger.importer import import_lines
from tests.support.harness import Result, count_events

pytestmark = pytest.mark.usefixtures("pages_written")  # each test here both ways

# The example lines of SPEC §3, verbatim, in an order that works (plus R-2, who endorses).
SPEC_LINES = [
    '{"command": "professional register", "id": "R-1", "name": "…", "group": "nurse", "registered_on": "2024-01-01"}',
    '{"command": "professional register", "id": "R-2", "name": "Ruud", "group": "nurse", "registered_on": "2024-01-01"}',
    '{"command": "network register", "id": "wound-care", "name": "…", "theme": ["wound-care"], "group": ["nurse"], "founded_on": "2021-09-01"}',
    '{"command": "network join", "network": "wound-care", "professional": "R-1", "on": "2025-01-01"}',
    '{"command": "network join", "network": "wound-care", "professional": "R-2", "on": "2025-01-01"}',
    '{"command": "claim submit", "professional": "R-1", "network": "wound-care", "kind": "answer", '
    '"on": "2025-03-04", "hours": "2", "description": "…", "outcome": "…", "request_id": "c-17"}',
    '{"command": "claim endorse", "claim": "c-17", "by": "R-2", "statement": "…"}',
]
# 7 commands: each professional's registration (2: in an encrypted store a person's id is guarded
# against case variants by the key store, not by an event, SPEC §9), the network's with the guard of
# its lower-cased id (2), each first join noted by the network and the professional (2 × 3), the claim
# with its note on the membership and the request record of "c-17" (3), the endorsement with its note
# on the endorser's membership (2).
SPEC_EVENTS = 2 + 2 + 2 * 3 + 3 + 2

# A register already in the store before each import: R-0 in network "existing".
BASELINE = [
    '{"command": "professional register", "id": "R-0", "name": "Olga", "group": "nurse", "registered_on": "2023-01-01"}',
    '{"command": "network register", "id": "existing", "name": "Bestaand", "theme": ["care"], "group": ["nurse"], "founded_on": "2020-01-01"}',
    '{"command": "network join", "network": "existing", "professional": "R-0", "on": "2023-02-01"}',
]

# (bad line, exit code, the message for it at line {n})
BAD_LINES = {
    "invalid-json": (
        '{"command": "network join", "network": "wound-care"',
        2, "Line {n}: not valid JSON (Expecting ',' delimiter).",
    ),
    "unknown-command": (
        '{"command": "claim delete", "claim": "c-17"}',
        2, 'Line {n}: "command" must be one of: claim amend, claim endorse, claim submit, claim withdraw, '
           'network close, network join, network leave, network register, network reopen, policy adopt, '
           'policy cancel, professional deregister, professional register, professional reinstate, review approve, '
           'review reject, review return, review revoke, reviewer appoint, reviewer reinstate, reviewer retire.',
    ),
    "schema-error": (
        '{"command": "claim submit", "professional": "R-0", "network": "existing", "kind": "answer", '
        '"on": "2025-03-04", "hours": "41", "description": "d", "outcome": "o"}',
        2, "Line {n} (claim submit): Invalid input: hours must be at most 40.",
    ),
    "broken-rule": (
        '{"command": "professional register", "id": "R-0", "name": "Olga again", "group": "nurse"}',
        1, "Refused (rule 1, AlreadyRegistered): Line {n} (professional register): "
           "a professional 'R-0' is registered already.",
    ),
}
POSITIONS = {"first": 0, "middle": 3, "last": len(SPEC_LINES)}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def run_stdin(run: Any, db_url: str, clock: Any) -> Any:
    """`studyledger --db <the test's store> [ARGS…] import -` with `text` on stdin."""
    factory = functools.partial(open_ledger, clock=clock, os_user="tester")

    def invoke(text: str, *args: str) -> Result:
        outcome = CliRunner().invoke(cli, ["--db", db_url, *args, "import", "-"], input=text, obj=factory,
                                     catch_exceptions=False)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    return invoke


@pytest.fixture
def baseline(run: Any, tmp_path: Any) -> Any:
    path = tmp_path / "baseline.jsonl"
    path.write_text("\n".join(BASELINE) + "\n", encoding="utf-8")
    ok(run("import", str(path)))
    return run


def write(tmp_path: Any, lines: list[str], name: str = "commands.jsonl") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


# --- through the CLI -------------------------------------------------------------


def test_the_spec_example_imports_and_later_lines_refer_to_earlier_ones(run, store, tmp_path):
    result = ok(run("import", write(tmp_path, SPEC_LINES)))
    assert result.stdout == f"Imported 7 commands ({SPEC_EVENTS} events).\n"
    assert count_events(store) == SPEC_EVENTS
    shown = ok(run("--json", "claim", "show", "c-17")).json()
    assert {k: shown[k] for k in ("professional", "network", "kind", "status", "activity_date", "hours")} == {
        "professional": "R-1", "network": "wound-care", "kind": "answer", "status": "submitted",
        "activity_date": "2025-03-04", "hours": "2",
    }
    assert [(e["by"], e["statement"]) for e in shown["endorsements"]] == [("R-2", "…")]
    members = ok(run("--json", "network", "members", "wound-care", "--at", "2025-01-01")).json()["members"]
    assert members == ["R-1", "R-2"]


def test_import_json_output_and_decisions_by_request_id(run, store, tmp_path):
    lines = [*SPEC_LINES,
             '{"command": "reviewer appoint", "id": "V-1", "name": "Vera", "on": "2024-01-01"}',
             '{"command": "review approve", "claim": "c-17", "reviewer": "V-1", "rationale": "Clear"}']
    assert ok(run("--json", "import", write(tmp_path, lines))).json() == {"commands": 9, "events": SPEC_EVENTS + 1 + 2}
    # + the appointment, + the approval noted by the reviewer
    assert ok(run("--json", "balance", "R-1")).json()["total"] == "2"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("bad", BAD_LINES)
def test_a_bad_line_anywhere_leaves_the_store_untouched(baseline, store, tmp_path, bad, position):
    run = baseline
    events = count_events(store)
    line, exit_code, message = BAD_LINES[bad]
    lines = list(SPEC_LINES)
    lines.insert(POSITIONS[position], line)
    result = run("import", write(tmp_path, lines))
    assert (result.exit_code, result.stdout) == (exit_code, "")
    assert result.stderr == message.format(n=POSITIONS[position] + 1) + "\n"
    assert count_events(store) == events  # not even the valid lines before it
    refused = run("claim", "show", "c-17")
    assert refused.exit_code == 1 and "UnknownClaim" in refused.stderr


def test_endorsing_ones_own_claim_on_the_last_line_is_refused(baseline, store, tmp_path):
    run = baseline
    events = count_events(store)
    lines = [*SPEC_LINES, '{"command": "claim endorse", "claim": "c-17", "by": "R-1", "statement": "Mine"}']
    result = run("--json", "import", write(tmp_path, lines))
    assert (result.exit_code, result.stdout) == (1, "")
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["rule"]) == (1, "EndorserMustNotBeClaimant")
    assert error["message"] == (
        "Refused (rule 3, EndorserMustNotBeClaimant): Line 8 (claim endorse): R-1 cannot endorse their own claim."
    )
    assert count_events(store) == events


def test_blank_lines_are_skipped_and_lines_are_counted_as_in_the_file(baseline, store, tmp_path):
    run = baseline
    events = count_events(store)
    spaced = [SPEC_LINES[0], "", "   ", *SPEC_LINES[1:3], "\t", *SPEC_LINES[3:]]
    assert ok(run("import", write(tmp_path, spaced, "spaced.jsonl"))).stdout == (
        f"Imported 7 commands ({SPEC_EVENTS} events).\n"
    )
    assert count_events(store) == events + SPEC_EVENTS
    broken = ["", '{"command": "reviewer appoint", "id": "V-1", "name": "Vera"}', "", '{"command": "reviewer appoint"']
    result = run("import", write(tmp_path, broken, "broken.jsonl"))
    assert (result.exit_code, result.stderr) == (2, "Line 4: not valid JSON (Expecting ',' delimiter).\n")
    assert count_events(store) == events + SPEC_EVENTS


def test_an_empty_file_imports_nothing(run, store, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert ok(run("import", str(path))).stdout == "Imported 0 commands (0 events).\n"
    assert count_events(store) == 0


def test_import_from_stdin(run_stdin, run, store):
    result = ok(run_stdin("\n".join(SPEC_LINES) + "\n"))
    assert result.stdout == f"Imported 7 commands ({SPEC_EVENTS} events).\n"
    assert count_events(store) == SPEC_EVENTS
    assert ok(run("--json", "claim", "show", "c-17")).json()["endorsements"][0]["by"] == "R-2"
    refused = run_stdin('{"command": "network close", "id": "wound-care", "on": "2025-13-01"}\n', "--json")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert json.loads(refused.stderr) == {"error": {
        "code": 2, "kind": "invalid-input",
        "message": "Line 1 (network close): Invalid input: on must be a real date written YYYY-MM-DD.",
    }}
    assert count_events(store) == SPEC_EVENTS


def test_a_file_that_does_not_exist(run, store, tmp_path):
    missing = tmp_path / "missing.jsonl"
    result = run("import", str(missing))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Cannot read {missing}: No such file or directory.\n"
    assert count_events(store) == 0


def test_json_numbers_are_exact_decimals(run, tmp_path):
    lines = [*SPEC_LINES[:5],
             '{"command": "reviewer appoint", "id": "V-1", "name": "Vera", "on": "2024-01-01"}',
             # 2.5, 1.15 and 0.1 are not exact as binary floats; as decimals they are
             '{"command": "claim submit", "professional": "R-1", "network": "wound-care", "kind": "answer", '
             '"on": "2025-03-04", "hours": 2.5, "description": "d", "outcome": "o", "request_id": "c-1"}',
             '{"command": "claim submit", "professional": "R-1", "network": "wound-care", "kind": "question", '
             '"on": "2025-03-05", "hours": 1.15, "description": "d", "outcome": "o", "request_id": "c-2"}',
             '{"command": "claim endorse", "claim": "c-1", "by": "R-2", "statement": "s"}',
             '{"command": "claim endorse", "claim": "c-2", "by": "R-2", "statement": "s"}',
             '{"command": "review approve", "claim": "c-1", "reviewer": "V-1", "rationale": "r", "points": 0.1}',
             '{"command": "review approve", "claim": "c-2", "reviewer": "V-1", "rationale": "r"}']
    ok(run("import", write(tmp_path, lines)))
    first = ok(run("--json", "claim", "show", "c-1")).json()
    second = ok(run("--json", "claim", "show", "c-2")).json()
    assert (first["hours"], first["suggested_points"], first["points"]) == ("2.5", "2.5", "0.1")
    assert (second["hours"], second["suggested_points"], second["points"]) == ("1.15", "1.15", "1.15")
    assert ok(run("--json", "balance", "R-1")).json()["total"] == "1.25"
    three_places = '{"command": "reviewer appoint", "id": "V-2", "name": "V"}\n{"command": "policy adopt", ' \
                   '"effective_from": "2026-01-01", "points_per_hour": 1.125}'
    result = run("import", write(tmp_path, three_places.splitlines(), "three.jsonl"))
    assert (result.exit_code, result.stderr) == (
        2, "Line 2 (policy adopt): Invalid input: points_per_hour must have at most two decimal places.\n",
    )


def test_reimporting_lines_that_all_carry_request_ids_writes_nothing(run, store, tmp_path):
    lines = [
        '{"command": "professional register", "id": "R-1", "name": "Rosa", "group": "nurse", "request_id": "p-1"}',
        '{"command": "reviewer appoint", "id": "V-1", "name": "Vera", "request_id": "v-1"}',
    ]
    path = write(tmp_path, lines)
    # each registration and its request record (a person's id guarded by the key store: no event, SPEC §9)
    assert ok(run("import", path)).stdout == "Imported 2 commands (4 events).\n"
    assert ok(run("import", path)).stdout == "Imported 2 commands (0 events).\n"
    assert count_events(store) == 4
    changed = write(tmp_path, [lines[0].replace("Rosa", "Rosa Smit")], "changed.jsonl")
    result = run("import", changed)
    assert result.exit_code == 1 and "Line 1 (professional register)" in result.stderr
    assert "RequestIdReused" in result.stderr
    assert count_events(store) == 4


# --- through ledger.importer.import_lines ----------------------------------------


def test_import_lines_applies_every_line(ledger, store, run):
    assert import_lines(ledger, SPEC_LINES) == {"commands": 7, "events": SPEC_EVENTS}
    assert count_events(store) == SPEC_EVENTS
    assert ok(run("--json", "claim", "show", "c-17")).json()["endorsements"][0]["by"] == "R-2"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("bad", BAD_LINES)
def test_import_lines_with_a_bad_line_writes_nothing(ledger, store, bad, position):
    import_lines(ledger, BASELINE)
    events = count_events(store)
    line, exit_code, message = BAD_LINES[bad]
    lines = list(SPEC_LINES)
    lines.insert(POSITIONS[position], line)
    expected = message.format(n=POSITIONS[position] + 1)
    with pytest.raises(DomainError if exit_code == 1 else InvalidInput) as raised:
        import_lines(ledger, lines)
    assert str(raised.value) + ("" if exit_code == 2 else ".") == expected
    assert count_events(store) == events
    # nothing of the failed import lingers in the ledger: the same lines without the bad one import
    assert import_lines(ledger, SPEC_LINES) == {"commands": 7, "events": SPEC_EVENTS}
    assert count_events(store) == events + SPEC_EVENTS


def test_import_lines_rule_error_names_the_line(ledger, store):
    lines = [*SPEC_LINES, '{"command": "claim endorse", "claim": "c-17", "by": "R-1", "statement": "Mine"}']
    with pytest.raises(EndorserMustNotBeClaimant) as raised:
        import_lines(ledger, lines)
    assert raised.value.message == "Line 8 (claim endorse): R-1 cannot endorse their own claim"
    assert count_events(store) == 0


@pytest.mark.parametrize("number", ["1.5", "2.25", "1e400", "NaN"])
def test_a_whole_number_given_as_a_json_fraction_is_refused_not_truncated(run, store, tmp_path, number):
    line = f'{{"command": "policy adopt", "effective_from": "2026-01-01", "min_endorsements": {number}}}'
    result = run("import", write(tmp_path, [line]))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Line 1 (policy adopt): Invalid input: min_endorsements must be a whole number.\n"
    assert count_events(store) == 0


def test_a_whole_number_given_as_a_json_number_is_exact(run, tmp_path):
    line = '{"command": "policy adopt", "effective_from": "2026-01-01", "min_endorsements": 2, "cycle_years": 5.0}'
    ok(run("import", write(tmp_path, [line])))
    shown = ok(run("--json", "policy", "show", "--at", "2026-01-01")).json()
    assert (shown["min_endorsements"], shown["cycle_years"]) == (2, 5)


def test_a_byte_order_mark_is_not_part_of_the_first_line(run, store, tmp_path):
    source = tmp_path / "bom.jsonl"
    line = '{"command": "professional register", "id": "R-1", "name": "A", "group": "nurse", "registered_on": "2024-01-01"}\n'
    source.write_bytes("\ufeff".encode() + line.encode())
    result = run("import", str(source))
    assert result.exit_code == 0, result.stderr
    assert count_events(store) == 1  # the registration (its id's case guard is in the key store, SPEC §9)
