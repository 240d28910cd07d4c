"""Invalid input and usage: exit code 2, one sentence on stderr naming the option, nothing
on stdout, nothing written. With `--json` the sentence comes as {"error": {"code": 2, ...}}.

The store holds a small register, so that each command, given good input instead, would
succeed and write (see `test_the_same_commands_with_good_input_succeed`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.harness import count_events

ID_RULE = "must be 1–64 characters of A-Z a-z 0-9 . _ -."
KIND_RULE = "--kind must be one of question, answer, co-construction, facilitation."
DATE_RULE = "must be a real date written YYYY-MM-DD."
INSTANT_RULE = "--known-at must be an ISO 8601 instant with a time zone, e.g. 2025-03-04T12:00:00Z, or a date YYYY-MM-DD."


def submit(**changes: str | None) -> list[str]:
    """`claim submit` with valid options, some replaced (or left out with None)."""
    options = {"--professional": "R-1", "--network": "wound-care", "--kind": "answer", "--on": "2025-03-05",
               "--hours": "2", "--description": "Advised on a wound", "--outcome": "A protocol"}
    options.update({f"--{name.replace('_', '-')}": value for name, value in changes.items()})
    return ["claim", "submit", *[part for name, value in options.items() if value is not None for part in (name, value)]]


def register(pid: str = "R-9", *extra: str) -> list[str]:
    return ["professional", "register", pid, "--name", "Nina", "--group", "nurse", *extra]


APPROVE = ["review", "approve", "c-1", "--reviewer", "V-1", "--rationale", "Clear outcome"]
ADOPT = ["policy", "adopt", "--effective-from", "2026-01-01"]

# (arguments, the exact sentence on stderr)
CASES = [
    pytest.param(submit(kind="lecture"), f"Invalid input: {KIND_RULE}", id="unknown-kind"),
    pytest.param(submit(on="2025-13-01"), f"Invalid input: --on {DATE_RULE}", id="month-13"),
    pytest.param(submit(on="04-03-2025"), f"Invalid input: --on {DATE_RULE}", id="date-dd-mm-yyyy"),
    pytest.param(submit(on="yesterday"), f"Invalid input: --on {DATE_RULE}", id="date-word"),
    pytest.param(submit(on="2025-02-30"), f"Invalid input: --on {DATE_RULE}", id="impossible-date"),
    pytest.param(register("R-9", "--registered-on", "2025-1-1"), f"Invalid input: --registered-on {DATE_RULE}",
                 id="date-without-padding"),
    pytest.param(submit(hours="-1"), "Invalid input: --hours must be more than 0.", id="negative-hours"),
    pytest.param(submit(hours="0"), "Invalid input: --hours must be more than 0.", id="zero-hours"),
    pytest.param(submit(hours="40.01"), "Invalid input: --hours must be at most 40.", id="hours-over-40"),
    pytest.param(submit(hours="two"), "Invalid input: --hours must be a number written like 2 or 1.5.", id="hours-not-a-number"),
    pytest.param(submit(hours="NaN"), "Invalid input: --hours must be a number written like 2 or 1.5.", id="hours-nan"),
    pytest.param(submit(hours="Infinity"), "Invalid input: --hours must be a number written like 2 or 1.5.", id="hours-infinity"),
    pytest.param(submit(hours="2.555"), "Invalid input: --hours must have at most two decimal places.",
                 id="hours-three-decimals"),
    pytest.param([*APPROVE, "--points", "2.555"], "Invalid input: --points must have at most two decimal places.",
                 id="points-three-decimals"),
    pytest.param(submit(outcome=""), "Invalid input: --outcome must not be empty.", id="empty-outcome"),
    pytest.param(submit(outcome=" \t "), "Invalid input: --outcome must not be empty.", id="blank-outcome"),
    pytest.param(submit(outcome=None), "Missing option '--outcome'. See 'studyledger claim submit --help'.",
                 id="missing-outcome"),
    pytest.param(register("R 9"), f"Invalid input: ID {ID_RULE}", id="id-with-space"),
    pytest.param(register("R" * 65), f"Invalid input: ID {ID_RULE}", id="id-over-64"),
    pytest.param(register("R/9"), f"Invalid input: ID {ID_RULE}", id="id-with-slash"),
    pytest.param(register("Rö-9"), f"Invalid input: ID {ID_RULE}", id="id-unicode"),
    pytest.param(["claim", "endorse", "c-1", "--by", "R 3", "--statement", "Yes"], f"Invalid input: --by {ID_RULE}",
                 id="id-option-with-space"),
    pytest.param(["network", "join", "wound care", "R-3", "--on", "2025-01-01"], f"Invalid input: NETWORK {ID_RULE}",
                 id="id-argument-with-space"),
    pytest.param(register("R-9", "--colour", "red"),
                 "No such option '--colour'. See 'studyledger professional register --help'.", id="unknown-option"),
    pytest.param(["frobnicate", "R-1"], "No such command 'frobnicate'. See 'studyledger --help'.", id="unknown-command"),
    pytest.param(["professional", "register", "R-9", "--group", "nurse"],
                 "Missing option '--name'. See 'studyledger professional register --help'.", id="missing-option"),
    pytest.param(["professional", "register", "--name", "Nina", "--group", "nurse"],
                 "Missing argument 'ID'. See 'studyledger professional register --help'.", id="missing-argument"),
    pytest.param(["balance", "R-1", "--known-at", "2026-06-15T12:00:00"], f"Invalid input: {INSTANT_RULE}",
                 id="known-at-without-zone"),
    pytest.param(["balance", "R-1", "--known-at", "2026-02-30"], f"Invalid input: {INSTANT_RULE}",
                 id="known-at-an-impossible-date"),
    pytest.param(["network", "members", "wound-care", "--known-at", "noon"], f"Invalid input: {INSTANT_RULE}",
                 id="known-at-a-word"),
    pytest.param([*ADOPT, "--cap", "lecture=3"],
                 "Invalid input: --cap must be KIND=N with KIND one of question, answer, co-construction, facilitation.",
                 id="cap-unknown-kind"),
    pytest.param([*ADOPT, "--cap", "answer=3", "--cap", "answer=0"], "Invalid input: --cap must be more than 0.",
                 id="cap-zero"),
    pytest.param(["claim", "amend", "c-1", "--by", "R-1"],
                 "Invalid input: an amendment needs at least one of --kind, --on, --hours, --description, "
                 "--outcome, --practice-change.", id="amend-nothing"),
    pytest.param(["projections", "catch-up", "balance"],
                 "There is no projection 'balance'; the projections are balances, memberships, claims.",
                 id="projection-unknown"),
    pytest.param(["projections", "rebuild", "balance"],
                 "There is no projection 'balance'; the projections are balances, memberships, claims.",
                 id="projection-unknown-rebuild"),
]

# The same commands with good input: each of them succeeds and writes.
GOOD = [
    submit(),
    register("R-9", "--registered-on", "2025-01-01"),
    ["network", "join", "wound-care", "R-3", "--on", "2025-01-01"],
    ["claim", "endorse", "c-1", "--by", "R-3", "--statement", "Yes"],
    ["claim", "amend", "c-1", "--by", "R-1", "--hours", "3"],
    [*ADOPT, "--cap", "answer=3"],
    [*APPROVE, "--points", "2.5"],
]


def assert_refused(result: Any, store: Any, events: int, as_json: bool = False) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert count_events(store) == events
    if as_json:
        error = json.loads(result.stderr)["error"]
        assert error["code"] == 2
        message = error["message"]
    else:
        message = result.stderr[:-1]
    # CliRunner names the program after the group's function (`cli`); the installed script is `studyledger`.
    return message.replace("See 'cli", "See 'studyledger")


@pytest.mark.parametrize("args, message", CASES)
def test_invalid_input_is_refused_with_one_sentence_and_nothing_written(populated, store, args, message):
    events = count_events(store)
    assert assert_refused(populated(*args), store, events) == message


JSON_CASES = [case for case in CASES if case.id in {
    "unknown-kind", "impossible-date", "hours-nan", "points-three-decimals", "blank-outcome", "id-unicode",
    "unknown-option", "unknown-command", "missing-option", "known-at-without-zone", "amend-nothing",
}]


@pytest.mark.parametrize("args, message", JSON_CASES)
def test_with_json_the_error_is_a_json_document(populated, store, args, message):
    events = count_events(store)
    assert assert_refused(populated("--json", *args), store, events, as_json=True) == message


def test_the_same_commands_with_good_input_succeed(populated, store):
    """The control: the refusals above are about the input, not about the register."""
    for args in GOOD:
        events = count_events(store)
        result = populated(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert count_events(store) > events, args


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unsupported_db_scheme(run, store, as_json):
    events = count_events(store)
    args = ["--json"] if as_json else []
    result = run(*args, "--db", "mysql://root@localhost/ledger", "professional", "register", "R-1",
                 "--name", "Rosa", "--group", "nurse", db=None)
    message = assert_refused(result, store, events, as_json=as_json)
    assert message == "--db must be a file path, sqlite:///path or postgresql://…; 'mysql://' is not supported."


@pytest.mark.parametrize("on", ["20250304", "2025-W10-2", "2025-063"])
def test_other_iso_date_forms_are_refused(run, store, on):
    before = count_events(store)
    result = run("professional", "register", "X-1", "--name", "X", "--group", "nurse", "--registered-on", on)
    assert result.exit_code == 2
    assert result.stderr == "Invalid input: --registered-on must be a real date written YYYY-MM-DD.\n"
    assert count_events(store) == before


@pytest.mark.parametrize("hours", ["1_0", "1e1", "0x10"])
def test_numbers_in_other_notations_are_refused(run, store, hours):
    before = count_events(store)
    result = run("claim", "submit", "--professional", "X", "--network", "N", "--kind", "answer", "--on", "2025-01-01",
                 "--hours", hours, "--description", "d", "--outcome", "o")
    assert result.exit_code == 2
    assert result.stderr == "Invalid input: --hours must be a number written like 2 or 1.5.\n"
    assert count_events(store) == before


SURROGATE_RULE = ("Invalid input: an argument holds a lone surrogate (such as \\ud800), which no file name or text "
                  "can hold; nothing was written.")


@pytest.mark.parametrize("args", [
    ["import", "lines\ud800.jsonl"],
    ["keys", "new-register-key", "new\ud800.key"],
    ["keys", "rewrap", "--new-key-file", "new\ud800.key"],
    ["migrate", "old\ud800.db", "new.db"],
    register("R-9", "--registered-on", "2025-01-0\ud800"),
], ids=["import", "new-register-key", "rewrap", "migrate", "option"])
def test_a_lone_surrogate_in_any_argument_is_invalid_input(run, store, args, tmp_path, monkeypatch):
    """Only a caller in Python can pass one (a command line's undecodable bytes are U+DC80–U+DCFF, which
    name files as those bytes); as a path it failed unexpectedly in os.stat (found by test_fuzz)."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    events = count_events(store)
    assert assert_refused(run(*args), store, events) == SURROGATE_RULE
    assert list(here.iterdir()) == []  # no key file written, no store made
    assert assert_refused(run("--json", *args), store, events, as_json=True) == SURROGATE_RULE
