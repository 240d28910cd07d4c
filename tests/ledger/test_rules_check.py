"""`audit verify` re-checks SPEC §1 rules 1–10 over the events alone (SPEC §5), on SQLite and PostgreSQL.

Each test starts from a valid register built through the CLI (a copy of the one the first test
built), then changes its history the way someone with write access to the database could — an
edited event, a forged one, events re-sealed so that the chain holds — and checks that `audit
verify` names the broken rule, the event and the claim, exits 1, and says nothing of the kind
about the honest register.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.base import acting_as, recording_at
from domain.membership import Membership
from ledger.app import open_ledger
from ledger.rules_check import check_rules
from tests.support.harness import Clock
from tests.support.snapshots import Snapshots
from tests.support.tampering import RawStore

ACTIVITY = "2026-03-10"


@pytest.fixture
def register(run: Any, clock: Clock, db_url: str, tmp_path: Path, snapshots: Snapshots) -> dict[str, str]:
    """P-1 claims a question (cap 2) in N-1, P-2 (also a reviewer) endorses it, R-1 approves it with 2 points.
    Written by the first test of each engine, a copy of its store and clock for the others."""
    return snapshots.register("rules-check", db_url, clock, lambda: write_register(run, clock), tmp_path)


def write_register(run: Any, clock: Clock) -> dict[str, str]:
    """`register`'s register, written through the CLI; its claim's id."""

    def ok(*args: str) -> Any:
        clock.tick(seconds=1)
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        return result

    for pid in ("P-1", "P-2"):
        ok("professional", "register", pid, "--name", f"Name {pid}", "--group", "nurse", "--registered-on", "2025-01-01")
    for rid in ("R-1", "P-2"):
        ok("reviewer", "appoint", rid, "--name", "Reviewer", "--on", "2025-01-01")
    ok("network", "register", "N-1", "--name", "Wound care", "--theme", "wound-care", "--group", "nurse",
       "--founded-on", "2024-01-01")
    for pid in ("P-1", "P-2"):
        ok("network", "join", "N-1", pid, "--on", "2025-01-01")
    claim = ok("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "question", "--on", ACTIVITY,
               "--hours", "2", "--description", "Asked about dressings", "--outcome", "A new protocol").stdout.strip()
    ok("claim", "endorse", claim, "--by", "P-2", "--statement", "I was there")
    ok("review", "approve", claim, "--reviewer", "R-1", "--rationale", "Good", "--points", "2")
    return {"claim": claim}


def verdict(run: Any) -> tuple[int, dict[str, Any]]:
    result = run("--json", "audit", "verify")
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, result.json()


def event_at(raw: RawStore, topic: str) -> Any:
    return next(r for r in raw.rows() if r.topic.endswith(topic))


def forge(raw: RawStore, topic: str, change: Any) -> int:
    """Rewrite the state of the first event of `topic` with `change(state)`; its position."""
    row = event_at(raw, topic)
    state = json.loads(row.state)
    change(state)
    raw.update(row.position, "state", json.dumps(state, separators=(",", ":")).encode())
    return row.position


def points(amount: str) -> Any:
    def change(state: dict[str, Any]) -> None:
        state["points"]["_data_"] = amount

    return change


def test_the_honest_register_breaks_no_rule(run, register):
    code, result = verdict(run)
    assert (code, result["ok"], result["rules"], result["problems"]) == (0, True, [], [])


def test_a_forged_approval_resealed_is_caught_by_rule_5(run, register, db_url):
    """The forger rewrites the points *and* the seals: the chain holds, the cap does not."""
    raw = RawStore(db_url)
    position = forge(raw, "Claim.Approved", points("4"))
    raw.reseal()
    code, result = verdict(run)
    assert code == 1 and not result["ok"]
    assert [r["rule"] for r in result["rules"]] == [5]
    problem = result["rules"][0]
    assert (problem["position"], problem["event"], problem["claim"]) == (position, "Claim.Approved", register["claim"])
    assert "4 points awarded" in problem["message"] and "at most 2" in problem["message"]
    assert all("seal" not in p for p in result["problems"])  # the chain itself holds


def test_an_edited_approval_is_named_by_the_chain_and_by_its_rule(run, register, db_url):
    raw = RawStore(db_url)
    position = forge(raw, "Claim.Approved", points("4"))
    code, result = verdict(run)
    assert code == 1
    assert [(r["rule"], r["position"]) for r in result["rules"]] == [(5, position)]
    assert any(f"event {position}" in p and "rule" not in p for p in result["problems"])  # the chain's own finding


def test_an_approval_forged_onto_the_endorser_is_caught_by_rule_9(run, register, db_url):
    """P-2 endorsed the claim and is a reviewer too; the approval is rewritten to be theirs."""
    raw = RawStore(db_url)
    position = forge(raw, "Claim.Approved", lambda s: s.update(actor="P-2"))
    raw.reseal()
    code, result = verdict(run)
    assert code == 1
    assert [(r["rule"], r["position"]) for r in result["rules"]] == [(9, position)]
    assert "P-2 endorsed the claim and decided on it" in result["rules"][0]["message"]


def test_a_forged_activity_date_is_caught_by_rule_2(run, register, db_url):
    raw = RawStore(db_url)
    forge(raw, "Claim.Submitted", lambda s: s["activity_date"].update(_data_="2024-06-01"))  # before registering
    raw.reseal()
    code, result = verdict(run)
    assert code == 1
    found = {r["rule"] for r in result["rules"]}
    assert 2 in found and 1 in found  # and the approval's posting no longer matches the claim


def test_a_retirement_forged_to_an_earlier_date_is_caught_by_rule_8(run, register, db_url, clock):
    clock.tick(days=1)
    assert run("reviewer", "retire", "R-1", "--on", "2026-06-17").exit_code == 0
    raw = RawStore(db_url)
    forge(raw, "Reviewer.Retired", lambda s: s["on"].update(_data_="2026-01-01"))
    raw.reseal()
    code, result = verdict(run)
    assert code == 1 and {r["rule"] for r in result["rules"]} == {8}  # retired on or before a decision


def test_an_approval_forged_onto_someone_not_appointed_is_caught_by_rule_4(run, register, db_url):
    raw = RawStore(db_url)
    forge(raw, "Claim.Approved", lambda s: s.update(actor="X-9"))
    raw.reseal()
    code, result = verdict(run)
    assert code == 1 and [r["rule"] for r in result["rules"]] == [4]
    assert "X-9 is not an appointed reviewer" in result["rules"][0]["message"]


def test_a_history_that_breaks_rule_8_opens_reads_and_is_named_by_verify(run, register, store, clock):
    """As a store written before rule 8 could be: a leave recorded before the claim it contradicts."""
    app = open_ledger(store, clock=clock, os_user="tester")
    try:
        membership = app.repository.get(app.id_of(Membership, "N-1", "P-1"))
        with recording_at(clock()), acting_as("P-1", "tester"):
            membership.leave(date(2026, 3, 1), claims=[])  # rule 8 bypassed
        app.save(membership)
    finally:
        app.close()
    balance = run("--json", "balance", "P-1", "--at", ACTIVITY)
    assert balance.exit_code == 0 and balance.json()["total"] == "2"
    members = run("--json", "network", "members", "N-1", "--at", ACTIVITY)
    assert members.exit_code == 0 and members.json()["members"] == ["P-2"]
    code, result = verdict(run)
    assert code == 1
    assert [(r["rule"], r["event"], r["claim"]) for r in result["rules"]] == [(8, "Membership.Left", register["claim"])]
    human = run("audit", "verify")
    assert human.exit_code == 1 and "breaks rule 8" in human.stdout


def test_the_checker_is_a_fold_that_judges_each_event_by_what_came_before(ledger, clock):
    """check_rules itself, on decoded events: an endorsement before its endorser joined breaks rule 3."""
    ledger.register_professional(id="P-1", name="A", group="nurse", registered_on=date(2025, 1, 1))
    ledger.register_professional(id="P-2", name="B", group="nurse", registered_on=date(2025, 1, 1))
    ledger.register_network(id="N-1", name="N", theme=["t"], group=["nurse"], founded_on=date(2024, 1, 1))
    ledger.join_network(network="N-1", professional="P-1", on=date(2025, 1, 1))
    ledger.join_network(network="N-1", professional="P-2", on=date(2025, 1, 1))
    claim = ledger.submit_claim(professional="P-1", network="N-1", kind="answer", on=date(2026, 3, 10),
                                hours=2, description="d", outcome="o")["claim"]
    ledger.endorse_claim(claim=claim, by="P-2", statement="s")
    events = [(n.id, ledger.mapper.to_domain_event(n)) for n in ledger.recorder.select_notifications(1, 1000)]
    assert check_rules(events) == []
    p2_join = next(i for i, (_, e) in enumerate(events)
                   if type(e).__qualname__ == "Membership.Joined" and e.professional_id == "P-2")
    moved = events[:p2_join] + events[p2_join + 1:] + [events[p2_join]]  # the join recorded after the endorsement
    problems = check_rules(moved)
    assert [(p.rule, p.event, p.claim) for p in problems] == [(3, "Claim.Endorsed", claim)]


def test_a_correction_of_a_fact_never_recorded_breaks_rule_1(ledger, clock):
    """A reinstatement whose deregistration is not in the log (deleted, or never written) is named."""
    ledger.register_professional(id="P-1", name="A", group="nurse", registered_on=date(2025, 1, 1))
    ledger.deregister_professional(id="P-1", on=date(2026, 1, 1))
    ledger.reinstate_professional(id="P-1")
    events = [(n.id, ledger.mapper.to_domain_event(n)) for n in ledger.recorder.select_notifications(1, 1000)]
    assert check_rules(events) == []
    without = [(p, e) for p, e in events if type(e).__qualname__ != "Professional.Deregistered"]
    assert [(p.rule, p.event, p.message) for p in check_rules(without)] == [
        (1, "Professional.Reinstated", "P-1 was not deregistered")]
