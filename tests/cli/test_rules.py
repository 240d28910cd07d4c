"""SPEC §1 rules 1–10 and the corrections through the real command line, on SQLite and on PostgreSQL.

Each test builds a valid register with CLI commands, counts the stored events, runs one
command that breaks exactly one rule, and checks the refusal: exit code 1, one line on
stderr that names the rule and the error class, nothing on stdout, and no event written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.network import Network
from domain.professional import Professional
from tests.support.harness import Clock, Result, count_events
from tests.support.snapshots import Snapshots

ACTIVITY = "2026-03-10"  # the standard claim's activity date; the clock starts on 2026-06-15
TODAY = "2026-06-15"
TOMORROW = "2026-06-16"
# The standard register below: 3 registrations and the reviewer (their ids guarded against case
# variants by the key store, SPEC §9), the network (with its guard of the lower-cased id), 2 joins
# (each noted by the network and the professional as well, rule 8), the claim (noted by the
# claimant's membership).
STANDARD_EVENTS = 3 + 1 + 1 * 2 + 2 * 3 + 2


@dataclass
class Register:
    """Professionals P-1 (claimant), P-2 (peer) and P-3 (no member); network N-1 with P-1 and
    P-2 as members since 2025-01-01; reviewer R-1; claim `claim` by P-1, submitted, not endorsed."""

    run: Any
    store: Any
    clock: Clock
    claim: str = ""

    def ok(self, *args: str) -> Result:
        """Run a command that must succeed, one second after the previous one."""
        self.clock.tick(seconds=1)
        result = self.run(*args)
        assert result.exit_code == 0, f"{args}: {result.stderr}"
        return result

    def professional(self, pid: str, registered_on: str = "2025-01-01") -> None:
        self.ok("professional", "register", pid, "--name", f"Name of {pid}", "--group", "nurse",
                "--registered-on", registered_on)

    def join(self, pid: str, on: str = "2025-01-01", network: str = "N-1") -> None:
        self.ok("network", "join", network, pid, "--on", on)

    def appoint(self, rid: str, on: str = "2025-01-01") -> None:
        self.ok("reviewer", "appoint", rid, "--name", f"Reviewer {rid}", "--on", on)

    def submit(self, by: str = "P-1", on: str = ACTIVITY, kind: str = "answer", hours: str = "3",
               network: str = "N-1") -> str:
        result = self.ok("claim", "submit", "--professional", by, "--network", network, "--kind", kind, "--on", on,
                         "--hours", hours, "--description", "Explained the dressing protocol",
                         "--outcome", "The ward uses it")
        return result.stdout.strip()

    def endorse(self, by: str = "P-2", claim: str | None = None) -> None:
        self.ok("claim", "endorse", claim or self.claim, "--by", by, "--statement", "I was there")

    def approve(self, reviewer: str = "R-1", claim: str | None = None, *extra: str) -> Result:
        return self.ok("review", "approve", claim or self.claim, "--reviewer", reviewer, "--rationale", "Good work",
                       *extra)

    def decide(self, verb: str, reviewer: str = "R-1") -> None:
        """Take the claim out of `submitted`: approve (after an endorsement), reject, return or withdraw."""
        if verb == "approve":
            self.endorse()
            self.approve(reviewer)
        elif verb == "withdraw":
            self.ok("claim", "withdraw", self.claim, "--by", "P-1")
        else:
            self.ok("review", verb, self.claim, "--reviewer", reviewer, "--reason", "Please say more")

    def refused(self, *args: str, error: str, rule: int | None) -> str:
        """Run a command that a rule refuses; return its one line of stderr."""
        before = count_events(self.store)
        self.clock.tick(seconds=1)
        result = self.run(*args)
        assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.stderr}"
        assert result.stdout == ""
        assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, repr(result.stderr)
        line = result.stderr.rstrip("\n")
        where = f"rule {rule}, " if rule is not None else ""
        assert line.startswith(f"Refused ({where}{error}): "), line
        assert count_events(self.store) == before
        return line

    def invalid(self, *args: str) -> str:
        """Run a command that the input schema refuses (exit 2); return its one line of stderr."""
        before = count_events(self.store)
        result = self.run(*args)
        assert result.exit_code == 2, f"{args}: exit {result.exit_code}: {result.stderr}"
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1, repr(result.stderr)
        assert count_events(self.store) == before
        return result.stderr.rstrip("\n")


@pytest.fixture
def reg(run: Any, store: Any, clock: Clock, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Register:
    """The standard register: built by the first test of each engine, a copy of it for the others."""
    r = Register(run, store, clock)

    def build() -> str:
        for pid in ("P-1", "P-2", "P-3"):
            r.professional(pid)
        r.ok("network", "register", "N-1", "--name", "Wound care", "--theme", "wound-care", "--group", "nurse",
             "--founded-on", "2024-01-01")
        r.join("P-1")
        r.join("P-2")
        r.appoint("R-1")
        return r.submit()

    r.claim = snapshots.register("cli-rules", db_url, clock, build, tmp_path)
    return r


def test_the_standard_register_is_valid(reg):
    assert count_events(reg.store) == STANDARD_EVENTS
    shown = reg.ok("--json", "claim", "show", reg.claim).json()
    assert (shown["professional"], shown["network"], shown["status"], shown["endorsements"]) == (
        "P-1", "N-1", "submitted", [])


# --- rule 1: everything referred to exists; ids are unique -----------------------------


def test_claim_by_an_unknown_professional_is_refused(reg):
    line = reg.refused("claim", "submit", "--professional", "P-9", "--network", "N-1", "--kind", "answer", "--on",
                       ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="UnknownProfessional", rule=1)
    assert line == "Refused (rule 1, UnknownProfessional): no professional 'P-9' is registered."


def test_claim_in_an_unknown_network_is_refused(reg):
    line = reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-9", "--kind", "answer", "--on",
                       ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="UnknownNetwork", rule=1)
    assert line == "Refused (rule 1, UnknownNetwork): no network 'N-9' is registered."


@pytest.mark.parametrize(
    "ref",
    ["00000000-0000-4000-8000-000000000000", "no-such-claim", "professional-aggregate", "network-aggregate",
     "request-id-of-a-registration"],
)
def test_endorsing_an_unknown_claim_is_refused(reg, ref):
    """A reference that is no claim: an unused UUID, an unknown request id, the id of another record,
    or the request id of a command that submitted no claim."""
    if ref == "request-id-of-a-registration":
        reg.ok("professional", "register", "P-5", "--name", "Eve", "--group", "nurse", "--request-id", "reg-5")
        ref = "reg-5"
    ref = {
        "professional-aggregate": str(Professional.create_id("P-1")),
        "network-aggregate": str(Network.create_id("N-1")),
    }.get(ref, ref)
    line = reg.refused("claim", "endorse", ref, "--by", "P-2", "--statement", "s", error="UnknownClaim", rule=1)
    assert line == f"Refused (rule 1, UnknownClaim): no claim '{ref}' was submitted."


def test_endorsement_by_an_unknown_professional_is_refused(reg):
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-9", "--statement", "s",
                       error="UnknownProfessional", rule=1)
    assert line == "Refused (rule 1, UnknownProfessional): no professional 'P-9' is registered."


@pytest.mark.parametrize("verb", ["approve", "reject", "return", "revoke"])
def test_decision_by_an_unknown_reviewer_is_refused(reg, verb):
    text = ["--rationale" if verb == "approve" else "--reason", "Because"]
    line = reg.refused("review", verb, reg.claim, "--reviewer", "R-9", *text, error="UnknownReviewer", rule=1)
    assert line == "Refused (rule 1, UnknownReviewer): no reviewer 'R-9' is appointed."


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("network", "join", "N-9", "P-1", "--on", "2025-01-01"), "UnknownNetwork"),
        (("network", "join", "N-1", "P-9", "--on", "2025-01-01"), "UnknownProfessional"),
        (("network", "leave", "N-1", "P-9", "--on", "2025-06-01"), "UnknownProfessional"),
        (("network", "close", "N-9", "--on", "2025-06-01"), "UnknownNetwork"),
        (("professional", "deregister", "P-9", "--on", "2025-06-01"), "UnknownProfessional"),
        (("reviewer", "retire", "R-9", "--on", "2025-06-01"), "UnknownReviewer"),
        (("claim", "withdraw", "no-such-claim", "--by", "P-1"), "UnknownClaim"),
        (("claim", "amend", "no-such-claim", "--by", "P-1", "--hours", "2"), "UnknownClaim"),
    ],
    ids=lambda v: "-".join(v[:2]) if isinstance(v, tuple) else v,
)
def test_command_on_an_unknown_record_is_refused(reg, args, error):
    reg.refused(*args, error=error, rule=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("professional", "register", "P-1", "--name", "Other", "--group", "nurse"),
         "a professional 'P-1' is registered already"),
        (("reviewer", "appoint", "R-1", "--name", "Other"), "a reviewer 'R-1' is appointed already"),
        (("network", "register", "N-1", "--name", "Other", "--theme", "t", "--group", "nurse"),
         "a network 'N-1' is registered already"),
    ],
    ids=["professional", "reviewer", "network"],
)
def test_registering_a_taken_id_is_refused(reg, args, message):
    line = reg.refused(*args, error="AlreadyRegistered", rule=1)
    assert line == f"Refused (rule 1, AlreadyRegistered): {message}."


def test_a_reviewer_may_have_the_id_of_a_professional(reg):
    reg.appoint("P-1")
    assert count_events(reg.store) == STANDARD_EVENTS + 1  # the appointment (its id guarded by the key store)


# --- rule 2: activity date, registration, membership, open network --------------------


def test_claim_for_tomorrow_is_refused(reg):
    line = reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "answer",
                       "--on", TOMORROW, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="ActivityDateInFuture", rule=2)
    assert line == "Refused (rule 2, ActivityDateInFuture): the activity date 2026-06-16 is after today, 2026-06-15."


def test_claim_for_today_is_accepted(reg):
    reg.submit(on=TODAY)
    assert count_events(reg.store) == STANDARD_EVENTS + 2  # the claim, and its note on the membership


def test_claim_before_the_claimants_registration_is_refused(reg):
    reg.professional("P-4", registered_on="2026-03-11")
    reg.join("P-4", on="2026-03-11")
    line = reg.refused("claim", "submit", "--professional", "P-4", "--network", "N-1", "--kind", "answer",
                       "--on", ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="ActivityBeforeRegistration", rule=2)
    assert line.endswith(": the activity date 2026-03-10 is before P-4 registered on 2026-03-11.")


def test_claim_by_a_non_member_is_refused(reg):
    line = reg.refused("claim", "submit", "--professional", "P-3", "--network", "N-1", "--kind", "answer",
                       "--on", ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="ClaimantMustBeNetworkMember", rule=2)
    assert line == "Refused (rule 2, ClaimantMustBeNetworkMember): P-3 was not a member of N-1 on 2026-03-10."


def test_claim_for_the_day_the_claimant_left_is_refused_and_the_day_before_accepted(reg):
    reg.ok("network", "leave", "N-1", "P-1", "--on", "2026-04-01")
    reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "answer",
                "--on", "2026-04-01", "--hours", "1", "--description", "d", "--outcome", "o",
                error="ClaimantMustBeNetworkMember", rule=2)
    reg.submit(on="2026-03-31")


def test_claim_in_a_network_closed_on_the_activity_date_is_refused(reg):
    reg.ok("claim", "withdraw", reg.claim, "--by", "P-1")  # else rule 8 refuses the closing
    reg.ok("network", "close", "N-1", "--on", ACTIVITY)
    line = reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "answer",
                       "--on", ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="NetworkMustBeOpen", rule=2)
    assert line == "Refused (rule 2, NetworkMustBeOpen): network N-1 closed on 2026-03-10, on or before 2026-03-10."
    reg.submit(on="2026-03-09")


def test_claim_before_the_network_was_founded_is_refused(reg):
    reg.ok("network", "register", "N-2", "--name", "Young", "--theme", "t", "--group", "nurse",
           "--founded-on", "2026-04-01")
    reg.join("P-1", on="2026-04-01", network="N-2")
    line = reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-2", "--kind", "answer",
                       "--on", ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="NetworkMustBeOpen", rule=2)
    assert line.endswith(": network N-2 was founded only on 2026-04-01, after 2026-03-10.")


def test_claim_by_a_deregistered_professional_is_refused(reg):
    reg.ok("professional", "deregister", "P-1", "--on", "2026-06-14")
    line = reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "answer",
                       "--on", ACTIVITY, "--hours", "1", "--description", "d", "--outcome", "o",
                       error="ClaimantDeregistered", rule=2)
    assert line == "Refused (rule 2, ClaimantDeregistered): P-1 was deregistered on 2026-06-14."


def test_claim_on_the_deregistration_day_is_accepted(reg):
    reg.ok("professional", "deregister", "P-1", "--on", TODAY)
    reg.submit(on=TODAY)


# --- rule 3: endorsements -------------------------------------------------------------


def test_endorsement_by_the_claimant_is_refused(reg):
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-1", "--statement", "Me!",
                       error="EndorserMustNotBeClaimant", rule=3)
    assert line == "Refused (rule 3, EndorserMustNotBeClaimant): P-1 cannot endorse their own claim."


def test_endorsement_by_a_non_member_is_refused(reg):
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-3", "--statement", "s",
                       error="EndorserMustBeNetworkMember", rule=3)
    assert line == "Refused (rule 3, EndorserMustBeNetworkMember): P-3 was not a member of N-1 on 2026-03-10."


def test_endorsement_by_a_member_who_joined_after_the_activity_is_refused(reg):
    reg.join("P-3", on="2026-03-11")
    reg.refused("claim", "endorse", reg.claim, "--by", "P-3", "--statement", "s",
                error="EndorserMustBeNetworkMember", rule=3)


def test_second_endorsement_by_the_same_peer_is_refused(reg):
    reg.endorse("P-2")
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-2", "--statement", "Again",
                       error="AlreadyEndorsed", rule=3)
    assert line == f"Refused (rule 3, AlreadyEndorsed): P-2 endorsed claim {reg.claim} already."
    assert len(reg.ok("--json", "claim", "show", reg.claim).json()["endorsements"]) == 1


@pytest.mark.parametrize("verb", ["withdraw", "approve", "reject", "return"])
def test_endorsement_of_a_claim_that_is_not_submitted_is_refused(reg, verb):
    reg.join("P-3")
    reg.decide(verb)
    status = {"withdraw": "withdrawn", "approve": "approved", "reject": "rejected", "return": "returned"}[verb]
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-3", "--statement", "s",
                       error="ClaimNotOpenForEndorsement", rule=3)
    assert line == (f"Refused (rule 3, ClaimNotOpenForEndorsement): claim {reg.claim} is {status}; "
                    "only a submitted claim is endorsed.")


def test_endorsement_by_a_deregistered_professional_is_refused(reg):
    reg.ok("professional", "deregister", "P-2", "--on", "2026-06-14")
    line = reg.refused("claim", "endorse", reg.claim, "--by", "P-2", "--statement", "s",
                       error="EndorserMustBeRegistered", rule=3)
    assert line.endswith(": P-2 is not a registered professional on 2026-06-15.")


# --- rule 4: who decides, on what -----------------------------------------------------


@pytest.mark.parametrize("verb", ["approve", "reject", "return"])
def test_decision_by_a_reviewer_retired_today_is_refused(reg, verb):
    reg.endorse()
    reg.ok("reviewer", "retire", "R-1", "--on", TODAY)
    text = ["--rationale" if verb == "approve" else "--reason", "Because"]
    line = reg.refused("review", verb, reg.claim, "--reviewer", "R-1", *text, error="ReviewerNotActive", rule=4)
    assert line == "Refused (rule 4, ReviewerNotActive): reviewer R-1 retired on 2026-06-15."


def test_decision_by_a_reviewer_not_yet_appointed_is_refused(reg):
    reg.endorse()
    reg.appoint("R-2", on=TOMORROW)
    line = reg.refused("review", "approve", reg.claim, "--reviewer", "R-2", "--rationale", "Good",
                       error="ReviewerNotActive", rule=4)
    assert line == "Refused (rule 4, ReviewerNotActive): reviewer R-2 is appointed only from 2026-06-16."


@pytest.mark.parametrize("verb", ["approve", "reject", "return"])
def test_decision_by_a_reviewer_who_is_the_claimant_is_refused(reg, verb):
    reg.endorse()
    reg.appoint("P-1")
    text = ["--rationale" if verb == "approve" else "--reason", "Because"]
    line = reg.refused("review", verb, reg.claim, "--reviewer", "P-1", *text,
                       error="ReviewerMustNotBeClaimant", rule=4)
    assert line == f"Refused (rule 4, ReviewerMustNotBeClaimant): reviewer P-1 is the claimant of claim {reg.claim}."


def test_decision_by_a_reviewer_who_endorsed_the_claim_is_refused(reg):
    reg.endorse("P-2")
    reg.appoint("P-2")
    line = reg.refused("review", "approve", reg.claim, "--reviewer", "P-2", "--rationale", "Good",
                       error="ReviewerMustNotHaveEndorsed", rule=4)
    assert line == (f"Refused (rule 4, ReviewerMustNotHaveEndorsed): reviewer P-2 endorsed claim {reg.claim} "
                    "and cannot decide on it.")


@pytest.mark.parametrize(
    ("earlier", "verb"),
    [("reject", "approve"), ("approve", "reject"), ("return", "return"), ("withdraw", "approve")],
)
def test_decision_on_a_claim_that_is_not_submitted_is_refused(reg, earlier, verb):
    reg.decide(earlier)
    text = ["--rationale" if verb == "approve" else "--reason", "Because"]
    line = reg.refused("review", verb, reg.claim, "--reviewer", "R-1", *text,
                       error="ClaimNotAwaitingDecision", rule=4)
    assert line.endswith("only a submitted claim is decided on.")


# --- rule 5: what an approval and the other decisions need ----------------------------


def test_approval_without_an_endorsement_is_refused(reg):
    line = reg.refused("review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", "Good",
                       error="NotEnoughEndorsements", rule=5)
    assert line == (f"Refused (rule 5, NotEnoughEndorsements): claim {reg.claim} has 0 endorsements; "
                    "approval needs at least 1.")


def test_approval_with_fewer_endorsements_than_the_policy_needs_is_refused(reg):
    reg.ok("policy", "adopt", "--effective-from", "2026-01-01", "--min-endorsements", "2")
    reg.endorse("P-2")
    line = reg.refused("review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", "Good",
                       error="NotEnoughEndorsements", rule=5)
    assert line.endswith(f"claim {reg.claim} has 1 endorsement; approval needs at least 2.")


def test_policy_needing_more_endorsements_applies_only_from_its_date(reg):
    reg.ok("policy", "adopt", "--effective-from", "2026-03-11", "--min-endorsements", "2")
    reg.endorse("P-2")
    assert reg.approve().stdout == f"Claim {reg.claim} approved: 3 points.\n"


@pytest.mark.parametrize("points", ["4.01", "5", "0", "-1"])
def test_approval_with_points_outside_zero_to_the_cap_is_refused(reg, points):
    reg.endorse()
    line = reg.refused("review", "approve", reg.claim, "--reviewer", "R-1", "--points", points, "--rationale", "Good",
                       error="PointsOutOfRange", rule=5)
    assert line == ((f"Refused (rule 5, PointsOutOfRange): {points} points is more than 4, "
                     "the cap for one claim of kind answer.") if Decimal(points) > 4 else
                    f"Refused (rule 5, PointsOutOfRange): an approval awards more than 0 points, not {points}.")


def test_approval_with_points_equal_to_the_cap_is_accepted(reg):
    reg.endorse()
    result = reg.approve("R-1", None, "--points", "4.00")
    assert result.stdout == f"Claim {reg.claim} approved: 4 points.\n"
    assert reg.ok("--json", "balance", "P-1").json()["total"] == "4"


@pytest.mark.parametrize(("hours", "points"), [("2.5", "2.5"), ("12", "4")])
def test_approval_without_points_awards_hours_times_rate_capped(reg, hours, points):
    claim = reg.submit(hours=hours)
    reg.endorse(claim=claim)
    assert reg.approve("R-1", claim).stdout == f"Claim {claim} approved: {points} points.\n"


@pytest.mark.parametrize("rationale", ["", "   "], ids=["empty", "blank"])
def test_approval_without_a_rationale_is_invalid_input(reg, rationale):
    reg.endorse()
    line = reg.invalid("review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", rationale)
    assert line == "Invalid input: --rationale must not be empty."


@pytest.mark.parametrize("verb", ["reject", "return", "revoke"])
@pytest.mark.parametrize("reason", ["", " \t "], ids=["empty", "blank"])
def test_decision_without_a_reason_is_invalid_input(reg, verb, reason):
    if verb == "revoke":
        reg.decide("approve")
    line = reg.invalid("review", verb, reg.claim, "--reviewer", "R-1", "--reason", reason)
    assert line == "Invalid input: --reason must not be empty."


# --- rule 6: only the claimant withdraws or amends, while submitted or returned -------


def test_withdrawal_by_someone_else_is_refused(reg):
    line = reg.refused("claim", "withdraw", reg.claim, "--by", "P-2", error="OnlyClaimantMayChangeClaim", rule=6)
    assert line == f"Refused (rule 6, OnlyClaimantMayChangeClaim): only P-1, the claimant, may withdraw claim {reg.claim}."


def test_amendment_by_someone_else_is_refused(reg):
    line = reg.refused("claim", "amend", reg.claim, "--by", "P-2", "--description", "Mine now",
                       error="OnlyClaimantMayChangeClaim", rule=6)
    assert line == f"Refused (rule 6, OnlyClaimantMayChangeClaim): only P-1, the claimant, may amend claim {reg.claim}."


@pytest.mark.parametrize("earlier", ["approve", "reject", "withdraw"])
def test_withdrawal_of_a_claim_that_is_not_open_is_refused(reg, earlier):
    reg.decide(earlier)
    status = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[earlier]
    line = reg.refused("claim", "withdraw", reg.claim, "--by", "P-1", error="ClaimNotChangeable", rule=6)
    assert line == (f"Refused (rule 6, ClaimNotChangeable): claim {reg.claim} is {status}; "
                    "the claimant may withdraw it only while submitted or returned.")


def test_amendment_of_an_approved_claim_is_refused(reg):
    reg.decide("approve")
    reg.refused("claim", "amend", reg.claim, "--by", "P-1", "--hours", "2", error="ClaimNotChangeable", rule=6)


def test_amendment_to_a_future_date_is_refused_by_rule_2(reg):
    reg.refused("claim", "amend", reg.claim, "--by", "P-1", "--on", TOMORROW, error="ActivityDateInFuture", rule=2)


def test_amendment_of_the_date_clears_endorsements_and_of_the_text_keeps_them(reg):
    reg.endorse()
    assert json.loads(reg.ok("--json", "claim", "amend", reg.claim, "--by", "P-1", "--outcome", "More").stdout)[
        "endorsements"] == 1
    assert json.loads(reg.ok("--json", "claim", "amend", reg.claim, "--by", "P-1", "--on", "2026-03-09").stdout)[
        "endorsements"] == 0


# --- rule 7: revocation ---------------------------------------------------------------


@pytest.mark.parametrize("earlier", [None, "reject", "return"])
def test_revocation_of_a_claim_that_is_not_approved_is_refused(reg, earlier):
    if earlier:
        reg.decide(earlier)
    line = reg.refused("review", "revoke", reg.claim, "--reviewer", "R-1", "--reason", "Fraud",
                       error="OnlyApprovedClaimCanBeRevoked", rule=7)
    status = {None: "submitted", "reject": "rejected", "return": "returned"}[earlier]
    assert line == (f"Refused (rule 7, OnlyApprovedClaimCanBeRevoked): claim {reg.claim} is {status}; "
                    "only an approved claim is revoked.")


def test_revocation_by_a_reviewer_who_is_the_claimant_is_refused(reg):
    reg.decide("approve")
    reg.appoint("P-1")
    line = reg.refused("review", "revoke", reg.claim, "--reviewer", "P-1", "--reason", "Mine",
                       error="RevokerMustNotBeClaimant", rule=7)
    assert line == f"Refused (rule 7, RevokerMustNotBeClaimant): reviewer P-1 is the claimant of claim {reg.claim}."


def test_revocation_debits_the_awarded_points(reg):
    reg.decide("approve")
    assert reg.ok("--json", "balance", "P-1").json()["total"] == "3"
    assert reg.ok("review", "revoke", reg.claim, "--reviewer", "R-1", "--reason", "Fraud").stdout == (
        f"Claim {reg.claim} revoked: -3 points.\n")
    assert reg.ok("--json", "balance", "P-1").json()["total"] == "0"


# --- the registrations' own rules (no rule number) ------------------------------------


@pytest.mark.parametrize(
    ("setup", "args", "error"),
    [
        ((), ("network", "join", "N-1", "P-1", "--on", "2025-06-01"), "AlreadyMember"),
        ((), ("network", "leave", "N-1", "P-3", "--on", "2025-06-01"), "NotAMember"),
        ((), ("network", "leave", "N-1", "P-1", "--on", "2024-12-31"), "DateOutOfOrder"),
        ((("professional", "deregister", "P-3", "--on", "2026-01-01"),),
         ("professional", "deregister", "P-3", "--on", "2026-02-01"), "AlreadyDeregistered"),
        ((("reviewer", "retire", "R-1", "--on", "2026-01-01"),),
         ("reviewer", "retire", "R-1", "--on", "2026-02-01"), "AlreadyRetired"),
        ((("network", "close", "N-1", "--on", "2026-04-01"),),
         ("network", "close", "N-1", "--on", "2026-05-01"), "NetworkAlreadyClosed"),
        ((("policy", "adopt", "--effective-from", "2026-01-01"),),
         ("policy", "adopt", "--effective-from", "2026-01-01", "--min-endorsements", "3"), "PolicyNotLater"),
    ],
    ids=["AlreadyMember", "NotAMember", "DateOutOfOrder", "AlreadyDeregistered", "AlreadyRetired",
         "NetworkAlreadyClosed", "PolicyNotLater"],
)
def test_registration_rule_is_refused_without_a_rule_number(reg, setup, args, error):
    for command in setup:
        reg.ok(*command)
    line = reg.refused(*args, error=error, rule=None)
    assert "rule" not in line.split(":")[0]


def test_joining_a_closed_network_is_refused(reg):
    reg.ok("network", "close", "N-1", "--on", "2026-04-01")
    reg.refused("network", "join", "N-1", "P-3", "--on", "2026-04-01", error="NetworkMustBeOpen", rule=2)


# --- --json: the refusal as a JSON object on stderr -----------------------------------


def _break_rule(reg: Register, rule: int) -> tuple[str, ...]:
    """Prepare the register and return a command that breaks `rule`."""
    if rule == 1:
        return ("claim", "endorse", reg.claim, "--by", "P-9", "--statement", "s")
    if rule == 2:
        return ("claim", "submit", "--professional", "P-3", "--network", "N-1", "--kind", "answer", "--on", ACTIVITY,
                "--hours", "1", "--description", "d", "--outcome", "o")
    if rule == 3:
        return ("claim", "endorse", reg.claim, "--by", "P-3", "--statement", "s")
    if rule == 4:
        reg.endorse()
        reg.appoint("P-1")
        return ("review", "approve", reg.claim, "--reviewer", "P-1", "--rationale", "Good")
    if rule == 5:
        return ("review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", "Good")
    if rule == 6:
        return ("claim", "withdraw", reg.claim, "--by", "P-2")
    return ("review", "revoke", reg.claim, "--reviewer", "R-1", "--reason", "Fraud")


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (1, "UnknownProfessional"),
        (2, "ClaimantMustBeNetworkMember"),
        (3, "EndorserMustBeNetworkMember"),
        (4, "ReviewerMustNotBeClaimant"),
        (5, "NotEnoughEndorsements"),
        (6, "OnlyClaimantMayChangeClaim"),
        (7, "OnlyApprovedClaimCanBeRevoked"),
    ],
)
def test_refusal_with_json_is_a_json_error_object(reg, rule, error):
    args = _break_rule(reg, rule)
    before = count_events(reg.store)
    result = reg.run("--json", *args)
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    document = json.loads(result.stderr)
    assert set(document) == {"error"}
    body = document["error"]
    assert body["code"] == 1
    assert body["rule"] == error
    assert body["message"].startswith(f"Refused (rule {rule}, {error}): ")
    assert count_events(reg.store) == before


def test_invalid_input_with_json_is_a_json_error_object_with_code_2(reg):
    reg.endorse()
    before = count_events(reg.store)
    result = reg.run("--json", "review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", " ")
    assert result.exit_code == 2 and result.stdout == ""
    body = json.loads(result.stderr)["error"]
    assert body["code"] == 2 and body["message"] == "Invalid input: --rationale must not be empty."
    assert "rule" not in body
    assert count_events(reg.store) == before


# --- rule 8: no back-dated contradiction -------------------------------------------------


def approved(reg: Register) -> None:
    reg.endorse()
    reg.approve()


def test_a_back_dated_leave_of_the_claimant_is_refused_naming_the_claim(reg):
    approved(reg)
    line = reg.refused("network", "leave", "N-1", "P-1", "--on", "2026-03-01", error="LeaveContradictsClaims", rule=8)
    assert reg.claim in line and "(approved, 2026-03-10)" in line
    assert reg.ok("--json", "network", "members", "N-1", "--at", ACTIVITY).json()["members"] == ["P-1", "P-2"]
    assert reg.ok("--json", "balance", "P-1", "--at", ACTIVITY).json()["by_network"] == {"N-1": "3"}


def test_a_back_dated_leave_of_an_endorser_is_refused(reg):
    reg.endorse()
    line = reg.refused("network", "leave", "N-1", "P-2", "--on", ACTIVITY, error="LeaveContradictsClaims", rule=8)
    assert reg.claim in line


def test_a_leave_after_the_activity_is_accepted(reg):
    approved(reg)
    reg.ok("network", "leave", "N-1", "P-1", "--on", "2026-03-11")
    assert reg.ok("--json", "network", "members", "N-1", "--at", ACTIVITY).json()["members"] == ["P-1", "P-2"]


def test_a_leave_is_accepted_once_the_claim_is_revoked(reg):
    approved(reg)
    reg.ok("review", "revoke", reg.claim, "--reviewer", "R-1", "--reason", "Counted twice")
    reg.ok("network", "leave", "N-1", "P-1", "--on", "2026-03-01")


def test_a_back_dated_close_is_refused(reg):
    line = reg.refused("network", "close", "N-1", "--on", ACTIVITY, error="CloseContradictsClaims", rule=8)
    assert line.count(reg.claim) == 1


def test_a_back_dated_deregistration_is_refused_and_one_on_the_activity_date_accepted(reg):
    reg.endorse()
    for pid in ("P-1", "P-2"):
        reg.refused("professional", "deregister", pid, "--on", "2026-03-09", error="DeregistrationContradictsClaims",
                    rule=8)
    reg.ok("professional", "deregister", "P-2", "--on", ACTIVITY)


def test_a_retirement_dated_on_or_before_a_decision_is_refused(reg):
    approved(reg)
    for on in (TODAY, "2025-06-01"):
        reg.refused("reviewer", "retire", "R-1", "--on", on, error="RetirementContradictsDecisions", rule=8)
    reg.ok("reviewer", "retire", "R-1", "--on", TOMORROW)


def test_a_join_before_the_registration_is_refused(reg):
    reg.professional("P-6", registered_on="2026-06-01")
    reg.refused("network", "join", "N-1", "P-6", "--on", "2025-01-01", error="JoinBeforeRegistration", rule=8)


def test_a_join_before_the_founding_is_refused(reg):
    reg.refused("network", "join", "N-1", "P-3", "--on", "2023-12-31", error="JoinBeforeFounding", rule=8)


# --- deregistration ends memberships -----------------------------------------------------


def test_deregistration_ends_every_membership_the_day_after(reg):
    reg.ok("professional", "deregister", "P-2", "--on", "2026-04-01")
    members = reg.ok("--json", "network", "members", "N-1", "--at", "2026-04-02").json()["members"]
    assert members == ["P-1"]
    assert reg.ok("--json", "network", "members", "N-1", "--at", "2026-04-01").json()["members"] == ["P-1", "P-2"]
    counts = {n["id"]: n["members"] for n in reg.ok("--json", "network", "map", "--at", "2026-04-02").json()["networks"]}
    assert counts == {"N-1": 1}


def test_reinstating_brings_the_memberships_back(reg):
    reg.ok("professional", "deregister", "P-2", "--on", "2026-04-01")
    shown = reg.ok("professional", "reinstate", "P-2").stdout
    assert shown == "Professional P-2 reinstated. Memberships restored: N-1.\n"
    assert reg.ok("--json", "network", "members", "N-1", "--at", "2026-05-01").json()["members"] == ["P-1", "P-2"]
    reg.endorse()  # registered and a member again


# --- rule 9: separation of duties is historical --------------------------------------------


def test_a_reviewer_whose_endorsement_was_cleared_still_cannot_decide(reg):
    reg.appoint("P-2")  # the peer is also a reviewer
    reg.endorse("P-2")
    for kind in ("question", "answer"):
        reg.ok("claim", "amend", reg.claim, "--by", "P-1", "--kind", kind)
    reg.join("P-3")
    reg.endorse("P-3")
    for verb in ("approve", "reject", "return"):
        args = ("--rationale", "ok") if verb == "approve" else ("--reason", "no")
        reg.refused("review", verb, reg.claim, "--reviewer", "P-2", *args, error="ReviewerEndorsedBefore", rule=9)


# --- corrections ----------------------------------------------------------------------------


def test_a_policy_version_not_yet_in_force_is_cancelled_and_no_longer_blocks_adoption(reg):
    reg.ok("policy", "adopt", "--effective-from", "2062-01-01", "--min-endorsements", "3")
    reg.refused("policy", "adopt", "--effective-from", "2030-01-01", error="PolicyNotLater", rule=None)
    reg.ok("policy", "cancel", "--effective-from", "2062-01-01")
    reg.ok("policy", "adopt", "--effective-from", "2030-01-01", "--norm", "100")
    shown = reg.ok("--json", "policy", "show", "--at", "2063-01-01").json()
    assert (shown["effective_from"], shown["min_endorsements"], shown["norm"]) == ("2030-01-01", 1, "100")


def test_a_policy_version_in_force_is_not_cancelled(reg):
    reg.ok("policy", "adopt", "--effective-from", "2026-01-01", "--min-endorsements", "2")
    reg.refused("policy", "cancel", "--effective-from", "2026-01-01", error="PolicyVersionInForce", rule=None)


def test_a_wrong_retirement_is_undone_by_reinstating(reg):
    reg.ok("reviewer", "retire", "R-1", "--on", "2026-01-01")
    reg.endorse()
    reg.refused("review", "approve", reg.claim, "--reviewer", "R-1", "--rationale", "ok", error="ReviewerNotActive",
                rule=4)
    reg.ok("reviewer", "reinstate", "R-1")
    reg.approve()


def test_a_wrong_close_is_undone_by_reopening(reg):
    reg.ok("network", "close", "N-1", "--on", "2026-04-01")
    reg.refused("claim", "submit", "--professional", "P-1", "--network", "N-1", "--kind", "answer", "--on",
                "2026-05-01", "--hours", "1", "--description", "d", "--outcome", "o", error="NetworkMustBeOpen", rule=2)
    reg.ok("network", "reopen", "N-1")
    reg.submit(on="2026-05-01")


def test_a_wrong_leave_is_cancelled(reg):
    reg.ok("network", "leave", "N-1", "P-2", "--on", "2026-04-01")
    assert reg.ok("--json", "network", "members", "N-1", "--at", "2026-05-01").json()["members"] == ["P-1"]
    out = reg.ok("network", "leave", "N-1", "P-2", "--cancel").stdout
    assert out == "The leave of N-1 by P-2 on 2026-04-01 is cancelled.\n"
    assert reg.ok("--json", "network", "members", "N-1", "--at", "2026-05-01").json()["members"] == ["P-1", "P-2"]
    # as the register knew it before the correction
    before = reg.ok("--json", "audit", "history", "P-2").json()["events"][-2]["recorded_at"]
    assert reg.ok("--json", "network", "members", "N-1", "--at", "2026-05-01", "--known-at", before).json()[
        "members"] == ["P-1"]


def test_cancelling_a_leave_that_was_never_recorded_is_refused(reg):
    reg.refused("network", "leave", "N-1", "P-2", "--cancel", error="NoLeaveToCancel", rule=None)


def test_a_leave_needs_a_date_or_cancel_but_not_both(reg):
    assert "--on" in reg.invalid("network", "leave", "N-1", "P-2")
    assert "not both" in reg.invalid("network", "leave", "N-1", "P-2", "--on", "2026-04-01", "--cancel")


@pytest.mark.parametrize("command", [("professional", "reinstate", "P-1"), ("reviewer", "reinstate", "R-1"),
                                     ("network", "reopen", "N-1")])
def test_a_correction_of_a_fact_never_recorded_is_refused(reg, command):
    error = {"professional": "NotDeregistered", "reviewer": "NotRetired", "network": "NetworkNotClosed"}[command[0]]
    reg.refused(*command, error=error, rule=None)


def test_corrections_show_in_audit_history(reg):
    reg.ok("professional", "deregister", "P-2", "--on", "2026-04-01")
    reg.ok("professional", "reinstate", "P-2")
    reg.ok("network", "leave", "N-1", "P-2", "--on", "2026-04-01")
    reg.ok("network", "leave", "N-1", "P-2", "--cancel")
    types = [e["type"] for e in reg.ok("--json", "audit", "history", "P-2").json()["events"]]
    assert types[-6:] == ["ProfessionalDeregistered", "MembershipEnded", "ProfessionalReinstated",
                          "MembershipRestored", "MembershipLeft", "MembershipLeaveCancelled"]
    assert "NetworkNoted" not in "".join(types)  # bookkeeping is no fact of its own


def test_a_deregistration_dated_before_the_join_leaves_no_membership_and_no_traceback(reg):
    # Found by the stateful test on PostgreSQL: the membership had no interval left, and
    # `network leave --cancel` crashed on it.
    reg.join("P-3", on="2026-03-01")
    reg.ok("professional", "deregister", "P-3", "--on", "2026-01-01")
    assert "P-3" not in reg.ok("--json", "network", "members", "N-1", "--at", "2026-04-01").json()["members"]
    line = reg.refused("network", "leave", "N-1", "P-3", "--cancel", error="NoLeaveToCancel", rule=None)
    assert "reinstate the professional" in line
    reg.refused("network", "leave", "N-1", "P-3", "--on", "2026-05-01", error="NotAMember", rule=None)
    reg.refused("network", "join", "N-1", "P-3", "--on", "2025-06-01", error="ProfessionalDeregistered", rule=None)
    reg.ok("professional", "reinstate", "P-3")
    assert "P-3" in reg.ok("--json", "network", "members", "N-1", "--at", "2026-04-01").json()["members"]


def test_a_deregistered_professional_joins_nothing_even_on_an_earlier_date(reg):
    reg.ok("professional", "deregister", "P-3", "--on", "2026-01-01")
    reg.refused("network", "join", "N-1", "P-3", "--on", "2025-06-01", error="ProfessionalDeregistered", rule=None)
    assert "P-3" not in reg.ok("--json", "network", "members", "N-1", "--at", "2026-06-01").json()["members"]
