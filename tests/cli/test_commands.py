"""The happy path of every command, through the CLI, on SQLite and PostgreSQL.

Human output is asserted exactly for the write commands; JSON output per SPEC §3, with
points as strings ("12.5"), never floats.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from storage.config import resolve
from tests.support.harness import count_events

UUID_LINE = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n\Z")
T0 = "2026-06-15T12:00:00+00:00"  # the clock fixture's starting instant


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result


def register_basics(run: Any) -> None:
    """R-1 (registered 2022-03-01), R-2, R-3, reviewer V-1, network wound-care, all members."""
    ok(run("professional", "register", "R-1", "--name", "Rosa Smit", "--group", "nurse", "--registered-on", "2022-03-01"))
    ok(run("professional", "register", "R-2", "--name", "Ruud Bos", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("professional", "register", "R-3", "--name", "Rik Mol", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("reviewer", "appoint", "V-1", "--name", "Vera Kok", "--on", "2024-01-01"))
    ok(run("network", "register", "wound-care", "--name", "Wondzorg", "--theme", "wound-care", "--theme", "diabetes",
           "--group", "nurse", "--group", "nurse-specialist", "--founded-on", "2021-09-01"))
    for who in ("R-1", "R-2", "R-3"):
        ok(run("network", "join", "wound-care", who, "--on", "2024-06-01"))


def submit(run: Any, *extra: str, kind: str = "answer", on: str = "2025-03-04", hours: str = "2.5",
           professional: str = "R-1", network: str = "wound-care") -> str:
    result = ok(run("claim", "submit", "--professional", professional, "--network", network, "--kind", kind,
                    "--on", on, "--hours", hours, "--description", "Advised on a pressure ulcer",
                    "--outcome", "A new dressing protocol", *extra))
    assert UUID_LINE.match(result.stdout), result.stdout
    return result.stdout.strip()


def endorsed_claim(run: Any, **kwargs: Any) -> str:
    claim = submit(run, **kwargs)
    ok(run("claim", "endorse", claim, "--by", "R-2", "--statement", "I was there"))
    return claim


def no_floats(document: Any) -> None:
    if isinstance(document, dict):
        for value in document.values():
            no_floats(value)
    elif isinstance(document, list):
        for value in document:
            no_floats(value)
    else:
        assert not isinstance(document, float), document


# --- init ------------------------------------------------------------------------


def test_init_is_idempotent(run, store):
    # the `run` fixture ran init once already
    assert ok(run("init")).stdout == f"Ledger ready at {store.where}.\n"
    assert ok(run("--json", "init")).json() == {"store": store.where, "engine": store.engine, "status": "ready"}
    assert count_events(store) == 0
    ok(run("professional", "register", "R-1", "--name", "Rosa", "--group", "nurse"))
    ok(run("init"))
    assert count_events(store) == 1  # the registration (a person's id guard is in the key store, SPEC §9); init added nothing


# --- policy ----------------------------------------------------------------------

DEFAULT_CAPS = {"question": "2", "answer": "4", "co-construction": "8", "facilitation": "6"}


def test_policy_show_gives_the_default_before_any_adoption(run):
    assert ok(run("--json", "policy", "show")).json() == {
        "at": "2026-06-15", "effective_from": None, "points_per_hour": "1", "caps": DEFAULT_CAPS,
        "min_endorsements": 1, "cycle_years": 4, "norm": "160",
    }
    assert ok(run("policy", "show", "--at", "2020-01-01")).stdout == (
        "Policy in force on 2020-01-01:\n"
        "  effective from    built-in default\n"
        "  points per hour   1\n"
        "  caps              question 2, answer 4, co-construction 8, facilitation 6\n"
        "  min endorsements  1\n"
        "  cycle             4 years\n"
        "  norm              160 points per cycle\n"
    )


def test_policy_adopt_with_repeated_caps_and_versions_carrying_settings_over(run, store):
    first = ok(run("policy", "adopt", "--effective-from", "2025-01-01", "--points-per-hour", "1.5",
                   "--cap", "answer=5", "--cap", "question=2.5", "--min-endorsements", "2", "--cycle-years", "5"))
    assert first.stdout == (
        "Policy adopted, in force from 2025-01-01.\n"
        "  effective from    2025-01-01\n"
        "  points per hour   1.5\n"
        "  caps              question 2.5, answer 5, co-construction 8, facilitation 6\n"
        "  min endorsements  2\n"
        "  cycle             5 years\n"
        "  norm              160 points per cycle\n"
    )
    second = ok(run("--json", "policy", "adopt", "--effective-from", "2025-06-01", "--norm", "120",
                    "--cap", "facilitation=7"))
    v2 = {
        "effective_from": "2025-06-01", "points_per_hour": "1.5",
        "caps": {"question": "2.5", "answer": "5", "co-construction": "8", "facilitation": "7"},
        "min_endorsements": 2, "cycle_years": 5, "norm": "120",
    }
    assert second.json() == v2
    v1 = {**v2, "effective_from": "2025-01-01", "norm": "160", "caps": {**v2["caps"], "facilitation": "6"}}
    default = {"effective_from": None, "points_per_hour": "1", "caps": DEFAULT_CAPS, "min_endorsements": 1,
               "cycle_years": 4, "norm": "160"}

    def shown(at: str) -> dict:
        return ok(run("--json", "policy", "show", "--at", at)).json()

    assert shown("2024-12-31") == {"at": "2024-12-31", **default}
    assert shown("2025-01-01") == {"at": "2025-01-01", **v1}
    assert shown("2025-05-31") == {"at": "2025-05-31", **v1}
    assert shown("2025-06-01") == {"at": "2025-06-01", **v2}
    assert ok(run("--json", "policy", "show")).json() == {"at": "2026-06-15", **v2}
    assert count_events(store) == 3  # the policy book opened, two versions adopted


def test_adopted_policy_judges_claims_by_their_activity_date(run):
    register_basics(run)
    ok(run("policy", "adopt", "--effective-from", "2025-06-01", "--points-per-hour", "2", "--cap", "answer=6"))
    before = endorsed_claim(run, on="2025-05-31", hours="2.5")
    after = endorsed_claim(run, on="2025-06-01", hours="2.5")
    assert ok(run("review", "approve", before, "--reviewer", "V-1", "--rationale", "ok")).stdout == (
        f"Claim {before} approved: 2.5 points.\n"
    )
    assert ok(run("review", "approve", after, "--reviewer", "V-1", "--rationale", "ok")).stdout == (
        f"Claim {after} approved: 5 points.\n"
    )


# --- professionals and reviewers -------------------------------------------------


def test_professional_register_and_deregister(run, store):
    assert ok(run("professional", "register", "R-1", "--name", "Rosa Smit", "--group", "nurse",
                  "--registered-on", "2024-01-01")).stdout == "Professional R-1 registered on 2024-01-01.\n"
    assert ok(run("--json", "professional", "register", "R-2", "--name", "Ruud", "--group", "nurse")).json() == {
        "professional": "R-2", "status": "registered", "registered_on": "2026-06-15",  # default: today
    }
    assert ok(run("professional", "deregister", "R-1", "--on", "2026-01-31")).stdout == (
        "Professional R-1 deregistered on 2026-01-31.\n"
    )
    assert ok(run("--json", "professional", "deregister", "R-2", "--on", "2026-06-15")).json() == {
        "professional": "R-2", "status": "deregistered", "on": "2026-06-15", "memberships_ended": [],
    }
    assert count_events(store) == 2 + 2  # each registration (its id guarded by the key store), two deregistrations


def test_reviewer_appoint_and_retire(run, store):
    assert ok(run("reviewer", "appoint", "V-1", "--name", "Vera Kok", "--on", "2024-01-01")).stdout == (
        "Reviewer V-1 appointed on 2024-01-01.\n"
    )
    assert ok(run("--json", "reviewer", "appoint", "V-2", "--name", "Vince")).json() == {
        "reviewer": "V-2", "status": "appointed", "on": "2026-06-15",
    }
    assert ok(run("reviewer", "retire", "V-1", "--on", "2026-06-01")).stdout == "Reviewer V-1 retires on 2026-06-01.\n"
    assert count_events(store) == 2 + 1  # each appointment (its id guarded by the key store), a retirement


def test_a_retired_reviewer_decides_no_more_but_another_does(run):
    register_basics(run)
    ok(run("reviewer", "appoint", "V-2", "--name", "Vince", "--on", "2024-01-01"))
    ok(run("reviewer", "retire", "V-1", "--on", "2026-06-01"))
    claim = endorsed_claim(run)
    refused = run("review", "approve", claim, "--reviewer", "V-1", "--rationale", "ok")
    assert refused.exit_code == 1 and "ReviewerNotActive" in refused.stderr
    ok(run("review", "approve", claim, "--reviewer", "V-2", "--rationale", "ok"))


# --- networks and memberships ----------------------------------------------------


def test_network_register_with_repeated_themes_and_groups(run, store):
    result = ok(run("network", "register", "wound-care", "--name", "Wondzorg", "--theme", "wound-care",
                    "--theme", "diabetes", "--group", "nurse", "--group", "nurse-specialist",
                    "--founded-on", "2021-09-01"))
    assert result.stdout == "Network wound-care registered, founded on 2021-09-01.\n"
    assert ok(run("--json", "network", "register", "digital", "--name", "Digitaal", "--theme", "ict",
                  "--group", "nurse")).json() == {"network": "digital", "status": "registered",
                                                  "founded_on": "2026-06-15"}
    assert count_events(store) == 2 * 2  # each registration with the guard of its id
    networks = {n["id"]: n for n in ok(run("--json", "network", "map")).json()["networks"]}
    assert (networks["wound-care"]["themes"], networks["wound-care"]["groups"]) == (
        ["diabetes", "wound-care"], ["nurse", "nurse-specialist"],
    )
    # both themes count: a claim in the network shows under each of them in a balance
    ok(run("professional", "register", "R-1", "--name", "Rosa", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("professional", "register", "R-2", "--name", "Ruud", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("reviewer", "appoint", "V-1", "--name", "Vera", "--on", "2024-01-01"))
    for who in ("R-1", "R-2"):
        ok(run("network", "join", "wound-care", who, "--on", "2024-06-01"))
    claim = endorsed_claim(run)
    ok(run("review", "approve", claim, "--reviewer", "V-1", "--rationale", "ok"))
    assert ok(run("--json", "balance", "R-1")).json()["by_theme"] == {"diabetes": "2.5", "wound-care": "2.5"}


def test_network_close(run):
    register_basics(run)
    assert ok(run("network", "close", "wound-care", "--on", "2025-12-31")).stdout == (
        "Network wound-care closed on 2025-12-31.\n"
    )
    submit(run, on="2025-12-30")  # open the day before
    refused = run("claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", "answer",
                  "--on", "2025-12-31", "--hours", "1", "--description", "d", "--outcome", "o")
    assert refused.exit_code == 1 and "NetworkMustBeOpen" in refused.stderr


def test_network_join_leave_and_members_at_a_date(run):
    register_basics(run)
    assert ok(run("network", "leave", "wound-care", "R-2", "--on", "2025-01-01")).stdout == (
        "R-2 left wound-care on 2025-01-01.\n"
    )
    assert ok(run("network", "join", "wound-care", "R-2", "--on", "2025-07-01")).stdout == (
        "R-2 joined wound-care on 2025-07-01.\n"
    )
    assert ok(run("--json", "network", "leave", "wound-care", "R-3", "--on", "2026-01-01")).json() == {
        "network": "wound-care", "professional": "R-3", "status": "left", "on": "2026-01-01",
    }

    def members(at: str) -> list[str]:
        document = ok(run("--json", "network", "members", "wound-care", "--at", at)).json()
        assert document["network"] == "wound-care" and document["at"] == at and document["known_at"] == T0
        return document["members"]

    assert members("2024-05-31") == []
    assert members("2024-06-01") == ["R-1", "R-2", "R-3"]
    assert members("2024-12-31") == ["R-1", "R-2", "R-3"]
    assert members("2025-01-01") == ["R-1", "R-3"]  # left on 2025-01-01: no longer a member that day
    assert members("2025-07-01") == ["R-1", "R-2", "R-3"]  # re-joined
    assert members("2026-01-01") == ["R-1", "R-2"]
    assert ok(run("network", "members", "wound-care", "--at", "2025-03-01")).stdout == (
        "Members of wound-care on 2025-03-01, as known at 2026-06-15T12:00:00Z (2):\n  R-1\n  R-3\n"
    )
    assert ok(run("network", "members", "wound-care", "--at", "2020-01-01")).stdout == (
        "Members of wound-care on 2020-01-01, as known at 2026-06-15T12:00:00Z (0):\n  (none)\n"
    )
    default = ok(run("--json", "network", "members", "wound-care")).json()
    assert default == {"network": "wound-care", "at": "2026-06-15", "known_at": T0, "recorded": True,
                       "members": ["R-1", "R-2"]}


def test_network_members_known_at_shows_what_was_recorded_by_then(run, clock):
    register_basics(run)  # joins recorded at 2026-06-15T12:00Z
    clock.tick(days=1)
    ok(run("network", "leave", "wound-care", "R-2", "--on", "2025-01-01"))  # recorded 2026-06-16T12:00Z
    clock.tick(days=1)
    ok(run("network", "join", "wound-care", "R-2", "--on", "2025-07-01"))  # recorded 2026-06-17T12:00Z

    def members(at: str, known_at: str) -> dict:
        return ok(run("--json", "network", "members", "wound-care", "--at", at, "--known-at", known_at)).json()

    assert members("2025-03-01", "2026-06-16T11:59:59Z") == {
        "network": "wound-care", "at": "2025-03-01", "known_at": "2026-06-16T11:59:59+00:00", "recorded": True,
        "members": ["R-1", "R-2", "R-3"],
    }
    assert members("2025-03-01", "2026-06-16T12:00:00Z")["members"] == ["R-1", "R-3"]
    assert members("2025-08-01", "2026-06-16T12:00:00Z")["members"] == ["R-1", "R-3"]
    assert members("2025-08-01", "2026-06-17T12:00:00Z")["members"] == ["R-1", "R-2", "R-3"]
    before = members("2025-08-01", "2026-06-15T11:59:59Z")  # before anything was recorded
    assert (before["members"], before["recorded"]) == ([], False)
    # an instant in another time zone is the same instant
    assert members("2025-03-01", "2026-06-16T14:00:00+02:00")["members"] == ["R-1", "R-3"]


# --- claims ----------------------------------------------------------------------


def test_claim_submit_prints_the_claim_id_only(run, store):
    register_basics(run)
    before = count_events(store)
    claim = submit(run)
    uuid.UUID(claim)
    assert count_events(store) == before + 2  # the claim, and its note on the claimant's membership (rule 8)
    result = ok(run("--json", "claim", "submit", "--professional", "R-1", "--network", "wound-care",
                    "--kind", "question", "--on", "2025-03-05", "--hours", "1", "--description", "d",
                    "--outcome", "o", "--practice-change", "I ask earlier"))
    document = result.json()
    assert set(document) == {"claim", "status"}
    assert document["status"] == "submitted"
    assert str(uuid.UUID(document["claim"])) == document["claim"] != claim


def test_claim_show_json_shape(run, clock):
    register_basics(run)
    claim = submit(run, "--practice-change", "I check wounds daily", hours="3")
    clock.tick(days=1)
    ok(run("claim", "endorse", claim, "--by", "R-2", "--statement", "I was there"))
    clock.tick(days=1)
    ok(run("claim", "endorse", claim, "--by", "R-3", "--statement", "Saw the protocol"))
    clock.tick(days=1)
    ok(run("review", "approve", claim, "--reviewer", "V-1", "--points", "3.25", "--rationale", "Clear outcome"))
    shown = ok(run("--json", "claim", "show", claim)).json()
    no_floats(shown)
    assert shown == {
        "claim": claim,
        "request_id": None,
        "professional": "R-1",
        "professional_name": "Rosa Smit",
        "network": "wound-care",
        "network_name": "Wondzorg",
        "kind": "answer",
        "status": "approved",
        "activity_date": "2025-03-04",
        "hours": "3",
        "description": "Advised on a pressure ulcer",
        "outcome": "A new dressing protocol",
        "practice_change": "I check wounds daily",
        "points": "3.25",
        "suggested_points": "3",
        "submitted_at": T0,
        "endorsements": [
            {"by": "R-2", "statement": "I was there", "recorded_at": "2026-06-16T12:00:00+00:00"},
            {"by": "R-3", "statement": "Saw the protocol", "recorded_at": "2026-06-17T12:00:00+00:00"},
        ],
        "decisions": [
            {"decision": "approved", "by": "V-1", "recorded_at": "2026-06-18T12:00:00+00:00",
             "text": "Clear outcome", "points": "3.25"},
        ],
    }
    human = ok(run("claim", "show", claim)).stdout
    assert human.startswith(f"Claim {claim}  [approved]\n  request id       -\n  professional     R-1 (Rosa Smit)\n")
    assert "  points           3.25 (suggested 3)\n" in human
    assert "Endorsements:" in human and "Decisions:" in human


def test_claim_endorse(run, store):
    register_basics(run)
    claim = submit(run)
    assert ok(run("claim", "endorse", claim, "--by", "R-2", "--statement", "Yes")).stdout == (
        f"Claim {claim} endorsed; it has 1 endorsement now.\n"
    )
    assert ok(run("--json", "claim", "endorse", claim, "--by", "R-3", "--statement", "Also")).json() == {
        "claim": claim, "status": "submitted", "endorsements": 2,
    }
    assert [e["by"] for e in ok(run("--json", "claim", "show", claim)).json()["endorsements"]] == ["R-2", "R-3"]


def test_claim_withdraw(run):
    register_basics(run)
    claim = submit(run)
    assert ok(run("claim", "withdraw", claim, "--by", "R-1")).stdout == f"Claim {claim} withdrawn.\n"
    shown = ok(run("--json", "claim", "show", claim)).json()
    assert shown["status"] == "withdrawn"
    assert shown["decisions"] == [{"decision": "withdrawn", "by": "R-1", "recorded_at": T0}]
    assert ok(run("--json", "review", "queue")).json() == {"total": 0, "claims": []}


def test_claim_amend_after_return(run, clock):
    register_basics(run)
    claim = endorsed_claim(run)
    clock.tick(days=1)
    assert ok(run("review", "return", claim, "--reviewer", "V-1", "--reason", "Say more about the outcome")).stdout == (
        f"Claim {claim} returned to the claimant.\n"
    )
    assert ok(run("--json", "claim", "show", claim)).json()["status"] == "returned"
    clock.tick(days=1)
    assert ok(run("claim", "amend", claim, "--by", "R-1", "--hours", "3.5", "--outcome", "A protocol, now used")).stdout == (
        f"Claim {claim} amended and submitted again.\n"
    )
    shown = ok(run("--json", "claim", "show", claim)).json()
    assert (shown["status"], shown["hours"], shown["outcome"], shown["suggested_points"]) == (
        "submitted", "3.5", "A protocol, now used", "3.5",
    )
    assert [e["by"] for e in shown["endorsements"]] == ["R-2"]  # hours and outcome keep the endorsements
    assert shown["decisions"] == [
        {"decision": "returned", "by": "V-1", "recorded_at": "2026-06-16T12:00:00+00:00",
         "text": "Say more about the outcome"},
        {"decision": "amended", "by": "R-1", "recorded_at": "2026-06-17T12:00:00+00:00",
         "changes": ["hours", "outcome"]},
    ]
    # changing the activity date clears the endorsements
    assert ok(run("--json", "claim", "amend", claim, "--by", "R-1", "--on", "2025-03-05")).json() == {
        "claim": claim, "status": "submitted", "endorsements": 0,
    }
    shown = ok(run("--json", "claim", "show", claim)).json()
    assert shown["activity_date"] == "2025-03-05" and shown["endorsements"] == []


# --- review ----------------------------------------------------------------------


def test_review_queue_oldest_first_with_endorsement_counts_and_suggested_points(run, clock):
    assert ok(run("review", "queue")).stdout == "No claims are waiting for a decision.\n"
    register_basics(run)
    first = submit(run, on="2026-01-10", kind="answer", hours="2.5")
    clock.tick(days=1)
    second = submit(run, on="2025-02-01", kind="question", hours="5")  # an older activity, submitted later
    clock.tick(days=1)
    third = submit(run, on="2025-09-01", kind="co-construction", hours="7.75")
    decided = submit(run, on="2025-09-02", kind="facilitation", hours="1")
    ok(run("claim", "endorse", third, "--by", "R-2", "--statement", "Yes"))
    ok(run("claim", "endorse", third, "--by", "R-3", "--statement", "Yes"))
    ok(run("claim", "endorse", first, "--by", "R-3", "--statement", "Yes"))
    ok(run("review", "reject", decided, "--reviewer", "V-1", "--reason", "Not a facilitation"))
    queue = ok(run("--json", "review", "queue")).json()
    no_floats(queue)
    common = {"request_id": None, "professional": "R-1", "professional_name": "Rosa Smit", "network": "wound-care",
              "network_name": "Wondzorg", "min_endorsements": 1}
    assert queue == {"total": 3, "claims": [
        {"claim": first, "kind": "answer", "activity_date": "2026-01-10", "hours": "2.5", "endorsements": 1,
         "suggested_points": "2.5", "submitted_at": T0, **common},
        {"claim": second, "kind": "question", "activity_date": "2025-02-01", "hours": "5", "endorsements": 0,
         "suggested_points": "2", "submitted_at": "2026-06-16T12:00:00+00:00", **common},  # capped at 2
        {"claim": third, "kind": "co-construction", "activity_date": "2025-09-01", "hours": "7.75", "endorsements": 2,
         "suggested_points": "7.75", "submitted_at": "2026-06-17T12:00:00+00:00", **common},
    ]}
    assert ok(run("review", "queue")).stdout == (
        "3 claims waiting, oldest first:\n"
        "submitted   claim                                 request id  professional  name       network     kind     "
        "        activity    hours  endorsements  suggested\n"
        "----------  ------------------------------------  ----------  ------------  ---------  ----------  ---------"
        "------  ----------  -----  ------------  ---------\n"
        f"2026-06-15  {first}              R-1           Rosa Smit  wound-care  answer           2026-01-10    2.5"
        "  1 (1 needed)        2.5\n"
        f"2026-06-16  {second}              R-1           Rosa Smit  wound-care  question         2025-02-01      5"
        "  0 (1 needed)          2\n"
        f"2026-06-17  {third}              R-1           Rosa Smit  wound-care  co-construction  2025-09-01   7.75"
        "  2 (1 needed)       7.75\n"
    )


def test_review_approve_defaults_to_the_suggested_points(run, store):
    register_basics(run)
    claim = endorsed_claim(run, hours="2.5")
    before = count_events(store)
    assert ok(run("review", "approve", claim, "--reviewer", "V-1", "--rationale", "Good")).stdout == (
        f"Claim {claim} approved: 2.5 points.\n"
    )
    assert count_events(store) == before + 2  # the approval, and the reviewer's first decision of the day
    capped = endorsed_claim(run, hours="9")  # an answer is capped at 4
    assert ok(run("--json", "review", "approve", capped, "--reviewer", "V-1", "--rationale", "Good")).json() == {
        "claim": capped, "status": "approved", "points": "4",
    }
    chosen = endorsed_claim(run, hours="3")
    assert ok(run("review", "approve", chosen, "--reviewer", "V-1", "--points", "1.25", "--rationale", "Part")).stdout == (
        f"Claim {chosen} approved: 1.25 points.\n"
    )
    assert ok(run("--json", "balance", "R-1")).json()["total"] == "7.75"
    assert ok(run("--json", "review", "queue")).json() == {"total": 0, "claims": []}


def test_review_reject(run):
    register_basics(run)
    claim = submit(run)
    assert ok(run("--json", "review", "reject", claim, "--reviewer", "V-1", "--reason", "No outcome")).json() == {
        "claim": claim, "status": "rejected",
    }
    shown = ok(run("--json", "claim", "show", claim)).json()
    assert shown["status"] == "rejected" and shown["points"] is None
    assert shown["decisions"] == [{"decision": "rejected", "by": "V-1", "recorded_at": T0, "text": "No outcome"}]


def test_review_revoke_debits_the_points(run, clock):
    register_basics(run)
    claim = endorsed_claim(run)
    ok(run("review", "approve", claim, "--reviewer", "V-1", "--rationale", "Good"))
    clock.tick(days=1)
    assert ok(run("review", "revoke", claim, "--reviewer", "V-1", "--reason", "Claimed twice")).stdout == (
        f"Claim {claim} revoked: -2.5 points.\n"
    )
    shown = ok(run("--json", "claim", "show", claim)).json()
    assert shown["status"] == "revoked"
    assert shown["decisions"][-1] == {"decision": "revoked", "by": "V-1", "recorded_at": "2026-06-16T12:00:00+00:00",
                                      "text": "Claimed twice", "points": "-2.5"}  # the debit
    assert ok(run("--json", "balance", "R-1")).json()["total"] == "0"
    # as the register knew it before the revocation
    assert ok(run("--json", "balance", "R-1", "--known-at", "2026-06-16T11:59:59Z")).json()["total"] == "2.5"


# --- balance ---------------------------------------------------------------------


def build_balance(run: Any, clock: Any) -> None:
    """R-1, registered 2022-03-01: cycles 2022-03-01–2026-02-28 and 2026-03-01–2030-02-28."""
    register_basics(run)
    ok(run("network", "register", "digital", "--name", "Digitale zorg", "--theme", "e-health",
           "--group", "nurse", "--founded-on", "2020-01-01"))
    ok(run("network", "join", "digital", "R-1", "--on", "2024-06-01"))
    ok(run("network", "join", "digital", "R-2", "--on", "2024-06-01"))
    old = endorsed_claim(run, kind="answer", on="2025-03-04", hours="2.5")  # previous cycle
    new = endorsed_claim(run, kind="question", on="2026-04-01", hours="1.5")  # current cycle
    ict = endorsed_claim(run, kind="facilitation", on="2026-05-01", hours="4", network="digital")
    clock.tick(days=1)  # approvals recorded at 2026-06-16T12:00Z
    ok(run("review", "approve", old, "--reviewer", "V-1", "--rationale", "ok"))
    ok(run("review", "approve", new, "--reviewer", "V-1", "--rationale", "ok"))
    ok(run("review", "approve", ict, "--reviewer", "V-1", "--points", "2.25", "--rationale", "ok"))
    clock.tick(days=1)


def test_balance_json_shape(run, clock):
    build_balance(run, clock)
    document = ok(run("--json", "balance", "R-1")).json()
    no_floats(document)
    assert document == {
        "professional": "R-1",
        "at": "2026-06-17",
        "known_at": "2026-06-17T12:00:00+00:00",
        "total": "6.25",
        "recorded": True,
        "cycle": {"start": "2026-03-01", "end": "2030-02-28", "points": "3.75", "norm": "160",
                  "shortfall": "156.25"},
        "by_kind": {"answer": "2.5", "facilitation": "2.25", "question": "1.5"},
        "by_network": {"digital": "2.25", "wound-care": "4"},
        "by_theme": {"diabetes": "4", "e-health": "2.25", "wound-care": "4"},
    }
    assert ok(run("balance", "R-1")).stdout == (
        "Balance of R-1 on 2026-06-17 (as known at 2026-06-17T12:00:00Z)\n"
        "  total   6.25\n"
        "  cycle   2026-03-01 – 2030-02-28: 3.75 of 160 (shortfall 156.25)\n"
        "  by kind:\n"
        "    answer                            2.5\n"
        "    facilitation                     2.25\n"
        "    question                          1.5\n"
        "  by network:\n"
        "    digital                          2.25\n"
        "    wound-care                          4\n"
        "  by theme:\n"
        "    diabetes                            4\n"
        "    e-health                         2.25\n"
        "    wound-care                          4\n"
    )


def test_balance_at_a_date_excludes_later_activities(run, clock):
    build_balance(run, clock)
    at_end_of_first_cycle = ok(run("--json", "balance", "R-1", "--at", "2026-02-28")).json()
    assert at_end_of_first_cycle == {
        "professional": "R-1", "at": "2026-02-28", "known_at": "2026-06-17T12:00:00+00:00", "total": "2.5",
        "recorded": True, "cycle": {"start": "2022-03-01", "end": "2026-02-28", "points": "2.5", "norm": "160", "shortfall": "157.5"},
        "by_kind": {"answer": "2.5"}, "by_network": {"wound-care": "2.5"},
        "by_theme": {"diabetes": "2.5", "wound-care": "2.5"},
    }
    on_the_day = ok(run("--json", "balance", "R-1", "--at", "2026-04-01")).json()  # a date is the whole day
    assert (on_the_day["total"], on_the_day["cycle"]["points"]) == ("4", "1.5")
    assert ok(run("--json", "balance", "R-1", "--at", "2025-03-03")).json()["total"] == "0"


def test_balance_known_at_before_an_approval_excludes_it(run, clock):
    build_balance(run, clock)
    before = ok(run("--json", "balance", "R-1", "--known-at", "2026-06-16T11:59:59Z")).json()
    assert before["known_at"] == "2026-06-16T11:59:59+00:00"
    assert (before["total"], before["by_kind"], before["by_network"], before["by_theme"]) == ("0", {}, {}, {})
    assert before["cycle"] == {"start": "2026-03-01", "end": "2030-02-28", "points": "0", "norm": "160",
                               "shortfall": "160"}
    exactly = ok(run("--json", "balance", "R-1", "--known-at", "2026-06-16T12:00:00Z")).json()
    assert exactly["total"] == "6.25"  # recorded at or before the instant counts
    both = ok(run("--json", "balance", "R-1", "--at", "2026-02-28", "--known-at", "2026-06-16T12:00:00Z")).json()
    assert both["total"] == "2.5"


def test_balance_of_a_professional_without_postings(run):
    register_basics(run)
    assert ok(run("--json", "balance", "R-2", "--at", "2026-06-15")).json() == {
        "professional": "R-2", "at": "2026-06-15", "known_at": T0, "total": "0", "recorded": True,
        "cycle": {"start": "2024-01-01", "end": "2027-12-31", "points": "0", "norm": "160", "shortfall": "160"},
        "by_kind": {}, "by_network": {}, "by_theme": {},
    }


# --- import ----------------------------------------------------------------------


def test_import_through_the_cli(run, store, tmp_path):
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in [
        {"command": "professional register", "id": "R-1", "name": "Rosa", "group": "nurse", "registered_on": "2024-01-01"},
        {"command": "reviewer appoint", "id": "V-1", "name": "Vera", "on": "2024-01-01"},
    ]) + "\n")
    # their ids guarded against case variants by the key store, not by events (SPEC §9)
    assert ok(run("import", str(path))).stdout == "Imported 2 commands (2 events).\n"
    assert count_events(store) == 2


# --- demo ------------------------------------------------------------------------


def test_demo_builds_a_register_in_a_new_database(run, tmp_path, store):
    demo_db = str(tmp_path / "d.db")
    result = ok(run("demo", db=demo_db))
    assert result.stdout.startswith(f"Building a demo register in {tmp_path / 'd.db'}:\n")
    assert "Balances today (2026-06-15), current cycle against the norm:" in result.stdout
    assert "T-1003" in result.stdout
    queue = ok(run("--json", "review", "queue", db=demo_db)).json()["claims"]
    balance = ok(run("--json", "balance", "T-1003", db=demo_db)).json()
    no_floats(balance)
    demo_store = resolve(demo_db)
    events = count_events(demo_store)
    assert events > 50 and queue
    # a second demo on the same store writes nothing and shows the way in (the README's set-up runs twice)
    again = ok(run("demo", db=demo_db))
    assert again.stdout.startswith(f"The demo register is already in {demo_db}; nothing was written.\n")
    assert again.stderr == ""
    assert count_events(demo_store) == events
    assert count_events(store) == 0  # the test's own store was not touched


def test_demo_refuses_a_store_that_holds_events(run, store):
    ok(run("professional", "register", "R-1", "--name", "Rosa", "--group", "nurse"))
    result = run("--json", "demo")
    assert result.exit_code == 2 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == 2 and "already holds a register other than the demo" in error["message"]
    assert count_events(store) == 1  # the registration (its id guarded by the key store): nothing more


@pytest.mark.parametrize("command", [["demo"], ["--json", "demo"]])
def test_demo_on_an_empty_initialised_store(run, store, command):
    result = ok(run(*command))
    if command[0] == "--json":
        document = result.json()
        assert document["store"] == store.where
        assert [b["professional"] for b in document["balances"]][:2] == ["T-1001", "T-1002"]
        no_floats(document)
    assert count_events(store) > 50


def _unknown_claim_refs() -> list[Any]:
    from domain.professional import Professional

    return [
        pytest.param("c-404", id="word"),
        pytest.param(str(uuid.UUID(int=1)), id="unused-uuid"),
        # the id of another kind of aggregate (a professional's) is not a claim either
        pytest.param(str(Professional.create_id("R-1")), id="professional-uuid"),
    ]


@pytest.mark.parametrize("ref", _unknown_claim_refs())
def test_claim_show_of_an_unknown_claim_is_refused_by_rule_1(run, ref):
    register_basics(run)
    result = run("claim", "show", ref)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Refused (rule 1, UnknownClaim): no claim '{ref}' was submitted.\n"
