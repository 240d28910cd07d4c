"""`--request-id`: repeating a write with the same key and content returns the first result
and writes nothing; the same key with other content, or for another command, is refused
(exit 1, RequestIdReused) and writes nothing. A claim can be referred to by its request id.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import RequestIdReused
from tests.support.harness import count_events


@pytest.fixture
def register(ledger: Any) -> Any:
    """R-1 (claimant), R-2 and R-3 in wound-care; R-4 registered only; reviewer V-1."""
    for pid in ("R-1", "R-2", "R-3", "R-4"):
        ledger.register_professional(id=pid, name=f"Nurse {pid}", group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-1", name="Vera", on=date(2024, 1, 1))
    ledger.register_network(id="wound-care", name="Wondzorg", theme=["wound-care"], group=["nurse"],
                            founded_on=date(2021, 9, 1))
    for pid in ("R-1", "R-2", "R-3"):
        ledger.join_network(network="wound-care", professional=pid, on=date(2025, 1, 1))
    return ledger


def submit_args(key: str = "c-1", hours: str = "2.5", **extra: str) -> list[str]:
    args = ["claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", "answer",
            "--on", "2025-03-04", "--hours", hours, "--description", "Advised on a wound", "--outcome", "A protocol",
            "--request-id", key]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    return args


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


def assert_reused(result: Any, store: Any, events: int, key: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Refused (RequestIdReused): request id '{key}' was used before for a different ")
    assert count_events(store) == events


def test_claim_submit_repeated_returns_the_same_claim_and_writes_nothing(register, run, store):
    first = ok(run(*submit_args()))
    events = count_events(store)
    again = ok(run(*submit_args()))
    assert again.stdout == first.stdout
    assert count_events(store) == events
    # the same content spelled differently is the same content
    assert ok(run(*submit_args(hours="2.50"))).stdout == first.stdout
    assert ok(run("--json", *submit_args())).json() == {
        "claim": first.stdout.strip(), "status": "submitted",
        "replayed": {"request_id": "c-1", "first_recorded_at": "2026-06-15T12:00:00+00:00"},
    }
    assert count_events(store) == events
    assert len(ok(run("--json", "review", "queue")).json()["claims"]) == 1


def test_claim_submit_with_the_same_key_and_other_content_is_refused(register, run, store):
    ok(run(*submit_args()))
    events = count_events(store)
    refused = run(*submit_args(hours="3"))
    assert_reused(refused, store, events, "c-1")
    assert refused.stderr == "Refused (RequestIdReused): request id 'c-1' was used before for a different content (claim submit).\n"
    assert_reused(run(*submit_args(practice_change="I now ask earlier")), store, events, "c-1")


def test_a_key_used_for_another_command_is_refused(register, run, store):
    ok(run(*submit_args()))
    events = count_events(store)
    refused = run("professional", "register", "R-9", "--name", "Nina", "--group", "nurse", "--request-id", "c-1")
    assert_reused(refused, store, events, "c-1")
    assert refused.stderr == "Refused (RequestIdReused): request id 'c-1' was used before for a different command (claim submit).\n"
    assert_reused(run("claim", "endorse", "c-1", "--by", "R-2", "--statement", "Yes", "--request-id", "c-1"),
                  store, events, "c-1")
    # and with --json the rule is named in the error document
    as_json = run("--json", "network", "join", "wound-care", "R-4", "--on", "2025-01-01", "--request-id", "c-1")
    assert as_json.exit_code == 1
    assert as_json.stdout == ""
    error = json.loads(as_json.stderr)["error"]
    assert (error["code"], error["rule"]) == (1, "RequestIdReused")
    assert count_events(store) == events


def test_claim_endorse_repeated(register, run, store):
    claim = ok(run(*submit_args())).stdout.strip()
    endorse = ["claim", "endorse", "c-1", "--by", "R-2", "--statement", "I was there", "--request-id", "e-1"]
    first = ok(run(*endorse))
    assert first.stdout == f"Claim {claim} endorsed; it has 1 endorsement now.\n"
    events = count_events(store)
    assert ok(run(*endorse)).stdout == first.stdout
    assert count_events(store) == events
    # without the key, the repetition is a second endorsement: refused by rule 3
    again = run(*endorse[:-2])
    assert again.exit_code == 1 and "AlreadyEndorsed" in again.stderr
    # other content under the same key
    assert_reused(run(*endorse[:5], "--statement", "Something else", "--request-id", "e-1"), store, events, "e-1")
    assert [e["by"] for e in ok(run("--json", "claim", "show", claim)).json()["endorsements"]] == ["R-2"]


def test_review_approve_repeated(register, run, store):
    claim = ok(run(*submit_args())).stdout.strip()
    ok(run("claim", "endorse", "c-1", "--by", "R-2", "--statement", "Yes"))
    approve = ["review", "approve", "c-1", "--reviewer", "V-1", "--rationale", "Clear", "--request-id", "a-1"]
    first = ok(run(*approve))
    assert first.stdout == f"Claim {claim} approved: 2.5 points.\n"
    events = count_events(store)
    assert ok(run(*approve)).stdout == first.stdout
    assert count_events(store) == events
    assert ok(run("--json", "balance", "R-1")).json()["total"] == "2.5"  # credited once
    again = run(*approve[:-2])
    assert again.exit_code == 1 and "ClaimNotAwaitingDecision" in again.stderr
    assert_reused(run(*approve[:-2], "--points", "2", "--request-id", "a-1"), store, events, "a-1")


def test_professional_register_repeated(register, run, store):
    args = ["professional", "register", "R-9", "--name", "Nina", "--group", "nurse", "--registered-on", "2025-01-01",
            "--request-id", "p-9"]
    first = ok(run(*args))
    assert first.stdout == "Professional R-9 registered on 2025-01-01.\n"
    events = count_events(store)
    assert ok(run(*args)).stdout == first.stdout
    assert count_events(store) == events
    again = run(*args[:-2])
    assert again.exit_code == 1 and "AlreadyRegistered" in again.stderr
    assert_reused(run(*args[:4], "Nina Bos", *args[5:]), store, events, "p-9")


def test_network_join_repeated(register, run, store):
    args = ["network", "join", "wound-care", "R-4", "--on", "2025-02-01", "--request-id", "j-4"]
    first = ok(run(*args))
    assert first.stdout == "R-4 joined wound-care on 2025-02-01.\n"
    events = count_events(store)
    assert ok(run(*args)).stdout == first.stdout
    assert count_events(store) == events
    again = run(*args[:-2])
    assert again.exit_code == 1 and "AlreadyMember" in again.stderr
    assert_reused(run(*args[:5], "2025-02-02", "--request-id", "j-4"), store, events, "j-4")
    assert ok(run("--json", "network", "members", "wound-care", "--at", "2025-02-01")).json()["members"] == [
        "R-1", "R-2", "R-3", "R-4",
    ]


def test_a_claim_is_referred_to_by_its_request_id(register, run, store):
    claim = ok(run(*submit_args(key="rosa-2025-03-04"))).stdout.strip()
    assert ok(run("claim", "endorse", "rosa-2025-03-04", "--by", "R-2", "--statement", "Yes")).stdout == (
        f"Claim {claim} endorsed; it has 1 endorsement now.\n"
    )
    shown = ok(run("--json", "claim", "show", "rosa-2025-03-04")).json()
    assert shown["claim"] == claim and shown["endorsements"][0]["by"] == "R-2"
    assert ok(run("review", "approve", "rosa-2025-03-04", "--reviewer", "V-1", "--rationale", "ok")).stdout == (
        f"Claim {claim} approved: 2.5 points.\n"
    )
    assert ok(run("--json", "claim", "show", claim)).json()["status"] == "approved"
    # a request id of another command does not name a claim
    ok(run("network", "join", "wound-care", "R-4", "--on", "2025-02-01", "--request-id", "j-4"))
    refused = run("claim", "show", "j-4")
    assert (refused.exit_code, refused.stderr) == (1, "Refused (rule 1, UnknownClaim): no claim 'j-4' was submitted.\n")


# --- the ledger's own API --------------------------------------------------------

SUBMIT = dict(professional="R-1", network="wound-care", kind="answer", on=date(2025, 3, 4), hours=Decimal("2.5"),
              description="Advised on a wound", outcome="A protocol")


def test_ledger_submit_claim_with_a_request_id(register, store):
    ledger = register
    first = ledger.submit_claim(**SUBMIT, request_id="k")
    events = count_events(store)
    repeat = {**first, "replayed": {"request_id": "k", "first_recorded_at": "2026-06-15T12:00:00+00:00"}}
    assert ledger.submit_claim(**SUBMIT, request_id="k") == repeat
    assert ledger.submit_claim(**{**SUBMIT, "hours": Decimal("2.50")}, request_id="k") == repeat
    assert count_events(store) == events
    with pytest.raises(RequestIdReused, match="request id 'k' was used before for a different content"):
        ledger.submit_claim(**{**SUBMIT, "hours": Decimal(3)}, request_id="k")
    with pytest.raises(RequestIdReused, match="different command"):
        ledger.register_professional(id="R-9", name="Nina", group="nurse", request_id="k")
    assert count_events(store) == events
    # without a key, the same content is a second claim
    second = ledger.submit_claim(**SUBMIT)
    assert second["claim"] != first["claim"]
    assert count_events(store) == events + 2  # the claim and its note on the claimant's membership


def test_ledger_refers_to_a_claim_by_its_request_id(register, store, run):
    ledger = register
    claim = ledger.submit_claim(**SUBMIT, request_id="k")["claim"]
    assert ledger.endorse_claim(claim="k", by="R-2", statement="Yes", request_id="e") == {
        "claim": claim, "status": "submitted", "endorsements": 1,
    }
    events = count_events(store)
    assert ledger.endorse_claim(claim="k", by="R-2", statement="Yes", request_id="e")["endorsements"] == 1
    assert count_events(store) == events
    assert ledger.approve_claim(claim="k", reviewer="V-1", rationale="ok") == {
        "claim": claim, "status": "approved", "points": "2.5",
    }
    assert ok(run("--json", "claim", "show", "k")).json()["status"] == "approved"


def test_the_first_result_is_returned_even_after_the_claim_moved_on(register, run, store):
    first = ok(run("--json", *submit_args())).json()
    ok(run("claim", "withdraw", "c-1", "--by", "R-1"))
    events = count_events(store)
    again = ok(run("--json", *submit_args())).json()
    assert again.pop("replayed") == {"request_id": "c-1", "first_recorded_at": "2026-06-15T12:00:00+00:00"}
    assert again == first == {"claim": first["claim"], "status": "submitted"}
    # without --json, the claim id alone on stdout (as the first time) and on stderr what it is now
    human = ok(run(*submit_args()))
    assert human.stdout == first["claim"] + "\n"
    assert human.stderr == ("Note: request id 'c-1' was carried out at 2026-06-15T12:00:00Z; this is its result then, "
                            "and nothing was written now. The claim is withdrawn now.\n")
    assert count_events(store) == events
