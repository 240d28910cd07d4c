"""Tampered read-model bookkeeping and a tampered log (issue 11), on SQLite and PostgreSQL.

A read whose model's bookkeeping cannot be trusted answers nothing (exit 4, one sentence that
advises a rebuild) instead of a wrong figure; `projections verify` and `audit verify` always
reach a verdict (exit 1, naming what they found); a rebuild sets the bookkeeping right.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from projections.runner import ReadModels
from tests.support.readmodels import approve_a_claim


@pytest.fixture
def approved(ledger: Any, run: Any) -> Any:
    """R-1's claim approved for 2 points, every projection caught up."""
    approve_a_claim(ledger)
    assert run("projections", "catch-up").exit_code == 0
    assert run("--json", "balance", "R-1").json()["total"] == "2"
    return run


def sql(ledger: Any, *statements: str) -> None:
    models = ReadModels(ledger.event_log)
    try:
        with models.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        models.close()


def one_sentence(result: Any, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and "unexpectedly" not in result.stderr
    return result.stderr.strip()


def verdict(run: Any, *command: str) -> list[str]:
    result = run("--json", *command)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    return result.json()["problems"]


TAMPERING = {
    "emptied": ["DELETE FROM rm_state"],
    "rewound": ["UPDATE rm_state SET position = 0"],
    "one-rewound": ["UPDATE rm_state SET position = position - 1 WHERE name = 'balances'"],
    "advanced": ["UPDATE rm_state SET position = position + 5 WHERE name = 'balances'"],
}


@pytest.mark.parametrize("how", TAMPERING)
def test_tampered_positions_are_named_never_answered_from(approved, ledger, how):
    sql(ledger, *TAMPERING[how])
    message = one_sentence(approved("balance", "R-1"), 4)
    assert message.startswith("The balances read model's bookkeeping is inconsistent (")
    assert message.endswith("run 'studyledger projections rebuild balances'.")
    problems = verdict(approved, "projections", "verify")
    assert any(p.startswith("balances: its bookkeeping is inconsistent") for p in problems), problems
    assert any("balances" in p for p in verdict(approved, "audit", "verify"))
    assert approved("projections", "rebuild").exit_code == 0
    assert approved("--json", "balance", "R-1").json()["total"] == "2"  # never 4
    assert approved("projections", "verify").exit_code == 0
    assert approved("audit", "verify").exit_code == 0


def _log(ledger: Any) -> tuple[str, str, str]:
    if ledger.store.engine == "sqlite":
        return "stored_events", "rowid", "studyledger_seals"
    schema = ledger.store.settings["POSTGRES_SCHEMA"]
    return f'"{schema}".studyledger_events', "notification_id", f'"{schema}".studyledger_seals'


def test_the_newest_event_deleted_with_its_seal_is_a_verdict(approved, ledger):
    events, position, seals = _log(ledger)
    head = ledger.recorder.max_notification_id()
    sql(ledger, f"DELETE FROM {events} WHERE {position} = {head}", f"DELETE FROM {seals} WHERE position = {head}")
    problems = verdict(approved, "audit", "verify")
    assert any(f"the log ends at {head - 1}: events were removed from it" in p for p in problems), problems
    assert verdict(approved, "projections", "verify")
    assert "events were removed" in one_sentence(approved("balance", "R-1"), 4)


def test_two_events_swapped_is_a_verdict(approved, ledger):
    events, position, _ = _log(ledger)
    rows = {topic: n.id for n in ledger.recorder.select_notifications(1, 1000) for topic in [n.topic]}
    submitted, approved_at = rows["domain.claim:Claim.Submitted"], rows["domain.claim:Claim.Approved"]
    sql(ledger, f"UPDATE {events} SET {position} = -1 WHERE {position} = {submitted}",
        f"UPDATE {events} SET {position} = {submitted} WHERE {position} = {approved_at}",
        f"UPDATE {events} SET {position} = {approved_at} WHERE {position} = -1")
    assert approved("projections", "rebuild").exit_code in (0, 4)
    problems = verdict(approved, "projections", "verify")
    assert problems
    assert verdict(approved, "audit", "verify")
