"""`studyledger audit history|verify|digest` through the CLI, on SQLite and PostgreSQL (SPEC §3, §5).

`audit history P` replays P's history from the events alone: every event concerning P — as
claimant, endorser, member, professional and (P is also a reviewer id here) reviewer — in
recorded order, with who did it, from which OS account, and the running balance; and that
balance is, at every step, what `balance P --known-at <that instant>` says. `audit verify`
passes on an untouched store and names the changed event after a change made directly in
SQL; it also checks every projection against a replay.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from storage.config import resolve
from tests.support.harness import Clock, count_events
from tests.support.snapshots import Snapshots
from tests.support.tampering import POINTS, RawStore, named_position

P = "X-1"  # a professional who is also a reviewer


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


class Scenario:
    """Runs commands one clock tick apart and writes down what P's history must show for each."""

    def __init__(self, run: Any, clock: Clock):
        self.run, self.clock = run, clock
        self.expected: list[dict[str, Any]] = []
        self.balance = Decimal(0)
        self.claims: dict[str, str] = {}

    def do(self, *args: str, entry: dict[str, Any] | None = None, delta: str | None = None) -> Any:
        at = self.clock.tick()
        result = ok(self.run("--json", *args))
        if entry is not None:
            if delta is not None:
                self.balance += Decimal(delta)
            self.expected.append({"recorded_at": at.isoformat(), "actor": entry.pop("actor"), "os_user": "tester",
                                  "balance": self.balance, **entry})
        return result.json()

    def submit(self, key: str, who: str, kind: str = "answer", on: str = "2025-03-04", hours: str = "2") -> str:
        concerns = who == P
        claim = self.do("claim", "submit", "--professional", who, "--network", "care", "--kind", kind, "--on", on,
                        "--hours", hours, "--description", f"Contribution {key}", "--outcome", "It helped",
                        "--request-id", key,
                        entry={"type": "ClaimSubmitted", "role": "claimant", "actor": who, "network": "care"} if concerns else None,
                        )["claim"]
        self.claims[key] = claim
        if concerns:
            self.expected[-1]["claim"] = claim
        return claim

    def endorse(self, key: str, by: str, role: str | None) -> None:
        self.do("claim", "endorse", key, "--by", by, "--statement", f"{by} saw {key}",
                entry={"type": "ClaimEndorsed", "role": role, "actor": by, "claim": self.claims[key]} if role else None)

    def decide(self, verb: str, key: str, reviewer: str, role: str | None, points: str | None = None,
               delta: str | None = None) -> None:
        args = ["review", verb, key, "--reviewer", reviewer]
        args += ["--rationale", "Fine"] if verb == "approve" else ["--reason", "Because"]
        if points:
            args += ["--points", points]
        kind = {"approve": "ClaimApproved", "reject": "ClaimRejected", "return": "ClaimReturned",
                "revoke": "ClaimRevoked"}[verb]
        entry = {"type": kind, "role": role, "actor": reviewer, "claim": self.claims[key]} if role else None
        if entry and verb in ("approve", "revoke"):
            entry["network"] = "care"  # a posting: with its network (also in a reviewer's history)
        self.do(*args, entry=entry, delta=delta)


def build(run: Any, clock: Clock) -> Scenario:
    s = Scenario(run, clock)
    s.do("network", "register", "care", "--name", "Care", "--theme", "wound-care", "--group", "nurse",
         "--founded-on", "2020-01-01")
    s.do("professional", "register", P, "--name", "Xandra", "--group", "nurse", "--registered-on", "2024-01-01",
         entry={"type": "ProfessionalRegistered", "role": "professional", "actor": "register"})
    for who in ("E-1", "Q-1"):
        s.do("professional", "register", who, "--name", who, "--group", "nurse", "--registered-on", "2024-01-01")
    s.do("reviewer", "appoint", "R-1", "--name", "Rita", "--on", "2024-01-01")
    s.do("reviewer", "appoint", P, "--name", "Xandra", "--on", "2024-03-01",
         entry={"type": "ReviewerAppointed", "role": "reviewer", "actor": "register"})
    s.do("network", "join", "care", P, "--on", "2024-02-01",
         entry={"type": "MembershipJoined", "role": "member", "actor": P, "network": "care"})
    for who in ("E-1", "Q-1"):
        s.do("network", "join", "care", who, "--on", "2024-02-01")
    # P's claim c1: endorsed, approved (+1.5), later revoked (-1.5)
    s.submit("c1", P)
    s.endorse("c1", "E-1", role="claimant")
    s.decide("approve", "c1", "R-1", role="claimant", points="1.5", delta="1.5")
    # P endorses Q's c2 (as endorser); its rejection does not concern P
    s.submit("c2", "Q-1")
    s.endorse("c2", P, role="endorser")
    s.decide("reject", "c2", "R-1", role=None)
    # P decides on Q's c3 as a reviewer: listed, and the balance does not move
    s.submit("c3", "Q-1", kind="question", hours="1")
    s.endorse("c3", "E-1", role=None)
    s.decide("approve", "c3", P, role="reviewer", points="1.75")
    # P's c4: returned, amended, approved (+1.25)
    s.submit("c4", P, kind="question", on="2025-04-01", hours="1")
    s.endorse("c4", "E-1", role="claimant")
    s.decide("return", "c4", "R-1", role="claimant")
    s.do("claim", "amend", "c4", "--by", P, "--outcome", "Now with an outcome",
         entry={"type": "ClaimAmended", "role": "claimant", "actor": P, "claim": s.claims["c4"]})
    s.decide("approve", "c4", "R-1", role="claimant", points="1.25", delta="1.25")
    # P's c5 rejected, c6 withdrawn; c1 revoked
    s.submit("c5", P, on="2025-05-01")
    s.endorse("c5", "E-1", role="claimant")
    s.decide("reject", "c5", "R-1", role="claimant")
    s.decide("revoke", "c1", "R-1", role="claimant", delta="-1.5")
    s.submit("c6", P, on="2025-05-02")
    s.do("claim", "withdraw", "c6", "--by", P,
         entry={"type": "ClaimWithdrawn", "role": "claimant", "actor": P, "claim": s.claims["c6"]})
    # P leaves the network (as member); P's c7 approved (+3)
    s.submit("c7", P, on="2025-05-20", hours="3")
    s.endorse("c7", "Q-1", role="claimant")
    s.decide("approve", "c7", "R-1", role="claimant", points="3", delta="3")
    s.do("network", "leave", "care", P, "--on", "2025-06-01",
         entry={"type": "MembershipLeft", "role": "member", "actor": P, "network": "care"})
    s.do("professional", "register", "Z-9", "--name", "Zed", "--group", "nurse")  # after: not P's
    clock.tick()
    return s


def history(run: Any, *args: str) -> dict[str, Any]:
    return ok(run("--json", "audit", "history", *args)).json()


def as_points(text: str) -> Decimal:
    assert re.fullmatch(r"-?\d+(\.\d{1,2})?", text), text
    return Decimal(text)


@pytest.fixture
def scenario(run: Any, clock: Clock, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Scenario:
    """The scenario (`build`): written by the first test of each engine, a copy of its store, of its
    clock and of what it wrote down for the others."""
    s = Scenario(run, clock)

    def written() -> tuple[list[dict[str, Any]], Decimal, dict[str, str]]:
        made = build(run, clock)
        return made.expected, made.balance, made.claims

    s.expected, s.balance, s.claims = snapshots.register("cli-audit", db_url, clock, written, tmp_path)
    return s


def test_history_lists_every_event_concerning_p_in_recorded_order(run: Any, scenario: Scenario) -> None:
    result = history(run, P)
    assert result["professional"] == P
    events = result["events"]
    got = [{k: e.get(k) for k in ("recorded_at", "type", "role", "actor", "os_user", "claim", "network")}
           for e in events]
    want = [{k: e.get(k) for k in ("recorded_at", "type", "role", "actor", "os_user", "claim", "network")}
            for e in scenario.expected]
    assert got == want
    assert [as_points(e["balance"]) for e in events] == [e["balance"] for e in scenario.expected]
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)
    # points on P's own approvals and revocation, and on the decision P took as a reviewer
    points = [(e["type"], e["role"], as_points(e["points"])) for e in events if "points" in e]
    assert points == [("ClaimApproved", "claimant", Decimal("1.5")), ("ClaimApproved", "reviewer", Decimal("1.75")),
                      ("ClaimApproved", "claimant", Decimal("1.25")), ("ClaimRevoked", "claimant", Decimal("-1.5")),
                      ("ClaimApproved", "claimant", Decimal("3"))]
    assert as_points(events[-1]["balance"]) == Decimal("4.25")
    # nothing of Q-1's, E-1's or Z-9's own
    assert scenario.claims["c2"] in {e.get("claim") for e in events}  # endorsed by P…
    assert [e["type"] for e in events if e.get("claim") == scenario.claims["c2"]] == ["ClaimEndorsed"]  # …only that
    assert all(e.get("claim") != scenario.claims["c3"] or e["role"] == "reviewer" for e in events)


@pytest.mark.slow  # a balance at every event's instant
def test_history_balance_matches_balance_known_at_every_step(run: Any, scenario: Scenario) -> None:
    events = history(run, P)["events"]
    previous = None
    for event in events:
        at = event["recorded_at"]
        balance = ok(run("--json", "balance", P, "--known-at", at)).json()
        assert as_points(balance["total"]) == as_points(event["balance"]), (event, balance)
        if previous is not None:  # half a second before: what was known after the event before
            before = (datetime.fromisoformat(at) - timedelta(milliseconds=500)).isoformat()
            total = ok(run("--json", "balance", P, "--known-at", before)).json()["total"]
            assert as_points(total) == as_points(previous["balance"]), (event, total)
        previous = event
    assert as_points(ok(run("--json", "balance", P)).json()["total"]) == as_points(events[-1]["balance"])


def test_known_at_cuts_the_history(run: Any, scenario: Scenario) -> None:
    full = history(run, P)["events"]
    for i, event in enumerate(full):
        at = datetime.fromisoformat(event["recorded_at"])
        assert history(run, P, "--known-at", event["recorded_at"])["events"] == [
            e for e in full if datetime.fromisoformat(e["recorded_at"]) <= at]
        if i % 4 == 1:  # the same instant in another zone, and half a second before
            cest = at.astimezone(timezone(timedelta(hours=2))).isoformat()
            assert history(run, P, "--known-at", cest)["events"] == full[: i + 1]
            before = (at - timedelta(milliseconds=500)).isoformat()
            assert history(run, P, "--known-at", before)["events"] == full[:i]
    cut = history(run, P, "--known-at", full[3]["recorded_at"])
    assert as_points(cut["events"][-1]["balance"]) == scenario.expected[3]["balance"]


def test_history_before_p_was_registered_and_of_unknown_professionals(run: Any, scenario: Scenario) -> None:
    first = datetime.fromisoformat(scenario.expected[0]["recorded_at"])
    # P is known now, but was not yet on the register then: an empty history that says so, as balance and
    # network members answer for that instant (not a refusal)
    instant = first - timedelta(seconds=1)
    before = run("audit", "history", P, "--known-at", instant.isoformat())
    assert (before.exit_code, before.stderr) == (0, "")
    assert before.stdout == (f"No events concerning {P} were recorded by {instant:%Y-%m-%dT%H:%M:%S}Z: "
                             "not yet on the register then.\n")
    document = history(run, P, "--known-at", instant.isoformat())
    assert (document["recorded"], document["events"]) == (False, [])
    balance = ok(run("--json", "balance", P, "--known-at", instant.isoformat())).json()
    assert (balance["recorded"], balance["total"], balance["cycle"]) == (False, "0", None)
    unknown = run("audit", "history", "NOBODY")
    assert unknown.exit_code == 1, unknown.stdout
    assert unknown.stdout == "" and "NOBODY" in unknown.stderr and "Traceback" not in unknown.stderr
    as_json = run("--json", "audit", "history", "NOBODY")
    assert as_json.exit_code == 1 and json.loads(as_json.stderr)["error"]["code"] == 1
    assert run("audit", "history", "not valid!").exit_code == 2
    assert run("audit", "history", P, "--known-at", "yesterday").exit_code == 2


def test_history_formats(run: Any, scenario: Scenario) -> None:
    data = history(run, P)
    events = data["events"]
    assert json.loads(ok(run("audit", "history", P, "--format", "json")).stdout) == data
    # csv: a header row, then one row per event with the same values
    text = ok(run("audit", "history", P, "--format", "csv")).stdout
    header = text.splitlines()[0].split(",")
    assert {"recorded_at", "type", "actor", "os_user", "balance"} <= set(header)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(events)
    for row, event in zip(rows, events):
        for column in header:
            assert row[column] == (event.get(column) if event.get(column) is not None else ""), (column, row, event)
    # table: a title, a header and a rule, then one line per event
    table = ok(run("audit", "history", P)).stdout.rstrip("\n").splitlines()
    assert P in table[0] and "balance" in table[1] and set(table[2]) <= {"-", " "}
    assert len(table) == 3 + len(events)
    for line, event in zip(table[3:], events):
        assert line.startswith(event["recorded_at"][:19]) and line.endswith(event["balance"])
    assert run("audit", "history", P, "--format", "xml").exit_code == 2


# --- verify and digest ---------------------------------------------------------------------


def small_store(run: Any, clock: Clock) -> None:
    for args in (
        ("professional", "register", "A-1", "--name", "Ada", "--group", "nurse", "--registered-on", "2024-01-01"),
        ("professional", "register", "B-1", "--name", "Bob", "--group", "nurse", "--registered-on", "2024-01-01"),
        ("reviewer", "appoint", "R-1", "--name", "Rita", "--on", "2024-01-01"),
        ("network", "register", "care", "--name", "Care", "--theme", "care", "--group", "nurse", "--founded-on", "2020-01-01"),
        ("network", "join", "care", "A-1", "--on", "2024-02-01"),
        ("network", "join", "care", "B-1", "--on", "2024-02-01"),
        ("claim", "submit", "--professional", "A-1", "--network", "care", "--kind", "answer", "--on", "2025-01-02",
         "--hours", "2", "--description", "d", "--outcome", "o", "--request-id", "k1"),
        ("claim", "endorse", "k1", "--by", "B-1", "--statement", "s"),
        ("review", "approve", "k1", "--reviewer", "R-1", "--points", "2", "--rationale", "r"),
    ):
        clock.tick()
        ok(run(*args))
    clock.tick()


def test_verify_and_digest_on_an_untouched_store(run: Any, clock: Clock, db_url: str) -> None:
    small_store(run, clock)
    n = count_events(resolve(db_url))
    result = ok(run("--json", "audit", "verify")).json()
    assert {k: result[k] for k in ("ok", "events_checked", "problems")} == {"ok": True, "events_checked": n, "problems": []}
    assert result["projections_checked"] is True
    human = ok(run("audit", "verify")).stdout
    assert f"{n} events" in human and "PROBLEM" not in human
    digest = ok(run("--json", "audit", "digest")).json()
    assert set(digest) == {"digest", "events"} and digest["events"] == n
    assert re.fullmatch(rf"sl1-{n}-[0-9a-f]{{32}}", digest["digest"])
    assert ok(run("audit", "digest")).stdout.splitlines()[0] == digest["digest"]
    assert ok(run("--json", "audit", "digest")).json() == digest  # reading changes nothing


@pytest.mark.parametrize("change", ["points", "delete", "move-last"])
def test_a_change_in_sql_is_named_by_verify_and_blocks_digest(run: Any, clock: Clock, db_url: str, change: str) -> None:
    small_store(run, clock)
    ok(run("audit", "verify"))
    raw = RawStore(db_url)
    rows = raw.rows()
    approved = next(r for r in rows if r.topic.endswith("Claim.Approved"))
    if change == "points":
        target = approved.position
        raw.update(target, "state", POINTS.sub(rb"\g<1>4", approved.state, count=1))
        assert raw.rows()[target - 1].state != approved.state
    elif change == "delete":
        target = rows[2].position
        raw.delete(target)
    else:
        target = rows[-1].position
        raw.move(target, target + 1)
    result = run("--json", "audit", "verify")
    assert result.exit_code == 1, result.stdout
    report = result.json()
    assert report["ok"] is False and named_position(report["problems"][0]) == target
    human = run("audit", "verify")
    assert human.exit_code == 1 and "PROBLEM: " in human.stdout
    assert named_position(human.stdout.split("PROBLEM: ", 1)[1]) == target
    refused = run("audit", "digest")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "no digest" in refused.stderr and named_position(refused.stderr) == target
    assert run("--json", "audit", "digest").exit_code == 1


def test_a_tampered_read_model_fails_verify(run: Any, clock: Clock, db_url: str) -> None:
    small_store(run, clock)
    assert as_points(ok(run("--json", "balance", "A-1")).json()["total"]) == Decimal(2)  # caught up
    raw = RawStore(db_url)
    generation = raw.execute("SELECT generation FROM rm_state WHERE name = 'balances'")[0][0]
    raw.execute(f"UPDATE rm_postings_g{generation} SET cents = cents + 100")
    assert as_points(ok(run("--json", "balance", "A-1")).json()["total"]) == Decimal(3)  # the lie shows…
    result = run("--json", "audit", "verify")
    assert result.exit_code == 1, result.stdout  # …and is caught
    report = result.json()
    assert report["ok"] is False and report["events_checked"] == count_events(resolve(db_url))
    assert any("balances.postings" in p for p in report["problems"]), report["problems"]
    assert ok(run("--json", "audit", "digest")).json()["events"] == report["events_checked"]  # the events are sound
