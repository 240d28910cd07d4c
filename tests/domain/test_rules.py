"""The named rules of SPEC §1, checked on the aggregates themselves (no ledger, no database).

Every refusal test breaks exactly one rule and asserts three things: the specific error
class is raised (not merely its rule's base class), it carries the rule number, and the
aggregate took no new event and kept its state. The boundary tests pin the dates on
which a rule starts and stops applying.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.base import acting_as, recording_at
from domain.claim import Claim
from domain.errors import (
    ActivityBeforeRegistration,
    ClaimantNoLongerEligible,
    CloseContradictsClaims,
    DeregistrationContradictsClaims,
    JoinBeforeFounding,
    JoinBeforeRegistration,
    LeaveContradictsClaims,
    NetworkNotClosed,
    NoLeaveToCancel,
    NoSuchPolicyVersion,
    NotDeregistered,
    NotEnoughValidEndorsements,
    NotRetired,
    PolicyVersionInForce,
    ProfessionalDeregistered,
    RetirementContradictsDecisions,
    ReviewerEndorsedBefore,
    ActivityDateInFuture,
    AlreadyDeregistered,
    AlreadyEndorsed,
    AlreadyMember,
    AlreadyRetired,
    ClaimantDeregistered,
    ClaimantMustBeNetworkMember,
    ClaimNotAwaitingDecision,
    ClaimNotChangeable,
    ClaimNotOpenForEndorsement,
    DateOutOfOrder,
    DomainError,
    EndorserMustBeNetworkMember,
    EndorserMustBeRegistered,
    EndorserMustNotBeClaimant,
    NetworkAlreadyClosed,
    NetworkMustBeOpen,
    NotAMember,
    NotEnoughEndorsements,
    OnlyApprovedClaimCanBeRevoked,
    OnlyClaimantMayChangeClaim,
    PointsOutOfRange,
    PolicyNotLater,
    RationaleRequired,
    ReasonRequired,
    ReviewerMustNotBeClaimant,
    ReviewerMustNotHaveEndorsed,
    ReviewerNotActive,
    RevokerMustNotBeClaimant,
)
from domain.membership import Membership
from domain.network import Network
from domain.policy import DEFAULT_TERMS, Policy, PolicyTerms
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import APPROVED, REJECTED, RETURNED, REVOKED, SUBMITTED, WITHDRAWN

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
ACTIVITY = date(2026, 3, 10)
OS_USER = "tester"


@pytest.fixture(autouse=True)
def acting() -> Iterator[None]:
    """Events record who acted: the application sets it once per command, these tests once per test."""
    with acting_as("tester", OS_USER):
        yield


DAY = timedelta(days=1)


# --- building the register ---------------------------------------------------------


def drained(aggregate: Any) -> Any:
    """The aggregate with its creation events taken away, as after saving it."""
    aggregate.collect_events()
    return aggregate


def make_professional(pid: str, registered_on: date = date(2025, 1, 1)) -> Professional:
    with recording_at(NOW):
        return drained(
            Professional(
                professional_id=pid, name=f"Name of {pid}", group="nurse", registered_on=registered_on,
            )
        )


def make_network(nid: str = "N-1", founded_on: date = date(2024, 1, 1)) -> Network:
    with recording_at(NOW):
        return drained(
            Network(
                network_id=nid, name="Wound care", themes=["wound-care"], groups=["nurse"],
                founded_on=founded_on,
            )
        )


def make_membership(network: Network, professional: Professional, on: date = date(2025, 1, 1)) -> Membership:
    with recording_at(NOW):
        return drained(
            Membership(
                network_id=network.network_id, professional_id=professional.professional_id, on=on,
            )
        )


def make_reviewer(rid: str = "R-1", appointed_on: date = date(2025, 1, 1)) -> Reviewer:
    with recording_at(NOW):
        return drained(Reviewer(reviewer_id=rid, name=f"Name of {rid}", appointed_on=appointed_on))


def submit(
    claimant: Professional,
    network: Network,
    membership: Membership | None,
    *,
    activity_date: date = ACTIVITY,
    today: date = TODAY,
    kind: str = "answer",
    hours: Decimal = Decimal(3),
) -> Claim:
    with recording_at(NOW):
        return Claim.submit(
            claimant=claimant, network=network, membership=membership, kind=kind, activity_date=activity_date,
            hours=hours, description="Explained the new dressing protocol", outcome="The team uses it",
            practice_change=None, today=today,
        )


@dataclass
class Register:
    """Claimant P-1 and peer P-2, members of N-1 since 2025-01-01; outsider P-3; reviewer R-1."""

    claimant: Professional
    peer: Professional
    outsider: Professional
    network: Network
    claimant_membership: Membership
    peer_membership: Membership
    reviewer: Reviewer

    def claim(self, **options: Any) -> Claim:
        return drained(submit(self.claimant, self.network, self.claimant_membership, **options))

    def endorse(self, claim: Claim, by: Professional | None = None, membership: Membership | None = None) -> None:
        by = by or self.peer
        membership = membership or (self.peer_membership if by is self.peer else None)
        with recording_at(NOW):
            claim.endorse(endorser=by, membership=membership, statement="I was there", today=TODAY)

    def endorsed_claim(self, **options: Any) -> Claim:
        claim = self.claim(**options)
        self.endorse(claim)
        claim.collect_events()
        return claim

    def approved_claim(self, points: Decimal | None = None, **options: Any) -> Claim:
        claim = self.endorsed_claim(**options)
        with recording_at(NOW):
            claim.approve(reviewer=self.reviewer, policy=DEFAULT_TERMS, points_awarded=points, rationale="Well done",
                          **standing(claim), today=TODAY)
        claim.collect_events()
        return claim


@pytest.fixture
def reg() -> Register:
    network = make_network()
    claimant = make_professional("P-1")
    peer = make_professional("P-2")
    return Register(
        claimant=claimant,
        peer=peer,
        outsider=make_professional("P-3"),
        network=network,
        claimant_membership=make_membership(network, claimant),
        peer_membership=make_membership(network, peer),
        reviewer=make_reviewer(),
    )


def standing(claim: Claim) -> dict[str, Any]:
    """The register's facts an approval re-checks (rule 10), all in good standing: the claimant and
    every endorser registered and a member since 2025-01-01 of a network founded in 2024."""
    network = make_network(claim.network_id)
    claimant = make_professional(claim.professional_id)
    endorsers = {}
    for e in claim.endorsements:
        endorser = make_professional(e["by"])
        endorsers[e["by"]] = (endorser, make_membership(network, endorser))
    return {"claimant": claimant, "network": network, "membership": make_membership(network, claimant),
            "endorsers": endorsers}


def refused(error: type[DomainError], aggregate: Any, command: Callable[[], Any]) -> DomainError:
    """`command` raises exactly `error` and leaves `aggregate` without a new event or change."""
    state = copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})
    version = aggregate.version
    with pytest.raises(error) as raised, recording_at(NOW):
        command()
    assert type(raised.value) is error, f"expected {error.__name__}, got {type(raised.value).__name__}"
    assert aggregate.collect_events() == []
    assert aggregate.version == version
    assert {k: v for k, v in vars(aggregate).items() if k != "_pending_events"} == state
    return raised.value


def refused_submission(error: type[DomainError], command: Callable[[], Any]) -> DomainError:
    """A refused submission creates no claim at all."""
    with pytest.raises(error) as raised, recording_at(NOW):
        command()
    assert type(raised.value) is error, f"expected {error.__name__}, got {type(raised.value).__name__}"
    return raised.value


def event_names(aggregate: Any) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


# --- the error vocabulary ------------------------------------------------------------


def test_a_refusal_names_its_rule_and_class():
    error = EndorserMustBeNetworkMember("P-3 was not a member of N-1 on 2026-03-10")
    assert str(error) == "Refused (rule 3, EndorserMustBeNetworkMember): P-3 was not a member of N-1 on 2026-03-10"


def test_a_refusal_without_a_numbered_rule_names_only_its_class():
    assert str(AlreadyMember("P-1 is a member")) == "Refused (AlreadyMember): P-1 is a member"


# --- rule 2: the activity date, the claimant, the membership, the network -------------


def test_activity_date_after_today_is_refused(reg):
    error = refused_submission(
        ActivityDateInFuture,
        lambda: submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=TODAY + DAY),
    )
    assert error.rule == 2
    assert error.message == "the activity date 2026-06-16 is after today, 2026-06-15"


def test_activity_date_today_is_accepted(reg):
    claim = submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=TODAY)
    assert claim.status == SUBMITTED and claim.activity_date == TODAY
    assert event_names(claim) == ["Submitted"]


def test_activity_before_registration_is_refused(reg):
    late = make_professional("P-9", registered_on=date(2026, 3, 11))
    membership = make_membership(reg.network, late, on=date(2025, 1, 1))
    error = refused_submission(ActivityBeforeRegistration, lambda: submit(late, reg.network, membership))
    assert error.rule == 2
    assert error.message == "the activity date 2026-03-10 is before P-9 registered on 2026-03-11"


def test_activity_on_the_registration_day_is_accepted(reg):
    newcomer = make_professional("P-9", registered_on=ACTIVITY)
    membership = make_membership(reg.network, newcomer, on=ACTIVITY)
    assert submit(newcomer, reg.network, membership).status == SUBMITTED


def test_claimant_without_a_membership_is_refused(reg):
    error = refused_submission(ClaimantMustBeNetworkMember, lambda: submit(reg.outsider, reg.network, None))
    assert error.rule == 2
    assert error.message == "P-3 was not a member of N-1 on 2026-03-10"


def test_claimant_who_joined_after_the_activity_date_is_refused(reg):
    membership = make_membership(reg.network, reg.outsider, on=ACTIVITY + DAY)
    refused_submission(ClaimantMustBeNetworkMember, lambda: submit(reg.outsider, reg.network, membership))


def test_membership_joined_on_the_activity_date_covers_it(reg):
    membership = make_membership(reg.network, reg.outsider, on=ACTIVITY)
    assert submit(reg.outsider, reg.network, membership).status == SUBMITTED


def test_membership_left_on_a_day_does_not_cover_that_day(reg):
    with recording_at(NOW):
        reg.claimant_membership.leave(ACTIVITY, claims=[])
    assert not reg.claimant_membership.covers(ACTIVITY)
    refused_submission(ClaimantMustBeNetworkMember, lambda: submit(reg.claimant, reg.network, reg.claimant_membership))


def test_membership_left_on_a_day_covers_the_day_before(reg):
    with recording_at(NOW):
        reg.claimant_membership.leave(ACTIVITY, claims=[])
    assert reg.claimant_membership.covers(ACTIVITY - DAY)
    claim = submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=ACTIVITY - DAY)
    assert claim.status == SUBMITTED


def test_leaving_and_rejoining_covers_both_intervals_and_not_the_gap(reg):
    membership = reg.claimant_membership  # joined 2025-01-01
    with recording_at(NOW):
        membership.leave(date(2025, 6, 1), claims=[])
        membership.rejoin(date(2025, 9, 1), professional=reg.claimant)
    assert event_names(membership) == ["Left", "Rejoined"]
    assert membership.intervals == [[date(2025, 1, 1), date(2025, 6, 1)], [date(2025, 9, 1), None]]
    assert [membership.covers(d) for d in (date(2024, 12, 31), date(2025, 1, 1), date(2025, 5, 31))] == [
        False, True, True]
    assert [membership.covers(d) for d in (date(2025, 6, 1), date(2025, 8, 31))] == [False, False]
    assert [membership.covers(d) for d in (date(2025, 9, 1), TODAY)] == [True, True]
    refused_submission(
        ClaimantMustBeNetworkMember,
        lambda: submit(reg.claimant, reg.network, membership, activity_date=date(2025, 7, 1)),
    )
    assert submit(reg.claimant, reg.network, membership, activity_date=date(2025, 9, 1)).status == SUBMITTED


def test_rejoining_on_the_day_of_leaving_is_allowed(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.leave(date(2025, 6, 1), claims=[])
        membership.rejoin(date(2025, 6, 1), professional=reg.claimant)
    assert membership.covers(date(2025, 6, 1))


def test_activity_in_a_network_closed_on_that_day_is_refused(reg):
    with recording_at(NOW):
        reg.network.close(ACTIVITY, claims=[])
    error = refused_submission(NetworkMustBeOpen, lambda: submit(reg.claimant, reg.network, reg.claimant_membership))
    assert error.rule == 2
    assert error.message == "network N-1 closed on 2026-03-10, on or before 2026-03-10"


def test_activity_the_day_before_the_network_closed_is_accepted(reg):
    with recording_at(NOW):
        reg.network.close(ACTIVITY, claims=[])
    claim = submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=ACTIVITY - DAY)
    assert claim.status == SUBMITTED


def test_activity_before_the_network_was_founded_is_refused(reg):
    young = make_network("N-2", founded_on=ACTIVITY + DAY)
    membership = make_membership(young, reg.claimant, on=date(2025, 1, 1))  # a membership the ledger would refuse
    error = refused_submission(NetworkMustBeOpen, lambda: submit(reg.claimant, young, membership))
    assert error.message == "network N-2 was founded only on 2026-03-11, after 2026-03-10"


def test_activity_on_the_founding_day_is_accepted(reg):
    young = make_network("N-2", founded_on=ACTIVITY)
    membership = make_membership(young, reg.claimant, on=ACTIVITY)
    assert submit(reg.claimant, young, membership).status == SUBMITTED


def test_deregistered_claimant_may_claim_on_the_deregistration_day_for_that_day(reg):
    with recording_at(NOW):
        reg.claimant.deregister(TODAY, claims=[])
    claim = submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=TODAY, today=TODAY)
    assert claim.status == SUBMITTED


def test_deregistered_claimant_cannot_claim_for_the_day_after(reg):
    deregistered_on = ACTIVITY
    with recording_at(NOW):
        reg.claimant.deregister(deregistered_on, claims=[])
    error = refused_submission(
        ClaimantDeregistered,
        lambda: submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=deregistered_on + DAY,
                       today=deregistered_on + DAY),
    )
    assert error.rule == 2
    assert error.message == "P-1 was deregistered on 2026-03-10"


def test_deregistered_claimant_cannot_claim_after_deregistration_even_for_earlier_activity(reg):
    with recording_at(NOW):
        reg.claimant.deregister(ACTIVITY, claims=[])
    refused_submission(
        ClaimantDeregistered,
        lambda: submit(reg.claimant, reg.network, reg.claimant_membership, activity_date=ACTIVITY, today=ACTIVITY + DAY),
    )


# --- rule 3: endorsements ------------------------------------------------------------


def test_peer_member_endorses_a_submitted_claim(reg):
    claim = reg.claim()
    reg.endorse(claim)
    assert event_names(claim) == ["Endorsed"]
    assert claim.endorsements == [{"by": "P-2", "statement": "I was there"}]


def test_claimant_cannot_endorse_own_claim(reg):
    claim = reg.claim()
    error = refused(EndorserMustNotBeClaimant, claim, lambda: reg.endorse(claim, reg.claimant, reg.claimant_membership))
    assert error.rule == 3
    assert error.message == "P-1 cannot endorse their own claim"


def test_endorser_who_is_not_a_member_is_refused(reg):
    claim = reg.claim()
    error = refused(EndorserMustBeNetworkMember, claim, lambda: reg.endorse(claim, reg.outsider, None))
    assert error.rule == 3
    assert error.message == "P-3 was not a member of N-1 on 2026-03-10"


def test_endorser_who_was_not_a_member_on_the_activity_date_is_refused(reg):
    claim = reg.claim()
    late_member = make_membership(reg.network, reg.outsider, on=ACTIVITY + DAY)
    refused(EndorserMustBeNetworkMember, claim, lambda: reg.endorse(claim, reg.outsider, late_member))


def test_endorser_who_left_on_the_activity_date_is_refused(reg):
    claim = reg.claim()
    with recording_at(NOW):
        reg.peer_membership.leave(ACTIVITY, claims=[])
    refused(EndorserMustBeNetworkMember, claim, lambda: reg.endorse(claim))


def test_deregistered_endorser_is_refused(reg):
    claim = reg.claim()
    with recording_at(NOW):
        reg.peer.deregister(TODAY - DAY, claims=[])
    error = refused(EndorserMustBeRegistered, claim, lambda: reg.endorse(claim))
    assert error.rule == 3
    assert error.message == "P-2 is not a registered professional on 2026-06-15"


def test_endorser_deregistered_today_may_still_endorse(reg):
    claim = reg.claim()
    with recording_at(NOW):
        reg.peer.deregister(TODAY, claims=[])
    reg.endorse(claim)
    assert len(claim.endorsements) == 1


def test_endorsing_twice_is_refused(reg):
    claim = reg.endorsed_claim()
    error = refused(AlreadyEndorsed, claim, lambda: reg.endorse(claim))
    assert error.rule == 3
    assert error.message == f"P-2 endorsed claim {claim.id} already"
    assert len(claim.endorsements) == 1


@pytest.mark.parametrize("close", ["withdraw", "approve", "reject"])
def test_claim_that_is_not_submitted_cannot_be_endorsed(reg, close):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        if close == "withdraw":
            claim.withdraw(by="P-1")
        elif close == "approve":
            claim.approve(reviewer=reg.reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="ok",
                          **standing(claim), today=TODAY)
        else:
            claim.reject(reviewer=reg.reviewer, reason="no", today=TODAY)
    claim.collect_events()
    other = make_professional("P-4")
    membership = make_membership(reg.network, other)
    error = refused(ClaimNotOpenForEndorsement, claim, lambda: reg.endorse(claim, other, membership))
    assert error.rule == 3


# --- rule 4: who decides, on what -----------------------------------------------------


def _decide(claim: Claim, verb: str, reviewer: Reviewer, today: date = TODAY) -> None:
    if verb == "approve":
        claim.approve(reviewer=reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="Good",
                      **standing(claim), today=today)
    elif verb == "reject":
        claim.reject(reviewer=reviewer, reason="Not enough", today=today)
    else:
        claim.return_to_claimant(reviewer=reviewer, reason="Please add the outcome", today=today)


DECISIONS = ["approve", "reject", "return"]


@pytest.mark.parametrize("verb", DECISIONS)
def test_reviewer_retired_on_the_decision_day_cannot_decide(reg, verb):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        reg.reviewer.retire(TODAY, last_decision_on=None)
    error = refused(ReviewerNotActive, claim, lambda: _decide(claim, verb, reg.reviewer))
    assert error.rule == 4
    assert error.message == "reviewer R-1 retired on 2026-06-15"


def test_reviewer_retiring_tomorrow_may_still_decide(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        reg.reviewer.retire(TODAY + DAY, last_decision_on=None)
        _decide(claim, "approve", reg.reviewer)
    assert claim.status == APPROVED


def test_reviewer_not_yet_appointed_cannot_decide(reg):
    claim = reg.endorsed_claim()
    future = make_reviewer("R-2", appointed_on=TODAY + DAY)
    error = refused(ReviewerNotActive, claim, lambda: _decide(claim, "approve", future))
    assert error.message == "reviewer R-2 is appointed only from 2026-06-16"


def test_reviewer_appointed_today_may_decide(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _decide(claim, "approve", make_reviewer("R-2", appointed_on=TODAY))
    assert claim.status == APPROVED


@pytest.mark.parametrize("verb", DECISIONS)
def test_reviewer_who_is_the_claimant_cannot_decide(reg, verb):
    claim = reg.endorsed_claim()
    error = refused(ReviewerMustNotBeClaimant, claim, lambda: _decide(claim, verb, make_reviewer("P-1")))
    assert error.rule == 4
    assert error.message == f"reviewer P-1 is the claimant of claim {claim.id}"


@pytest.mark.parametrize("verb", DECISIONS)
def test_reviewer_who_endorsed_the_claim_cannot_decide(reg, verb):
    claim = reg.endorsed_claim()  # endorsed by P-2
    error = refused(ReviewerMustNotHaveEndorsed, claim, lambda: _decide(claim, verb, make_reviewer("P-2")))
    assert error.rule == 4
    assert error.message == f"reviewer P-2 endorsed claim {claim.id} and cannot decide on it"


@pytest.mark.parametrize("verb", DECISIONS)
@pytest.mark.parametrize("earlier", DECISIONS)
def test_claim_already_decided_cannot_be_decided_again(reg, verb, earlier):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _decide(claim, earlier, reg.reviewer)
    claim.collect_events()
    error = refused(ClaimNotAwaitingDecision, claim, lambda: _decide(claim, verb, reg.reviewer))
    assert error.rule == 4
    assert claim.status in (APPROVED, REJECTED, RETURNED)


def test_withdrawn_claim_cannot_be_decided(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        claim.withdraw(by="P-1")
    claim.collect_events()
    error = refused(ClaimNotAwaitingDecision, claim, lambda: _decide(claim, "approve", reg.reviewer))
    assert error.message == f"claim {claim.id} is withdrawn; only a submitted claim is decided on"


# --- rule 5: what an approval and the other decisions need ---------------------------


def _approve(reg: Register, claim: Claim, points: Decimal | None = None, rationale: str = "Good",
             policy: PolicyTerms = DEFAULT_TERMS) -> None:
    claim.approve(reviewer=reg.reviewer, policy=policy, points_awarded=points, rationale=rationale, **standing(claim), today=TODAY)


def test_approval_without_endorsements_is_refused(reg):
    claim = reg.claim()
    error = refused(NotEnoughEndorsements, claim, lambda: _approve(reg, claim))
    assert error.rule == 5
    assert error.message == f"claim {claim.id} has 0 endorsements; approval needs at least 1"


def test_approval_with_fewer_endorsements_than_the_policy_needs_is_refused(reg):
    claim = reg.endorsed_claim()
    policy = PolicyTerms(effective_from=date(2026, 1, 1), min_endorsements=2)
    error = refused(NotEnoughEndorsements, claim, lambda: _approve(reg, claim, policy=policy))
    assert error.message == f"claim {claim.id} has 1 endorsement; approval needs at least 2"


def test_approval_with_as_many_endorsements_as_the_policy_needs_is_accepted(reg):
    claim = reg.endorsed_claim()
    other = make_professional("P-4")
    reg.endorse(claim, other, make_membership(reg.network, other))
    with recording_at(NOW):
        _approve(reg, claim, policy=PolicyTerms(effective_from=date(2026, 1, 1), min_endorsements=2))
    assert claim.status == APPROVED


def test_approval_with_points_equal_to_the_cap_is_accepted(reg):
    claim = reg.endorsed_claim(kind="answer", hours=Decimal(10))
    with recording_at(NOW):
        _approve(reg, claim, points=Decimal("4.00"))
    assert claim.status == APPROVED and claim.points_awarded == Decimal(4)
    (approved,) = claim.collect_events()
    assert type(approved).__name__ == "Approved" and approved.points == Decimal(4)


def test_approval_with_points_a_cent_over_the_cap_is_refused(reg):
    claim = reg.endorsed_claim(kind="answer", hours=Decimal(10))
    error = refused(PointsOutOfRange, claim, lambda: _approve(reg, claim, points=Decimal("4.01")))
    assert error.rule == 5
    assert error.message == "4.01 points is more than 4, the cap for one claim of kind answer"


def test_approval_with_zero_points_is_refused(reg):
    claim = reg.endorsed_claim()
    refused(PointsOutOfRange, claim, lambda: _approve(reg, claim, points=Decimal(0)))


def test_approval_with_negative_points_is_refused(reg):
    claim = reg.endorsed_claim()
    refused(PointsOutOfRange, claim, lambda: _approve(reg, claim, points=Decimal("-1")))


def test_cap_is_the_one_for_the_claims_kind(reg):
    claim = reg.endorsed_claim(kind="question", hours=Decimal(1))
    error = refused(PointsOutOfRange, claim, lambda: _approve(reg, claim, points=Decimal("2.01")))
    assert "the cap for one claim of kind question" in error.message


@pytest.mark.parametrize(
    ("kind", "hours", "per_hour", "expected"),
    [
        ("answer", "3", "1", "3.00"),  # under the cap: hours × 1
        ("answer", "10", "1", "4.00"),  # capped
        ("question", "1.25", "1", "1.25"),
        ("co-construction", "2.5", "1.5", "3.75"),
        ("facilitation", "5", "1.5", "6.00"),  # 7.5 capped at 6
        ("answer", "0.33", "1.5", "0.50"),  # 0.495 rounded half up to cents
    ],
)
def test_default_points_are_hours_times_points_per_hour_capped(reg, kind, hours, per_hour, expected):
    claim = reg.endorsed_claim(kind=kind, hours=Decimal(hours))
    policy = PolicyTerms(effective_from=date(2026, 1, 1), points_per_hour=Decimal(per_hour))
    assert policy.suggested_points(kind, Decimal(hours)) == Decimal(expected)
    with recording_at(NOW):
        _approve(reg, claim, points=None, policy=policy)
    assert claim.points_awarded == Decimal(expected)
    assert str(claim.points_awarded) == expected  # exact cents, never a float


def test_approval_with_a_blank_rationale_is_refused(reg):
    claim = reg.endorsed_claim()
    error = refused(RationaleRequired, claim, lambda: _approve(reg, claim, rationale="  \t "))
    assert error.rule == 5
    assert error.message == "an approval needs a rationale"


@pytest.mark.parametrize("verb", ["reject", "return"])
def test_rejecting_or_returning_with_a_blank_reason_is_refused(reg, verb):
    claim = reg.endorsed_claim()

    def decide() -> None:
        if verb == "reject":
            claim.reject(reviewer=reg.reviewer, reason="   ", today=TODAY)
        else:
            claim.return_to_claimant(reviewer=reg.reviewer, reason="\n", today=TODAY)

    error = refused(ReasonRequired, claim, decide)
    assert error.rule == 5
    assert error.message == ("rejecting" if verb == "reject" else "returning") + " a claim needs a reason"


def test_revoking_with_a_blank_reason_is_refused(reg):
    claim = reg.approved_claim()
    error = refused(ReasonRequired, claim, lambda: claim.revoke(reviewer=reg.reviewer, reason=" ", today=TODAY))
    assert error.message == "revoking a claim needs a reason"
    assert claim.status == APPROVED


# --- rule 6: only the claimant withdraws or amends, while submitted or returned -------


def _amend(reg: Register, claim: Claim, by: str = "P-1", today: date = TODAY, **changes: Any) -> None:
    claim.amend(by=by, claimant=reg.claimant, network=reg.network, membership=reg.claimant_membership,
                changes=changes, today=today)


def test_someone_else_cannot_withdraw_a_claim(reg):
    claim = reg.claim()
    error = refused(OnlyClaimantMayChangeClaim, claim, lambda: claim.withdraw(by="P-2"))
    assert error.rule == 6
    assert error.message == f"only P-1, the claimant, may withdraw claim {claim.id}"


def test_someone_else_cannot_amend_a_claim(reg):
    claim = reg.claim()
    error = refused(OnlyClaimantMayChangeClaim, claim, lambda: _amend(reg, claim, by="P-2", description="Mine now"))
    assert error.message == f"only P-1, the claimant, may amend claim {claim.id}"


def test_claimant_withdraws_a_returned_claim(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _decide(claim, "return", reg.reviewer)
        claim.withdraw(by="P-1")
    assert claim.status == WITHDRAWN
    assert event_names(claim) == ["Returned", "Withdrawn"]


@pytest.mark.parametrize("earlier", ["approve", "reject"])
def test_decided_claim_cannot_be_withdrawn(reg, earlier):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _decide(claim, earlier, reg.reviewer)
    claim.collect_events()
    error = refused(ClaimNotChangeable, claim, lambda: claim.withdraw(by="P-1"))
    assert error.rule == 6
    assert error.message == (
        f"claim {claim.id} is {claim.status}; the claimant may withdraw it only while submitted or returned"
    )


def test_withdrawn_claim_cannot_be_withdrawn_again(reg):
    claim = reg.claim()
    with recording_at(NOW):
        claim.withdraw(by="P-1")
    claim.collect_events()
    refused(ClaimNotChangeable, claim, lambda: claim.withdraw(by="P-1"))


def test_approved_claim_cannot_be_amended(reg):
    claim = reg.approved_claim()
    refused(ClaimNotChangeable, claim, lambda: _amend(reg, claim, description="Better words"))


def test_amend_into_the_future_is_refused_by_rule_2(reg):
    claim = reg.endorsed_claim()
    error = refused(ActivityDateInFuture, claim, lambda: _amend(reg, claim, activity_date=TODAY + DAY))
    assert error.rule == 2
    assert claim.activity_date == ACTIVITY and len(claim.endorsements) == 1


def test_amend_to_a_date_outside_the_membership_is_refused(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        reg.claimant_membership.leave(date(2026, 4, 1), claims=[])
    refused(ClaimantMustBeNetworkMember, claim, lambda: _amend(reg, claim, activity_date=date(2026, 4, 1)))


def test_amend_of_the_activity_date_clears_endorsements(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _amend(reg, claim, activity_date=ACTIVITY - DAY)
    (amended,) = claim.collect_events()
    assert amended.endorsements_cleared is True
    assert claim.endorsements == [] and claim.activity_date == ACTIVITY - DAY and claim.status == SUBMITTED


def test_amend_of_the_kind_clears_endorsements(reg):
    claim = reg.endorsed_claim(kind="answer")
    with recording_at(NOW):
        _amend(reg, claim, kind="co-construction")
    assert claim.endorsements == [] and claim.kind == "co-construction"


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "A clearer description"},
        {"outcome": "A protocol card on every ward"},
        {"practice_change": "I check the wound daily"},
        {"hours": Decimal(2)},
        {"kind": "answer", "activity_date": ACTIVITY},  # the same kind and date: nothing they vouched for changed
    ],
    ids=["description", "outcome", "practice-change", "hours", "same-kind-and-date"],
)
def test_amend_that_keeps_kind_and_date_keeps_endorsements(reg, changes):
    claim = reg.endorsed_claim(kind="answer")
    with recording_at(NOW):
        _amend(reg, claim, **changes)
    (amended,) = claim.collect_events()
    assert amended.endorsements_cleared is False
    assert claim.endorsements == [{"by": "P-2", "statement": "I was there"}]
    for name, value in changes.items():
        assert getattr(claim, name) == value


def test_amend_of_a_returned_claim_submits_it_again(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        _decide(claim, "return", reg.reviewer)
        _amend(reg, claim, outcome="The outcome the reviewer asked for")
    assert claim.status == SUBMITTED
    with recording_at(NOW):
        _decide(claim, "approve", reg.reviewer)
    assert claim.status == APPROVED


# --- rule 7: revocation ---------------------------------------------------------------


@pytest.mark.parametrize("earlier", [None, "reject", "return"])
def test_claim_that_is_not_approved_cannot_be_revoked(reg, earlier):
    claim = reg.endorsed_claim()
    if earlier:
        with recording_at(NOW):
            _decide(claim, earlier, reg.reviewer)
        claim.collect_events()
    error = refused(OnlyApprovedClaimCanBeRevoked, claim,
                    lambda: claim.revoke(reviewer=reg.reviewer, reason="Fraud", today=TODAY))
    assert error.rule == 7
    assert error.message == f"claim {claim.id} is {claim.status}; only an approved claim is revoked"


def test_revoked_claim_cannot_be_revoked_again(reg):
    claim = reg.approved_claim()
    with recording_at(NOW):
        claim.revoke(reviewer=reg.reviewer, reason="Fraud", today=TODAY)
    claim.collect_events()
    refused(OnlyApprovedClaimCanBeRevoked, claim,
            lambda: claim.revoke(reviewer=reg.reviewer, reason="Again", today=TODAY))


def test_reviewer_who_is_the_claimant_cannot_revoke(reg):
    claim = reg.approved_claim()
    error = refused(RevokerMustNotBeClaimant, claim,
                    lambda: claim.revoke(reviewer=make_reviewer("P-1"), reason="Mine", today=TODAY))
    assert error.rule == 7
    assert error.message == f"reviewer P-1 is the claimant of claim {claim.id}"


def test_retired_reviewer_cannot_revoke(reg):
    claim = reg.approved_claim()
    with recording_at(NOW):
        reg.reviewer.retire(TODAY, last_decision_on=None)
    refused(ReviewerNotActive, claim,
            lambda: claim.revoke(reviewer=reg.reviewer, reason="Fraud", today=TODAY))


def test_revocation_debits_the_awarded_points(reg):
    claim = reg.approved_claim(points=Decimal("2.5"))
    reviewer = make_reviewer("R-2")
    with recording_at(NOW + timedelta(hours=1)), acting_as("R-2", OS_USER):
        claim.revoke(reviewer=reviewer, reason="The meeting did not take place", today=TODAY)
    (revoked,) = claim.collect_events()
    assert type(revoked).__name__ == "Revoked"
    assert revoked.points == Decimal("2.5") == claim.points_awarded
    assert revoked.actor == "R-2" and revoked.os_user == OS_USER and revoked.timestamp == NOW + timedelta(hours=1)
    assert claim.status == REVOKED


def test_revocation_brings_the_balance_back_to_zero():
    """Approval credits and revocation debits the same amount, at the claim's activity date."""
    from projections.replay import Replay

    approved_at = NOW - timedelta(days=30)
    with recording_at(approved_at):
        network = Network(network_id="N-1", name="Wound care", themes=["wound-care"], groups=["nurse"],
                          founded_on=date(2024, 1, 1))
        claimant, peer = (
            Professional(professional_id=pid, name=pid, group="nurse", registered_on=date(2025, 1, 1))
            for pid in ("P-1", "P-2")
        )
        reviewer = make_reviewer()
        claim = Claim.submit(claimant=claimant, network=network, membership=make_membership(network, claimant),
                             kind="answer", activity_date=ACTIVITY, hours=Decimal(3), description="d", outcome="o",
                             practice_change=None, today=TODAY)
        claim.endorse(endorser=peer, membership=make_membership(network, peer), statement="s", today=TODAY)
        claim.approve(reviewer=reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="r", **standing(claim), today=TODAY)
    events = [*network.collect_events(), *claimant.collect_events(), *peer.collect_events(), *claim.collect_events()]
    with recording_at(NOW):
        claim.revoke(reviewer=reviewer, reason="Fraud", today=TODAY)
    events += claim.collect_events()
    replay = Replay.of(events)
    assert [p.points for p in replay.postings] == [Decimal(3), Decimal(-3)]
    assert replay.balance("P-1", TODAY, approved_at)["total"] == "3"
    assert replay.balance("P-1", TODAY, NOW)["total"] == "0"
    assert replay.balance("P-1", TODAY, NOW)["by_kind"] == {"answer": "0"}


# --- the registrations' own rules -----------------------------------------------------


def test_deregistering_twice_is_refused():
    professional = make_professional("P-1")
    with recording_at(NOW):
        professional.deregister(date(2026, 1, 1), claims=[])
    professional.collect_events()
    error = refused(AlreadyDeregistered, professional,
                    lambda: professional.deregister(date(2026, 2, 1), claims=[]))
    assert error.rule is None
    assert error.message == "P-1 was already deregistered on 2026-01-01"


def test_deregistering_before_the_registration_is_refused():
    professional = make_professional("P-1", registered_on=date(2025, 1, 1))
    error = refused(DateOutOfOrder, professional,
                    lambda: professional.deregister(date(2024, 12, 31), claims=[]))
    assert error.message == "P-1 cannot be deregistered on 2024-12-31, before registering on 2025-01-01"


def test_deregistering_on_the_registration_day_is_allowed():
    professional = make_professional("P-1", registered_on=date(2025, 1, 1))
    with recording_at(NOW):
        professional.deregister(date(2025, 1, 1), claims=[])
    assert professional.deregistered_on == date(2025, 1, 1)


def test_retiring_twice_is_refused():
    reviewer = make_reviewer()
    with recording_at(NOW):
        reviewer.retire(date(2026, 1, 1), last_decision_on=None)
    reviewer.collect_events()
    error = refused(AlreadyRetired, reviewer, lambda: reviewer.retire(date(2026, 2, 1), last_decision_on=None))
    assert error.message == "reviewer R-1 retired on 2026-01-01 already"


def test_retiring_before_the_appointment_is_refused():
    reviewer = make_reviewer(appointed_on=date(2025, 1, 1))
    refused(DateOutOfOrder, reviewer, lambda: reviewer.retire(date(2024, 12, 31), last_decision_on=None))


def test_closing_a_network_twice_is_refused():
    network = make_network()
    with recording_at(NOW):
        network.close(date(2026, 1, 1), claims=[])
    network.collect_events()
    error = refused(NetworkAlreadyClosed, network, lambda: network.close(date(2026, 2, 1), claims=[]))
    assert error.message == "network N-1 closed on 2026-01-01 already"


def test_closing_a_network_before_its_founding_is_refused():
    network = make_network(founded_on=date(2024, 1, 1))
    refused(DateOutOfOrder, network, lambda: network.close(date(2023, 12, 31), claims=[]))


def test_rejoining_while_a_member_is_refused(reg):
    membership = reg.claimant_membership
    error = refused(AlreadyMember, membership,
                    lambda: membership.rejoin(date(2025, 6, 1), professional=reg.claimant))
    assert error.message == "P-1 is a member of N-1 since 2025-01-01 already"


def test_leaving_when_not_a_member_is_refused(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.leave(date(2025, 6, 1), claims=[])
    membership.collect_events()
    error = refused(NotAMember, membership, lambda: membership.leave(date(2025, 7, 1), claims=[]))
    assert error.message == "P-1 is not a member of N-1"


@pytest.mark.parametrize("on", [date(2024, 12, 31), date(2025, 1, 1)], ids=["before-joining", "on-joining-day"])
def test_leaving_on_or_before_joining_is_refused(reg, on):
    membership = reg.claimant_membership
    error = refused(DateOutOfOrder, membership, lambda: membership.leave(on, claims=[]))
    assert error.message == "P-1 joined N-1 on 2025-01-01; leaving must come after that"


def test_rejoining_before_leaving_is_refused(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.leave(date(2025, 6, 1), claims=[])
    membership.collect_events()
    refused(DateOutOfOrder, membership, lambda: membership.rejoin(date(2025, 5, 31), professional=reg.claimant))


def _policy_with(effective_from: date) -> Policy:
    with recording_at(NOW):
        policy = Policy()
        policy.adopt(PolicyTerms(effective_from=effective_from))
    return drained(policy)


@pytest.mark.parametrize("effective_from", [date(2026, 1, 1), date(2025, 12, 31)], ids=["same-day", "earlier"])
def test_policy_not_later_than_the_latest_is_refused(effective_from):
    policy = _policy_with(date(2026, 1, 1))
    error = refused(PolicyNotLater, policy,
                    lambda: policy.adopt(PolicyTerms(effective_from=effective_from, min_endorsements=3)))
    assert error.message == "a policy is already in force from 2026-01-01; a new version must take effect after it"
    assert policy.in_force(date(2026, 6, 1)).min_endorsements == 1


def test_policy_in_force_is_the_latest_on_or_before_the_date():
    policy = _policy_with(date(2026, 1, 1))
    with recording_at(NOW):
        policy.adopt(PolicyTerms(effective_from=date(2026, 3, 1), min_endorsements=2))
    assert policy.in_force(date(2025, 12, 31)) is DEFAULT_TERMS
    assert policy.in_force(date(2026, 2, 28)).min_endorsements == 1
    assert policy.in_force(date(2026, 3, 1)).min_endorsements == 2


# --- rule 8: no back-dated contradiction ---------------------------------------------


def test_leave_dated_on_or_before_a_live_claims_activity_is_refused_naming_the_claim(reg):
    claim = reg.approved_claim()
    error = refused(LeaveContradictsClaims, reg.claimant_membership,
                    lambda: reg.claimant_membership.leave(ACTIVITY, claims=[claim]))
    assert error.rule == 8 and error.claims == [str(claim.id)]
    assert str(claim.id) in error.message and "approved" in error.message


def test_leave_of_an_endorser_before_the_activity_is_refused(reg):
    claim = reg.endorsed_claim()
    error = refused(LeaveContradictsClaims, reg.peer_membership,
                    lambda: reg.peer_membership.leave(ACTIVITY - DAY, claims=[claim]))
    assert error.claims == [str(claim.id)]


def test_leave_the_day_after_the_activity_is_accepted(reg):
    claim = reg.approved_claim()
    with recording_at(NOW):
        reg.claimant_membership.leave(ACTIVITY + DAY, claims=[claim])
    assert reg.claimant_membership.covers(ACTIVITY) and not reg.claimant_membership.covers(ACTIVITY + DAY)


@pytest.mark.parametrize("final", ["withdraw", "reject", "revoke"])
def test_leave_before_a_claim_that_is_no_longer_live_is_accepted(reg, final):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        if final == "withdraw":
            claim.withdraw(by="P-1")
        elif final == "reject":
            claim.reject(reviewer=reg.reviewer, reason="No outcome", today=TODAY)
        else:
            claim.approve(reviewer=reg.reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="ok",
                          **standing(claim), today=TODAY)
            claim.revoke(reviewer=reg.reviewer, reason="Counted twice", today=TODAY)
        reg.claimant_membership.leave(ACTIVITY, claims=[claim])
    assert not reg.claimant_membership.covers(ACTIVITY)


def test_leave_of_an_endorser_whose_endorsement_was_cleared_is_accepted(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        claim.amend(by="P-1", claimant=reg.claimant, network=reg.network, membership=reg.claimant_membership,
                    changes={"kind": "question"}, today=TODAY)
        reg.peer_membership.leave(ACTIVITY, claims=[claim])
    assert not reg.peer_membership.covers(ACTIVITY)


def test_close_dated_on_a_live_claims_activity_is_refused(reg):
    claim = reg.claim()
    error = refused(CloseContradictsClaims, reg.network,
                    lambda: reg.network.close(ACTIVITY, claims=[claim]))
    assert error.rule == 8 and error.claims == [str(claim.id)]


def test_close_the_day_after_the_last_activity_is_accepted(reg):
    claim = reg.claim()
    with recording_at(NOW):
        reg.network.close(ACTIVITY + DAY, claims=[claim])
    assert reg.network.closed_on == ACTIVITY + DAY


def test_deregistration_before_a_live_claims_activity_is_refused(reg):
    claim = reg.endorsed_claim()
    for professional in (reg.claimant, reg.peer):
        error = refused(DeregistrationContradictsClaims, professional,
                        lambda: professional.deregister(ACTIVITY - DAY, claims=[claim]))
        assert error.rule == 8 and error.claims == [str(claim.id)]


def test_deregistration_on_the_activity_date_is_accepted(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        reg.claimant.deregister(ACTIVITY, claims=[claim])
    assert reg.claimant.deregistered_on == ACTIVITY


def test_retirement_on_or_before_the_last_decision_day_is_refused(reg):
    for on in (TODAY, TODAY - DAY):
        error = refused(RetirementContradictsDecisions, reg.reviewer,
                        lambda: reg.reviewer.retire(on, last_decision_on=TODAY))
        assert error.rule == 8


def test_retirement_the_day_after_the_last_decision_is_accepted(reg):
    with recording_at(NOW):
        reg.reviewer.retire(TODAY + DAY, last_decision_on=TODAY)
    assert reg.reviewer.retired_on == TODAY + DAY


def test_a_decision_notes_its_day_only_when_it_moves_forward(reg):
    with recording_at(NOW):
        reg.reviewer.note_decision(TODAY)
        reg.reviewer.note_decision(TODAY)
        reg.reviewer.note_decision(TODAY - DAY)
    assert event_names(reg.reviewer) == ["DecisionNoted"] and reg.reviewer.last_decision_on == TODAY


def test_joining_before_the_registration_is_refused():
    professional = make_professional("P-9", registered_on=date(2026, 6, 1))
    network = make_network()
    error = refused_submission(JoinBeforeRegistration, lambda: Membership.join(
        network_id=network.network_id, professional=professional, on=date(2020, 1, 1)))
    assert error.rule == 8


def test_joining_before_the_founding_is_refused():
    network = make_network(founded_on=date(2024, 1, 1))
    error = refused(JoinBeforeFounding, network, lambda: network.check_may_join(date(2023, 12, 31)))
    assert error.rule == 8


def test_joining_after_a_deregistration_is_refused(reg):
    with recording_at(NOW):
        reg.outsider.deregister(date(2025, 6, 1), claims=[])
    refused_submission(ProfessionalDeregistered, lambda: Membership.join(
        network_id="N-1", professional=reg.outsider, on=date(2025, 6, 2)))


def test_joining_on_a_date_before_the_deregistration_is_refused_too(reg):
    # the membership would run on past the deregistration, which ended every other
    with recording_at(NOW):
        reg.outsider.deregister(date(2025, 6, 1), claims=[])
    refused_submission(ProfessionalDeregistered, lambda: Membership.join(
        network_id="N-1", professional=reg.outsider, on=date(2025, 6, 1)))


# --- deregistration ends memberships, and its correction brings them back ---------------


def test_deregistration_ends_the_membership_the_day_after(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.end_with_deregistration(date(2026, 1, 1))
    assert membership.covers(date(2026, 1, 1)) and not membership.covers(date(2026, 1, 2))
    assert membership.ended_by == "deregistered"


def test_a_deregistration_dated_before_the_join_leaves_no_interval(reg):
    joined_on = ACTIVITY + DAY
    membership = make_membership(reg.network, reg.outsider, on=joined_on)
    with recording_at(NOW):
        membership.end_with_deregistration(ACTIVITY - DAY)
        reg.outsider.deregister(ACTIVITY - DAY, claims=[])
    membership.collect_events()
    reg.outsider.collect_events()
    assert membership.intervals == [] and membership.current is None and membership.left_on is None
    refused(NotAMember, membership, lambda: membership.leave(TODAY, claims=[]))
    error = refused(NoLeaveToCancel, membership,
                    lambda: membership.cancel_leave(professional=reg.outsider))
    assert "reinstate" in error.message
    refused(ProfessionalDeregistered, membership,
            lambda: membership.rejoin(joined_on, professional=reg.outsider))
    with recording_at(NOW):
        membership.restore()
    assert membership.intervals == [[joined_on, None]]


def test_restoring_brings_back_the_intervals_before_the_deregistration(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.leave(date(2026, 5, 1), claims=[])
        membership.end_with_deregistration(date(2026, 1, 1))
        membership.restore()
    assert membership.intervals == [[date(2025, 1, 1), date(2026, 5, 1)]]
    restored = [e for e in membership.collect_events() if type(e).__name__ == "Restored"][0]
    # change rows for the read side: a member again from 2026-01-02, no longer from 2026-05-01
    assert restored.changes == [[date(2026, 1, 2), True], [date(2026, 5, 1), False]]


# --- corrections ------------------------------------------------------------------------


def test_reinstating_a_professional_who_is_not_deregistered_is_refused(reg):
    refused(NotDeregistered, reg.claimant, lambda: reg.claimant.reinstate())


def test_reinstating_cancels_the_deregistration(reg):
    with recording_at(NOW):
        reg.claimant.deregister(date(2026, 1, 1), claims=[])
        reg.claimant.reinstate()
    assert reg.claimant.deregistered_on is None and reg.claimant.active_on(TODAY)


def test_reinstating_a_reviewer_who_is_not_retired_is_refused(reg):
    refused(NotRetired, reg.reviewer, lambda: reg.reviewer.reinstate())


def test_reinstated_reviewer_decides_again(reg):
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        reg.reviewer.retire(TODAY - DAY, last_decision_on=None)
        reg.reviewer.reinstate()
        _decide(claim, "reject", reg.reviewer)
    assert claim.status == REJECTED


def test_reopening_a_network_that_is_not_closed_is_refused(reg):
    refused(NetworkNotClosed, reg.network, lambda: reg.network.reopen())


def test_reopened_network_takes_claims_again(reg):
    with recording_at(NOW):
        reg.network.close(ACTIVITY, claims=[])
        reg.network.reopen()
    assert reg.claim().status == SUBMITTED


def test_cancelling_a_leave_when_none_was_recorded_is_refused(reg):
    refused(NoLeaveToCancel, reg.claimant_membership,
            lambda: reg.claimant_membership.cancel_leave(professional=reg.claimant))


def test_a_membership_ended_by_deregistration_is_not_cancelled_as_a_leave(reg):
    membership = reg.claimant_membership
    with recording_at(NOW):
        membership.end_with_deregistration(date(2026, 1, 1))
    membership.collect_events()
    error = refused(NoLeaveToCancel, membership,
                    lambda: membership.cancel_leave(professional=reg.claimant))
    assert "reinstate" in error.message


def test_cancelling_a_leave_of_a_deregistered_professional_is_refused(reg):
    with recording_at(NOW):
        reg.claimant_membership.leave(date(2025, 6, 1), claims=[])
        reg.claimant.deregister(date(2025, 7, 1), claims=[])
    reg.claimant.collect_events()
    reg.claimant_membership.collect_events()
    refused(ProfessionalDeregistered, reg.claimant_membership,
            lambda: reg.claimant_membership.cancel_leave(professional=reg.claimant))


def test_cancelling_a_leave_makes_the_membership_run_on(reg):
    with recording_at(NOW):
        reg.claimant_membership.leave(date(2025, 6, 1), claims=[])
        reg.claimant_membership.cancel_leave(professional=reg.claimant)
    assert reg.claimant_membership.covers(date(2026, 1, 1))


def test_cancelling_a_policy_version_in_force_is_refused():
    policy = Policy()
    with recording_at(NOW):
        policy.adopt(DEFAULT_TERMS.amended(TODAY))
    policy.collect_events()
    refused(PolicyVersionInForce, policy, lambda: policy.cancel(TODAY, today=TODAY))


def test_cancelling_a_policy_version_never_adopted_is_refused():
    policy = Policy()
    policy.collect_events()
    refused(NoSuchPolicyVersion, policy,
            lambda: policy.cancel(date(2062, 1, 1), today=TODAY))


def test_a_cancelled_future_version_no_longer_blocks_adoption():
    policy = Policy()
    with recording_at(NOW):
        policy.adopt(DEFAULT_TERMS.amended(date(2062, 1, 1)))
        policy.cancel(date(2062, 1, 1), today=TODAY)
        policy.adopt(DEFAULT_TERMS.amended(date(2027, 1, 1), min_endorsements=2))
    assert [v.effective_from for v in policy.versions] == [date(2027, 1, 1)]


# --- rule 9: separation of duties is historical -----------------------------------------


@pytest.mark.parametrize("verb", DECISIONS)
def test_reviewer_whose_endorsement_was_cleared_by_an_amendment_still_cannot_decide(reg, verb):
    reviewer_peer = make_reviewer("P-2")  # the peer is a reviewer too
    claim = reg.endorsed_claim()
    with recording_at(NOW):
        for kind in ("question", "answer"):  # away and back: the endorsement is cleared
            claim.amend(by="P-1", claimant=reg.claimant, network=reg.network, membership=reg.claimant_membership,
                        changes={"kind": kind}, today=TODAY)
    claim.collect_events()
    assert claim.endorsements == []
    other = make_professional("P-4")
    reg.endorse(claim, other, make_membership(reg.network, other))
    claim.collect_events()
    error = refused(ReviewerEndorsedBefore, claim, lambda: _decide(claim, verb, reviewer_peer))
    assert error.rule == 9


def test_reviewer_who_endorsed_cannot_revoke(reg):
    claim = reg.approved_claim()
    error = refused(ReviewerMustNotHaveEndorsed, claim,
                    lambda: claim.revoke(reviewer=make_reviewer("P-2"), reason="r", today=TODAY))
    assert error.rule == 4


# --- rule 10: approval re-checks what the register knows now ------------------------------


def test_approval_of_a_claim_whose_claimant_no_longer_qualifies_is_refused(reg):
    claim = reg.endorsed_claim()
    facts = standing(claim)
    with recording_at(NOW):  # recorded wrongly in an older version: the membership no longer covers the activity
        facts["membership"] = make_membership(reg.network, facts["claimant"], on=ACTIVITY + DAY)
    error = refused(ClaimantNoLongerEligible, claim, lambda: claim.approve(
        reviewer=reg.reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="ok", **facts, today=TODAY))
    assert error.rule == 10 and "not a member" in error.message


def test_approval_counts_only_endorsers_who_still_qualify(reg):
    claim = reg.endorsed_claim()
    facts = standing(claim)
    endorser, _ = facts["endorsers"]["P-2"]
    facts["endorsers"]["P-2"] = (endorser, None)  # no membership of the network as known now
    error = refused(NotEnoughValidEndorsements, claim, lambda: claim.approve(
        reviewer=reg.reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="ok", **facts, today=TODAY))
    assert error.rule == 10 and "P-2 was not a member" in error.message


def test_approval_counts_the_endorsers_who_still_qualify(reg):
    claim = reg.endorsed_claim()
    other = make_professional("P-4")
    reg.endorse(claim, other, make_membership(reg.network, other))
    facts = standing(claim)
    facts["endorsers"]["P-4"] = (None, None)  # unknown as known now: not counted
    with recording_at(NOW):
        claim.approve(reviewer=reg.reviewer, policy=DEFAULT_TERMS, points_awarded=None, rationale="ok", **facts,
                      today=TODAY)
    assert claim.status == APPROVED


# --- the register's signing keys (SPEC §10) -----------------------------------------------


def test_rotating_to_a_key_recorded_before_is_refused():
    from domain.signing_key import KeyAlreadyUsed, SigningKeys

    with recording_at(NOW):
        ring = drained(SigningKeys(public_key="z6MkA", valid_from=NOW, issuer_name="Register", issuer_url=None,
                                   register_uri="urn:uuid:1"))
    refused(KeyAlreadyUsed, ring, lambda: ring.rotate("z6MkA", NOW))


# --- every error the domain raises has its refusal test here --------------------------


def test_every_error_the_domain_raises_is_tested_here():
    """A new named error in domain/ needs a test above that breaks exactly its rule."""
    import builtins
    import re
    from pathlib import Path

    import domain

    raised = {
        name
        for path in Path(domain.__file__).parent.glob("*.py")
        for name in re.findall(r"raise ([A-Z]\w*)\(", path.read_text())
        if not hasattr(builtins, name)  # a TypeError for a wrong call is no rule of the register's
    }
    tested = set(re.findall(r"refused(?:_submission)?\(\s*([A-Z]\w*)\b", Path(__file__).read_text()))
    assert len(raised) >= 29
    assert raised - tested == set()
