"""The checks a claim's commands make against the rest of the register (SPEC §1 rules 2, 3, 5, 10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.errors import (
    ActivityBeforeRegistration,
    ActivityDateInFuture,
    ClaimantDeregistered,
    ClaimantMustBeNetworkMember,
    NotEnoughEndorsements,
    NotEnoughValidEndorsements,
    PointsOutOfRange,
    ReasonRequired,
)
from domain.values import format_points

if TYPE_CHECKING:
    from domain.membership import Membership
    from domain.network import Network
    from domain.policy import PolicyTerms
    from domain.professional import Professional


def check_activity(
    claimant: Professional, network: Network, membership: Membership | None, activity_date: date, today: date
) -> None:
    """Rule 2: the activity date, the claimant's registration and membership, the network."""
    if activity_date > today:
        raise ActivityDateInFuture(f"the activity date {activity_date} is after today, {today}")
    if activity_date < claimant.registered_on:
        raise ActivityBeforeRegistration(
            f"the activity date {activity_date} is before {claimant.professional_id} "
            f"registered on {claimant.registered_on}"
        )
    if claimant.deregistered_on is not None and (
        activity_date > claimant.deregistered_on or today > claimant.deregistered_on
    ):
        raise ClaimantDeregistered(
            f"{claimant.professional_id} was deregistered on {claimant.deregistered_on}"
        )
    network.check_open_on(activity_date)
    if membership is None or not membership.covers(activity_date):
        raise ClaimantMustBeNetworkMember(
            f"{claimant.professional_id} was not a member of {network.network_id} on {activity_date}"
        )


def eligibility_problem(
    claimant: Professional, network: Network, membership: Membership | None, activity_date: date
) -> str | None:
    """Rule 10 for the claimant: what no longer holds of rule 2 for a recorded claim, as known now."""
    who = claimant.professional_id
    if activity_date < claimant.registered_on:
        return f"{who} registered only on {claimant.registered_on}"
    if claimant.deregistered_on is not None and activity_date > claimant.deregistered_on:
        return f"{who} was deregistered on {claimant.deregistered_on}"
    if not network.open_on(activity_date):
        return f"network {network.network_id} was not open on {activity_date}"
    if membership is None or not membership.covers(activity_date):
        return f"{who} was not a member of {network.network_id} on {activity_date}"
    return None


def endorsement_problem(endorser: Professional | None, membership: Membership | None, activity_date: date) -> str | None:
    """Rule 10 for one endorser: what no longer holds of rule 3, as known now."""
    if endorser is None:
        return "is not a registered professional"
    if not endorser.active_on(activity_date):
        return f"was not registered on {activity_date}"
    if membership is None or not membership.covers(activity_date):
        return f"was not a member of the network on {activity_date}"
    return None


def check_endorsements(
    claim: str, endorsements: list[dict[str, Any]], endorsers: dict[str, tuple[Professional | None, Membership | None]],
    activity_date: date, policy: PolicyTerms,
) -> None:
    """Rules 3 and 10 at approval: enough endorsements, and enough that still count (`endorsers`: each
    endorser's professional and membership of the claim's network, as the register knows them now)."""
    if len(endorsements) < policy.min_endorsements:
        raise NotEnoughEndorsements(
            f"{claim} has {_count(len(endorsements), 'endorsement')}; "
            f"approval needs at least {policy.min_endorsements}"
        )
    uncounted = {
        e["by"]: why for e in endorsements
        if (why := endorsement_problem(*endorsers.get(e["by"], (None, None)), activity_date)) is not None
    }
    counted = len(endorsements) - len(uncounted)
    if counted < policy.min_endorsements:
        raise NotEnoughValidEndorsements(
            f"{claim} has {_count(counted, 'endorsement')} that still count"
            f" ({'; '.join(f'{by} {why}' for by, why in sorted(uncounted.items()))}); "
            f"approval needs at least {policy.min_endorsements}"
        )


def points_within_cap(kind: str, hours: Decimal, points_awarded: Decimal | None, policy: PolicyTerms) -> Decimal:
    """Rule 5: the points an approval awards — those given, or the policy's suggestion — within the kind's cap."""
    if points_awarded is None:
        points_awarded = policy.suggested_points(kind, hours)
    cap = policy.cap(kind)
    if not Decimal(0) < points_awarded <= cap:
        raise PointsOutOfRange(
            f"{format_points(points_awarded)} point{'' if points_awarded == 1 else 's'} is more than "
            f"{format_points(cap)}, the cap for one claim of kind {kind}" if points_awarded > cap else
            f"an approval awards more than 0 points, not {format_points(points_awarded)}"
        )
    return points_awarded


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def require_reason(reason: str, verb: str) -> None:
    if not reason.strip():
        raise ReasonRequired(f"{verb} a claim needs a reason")
