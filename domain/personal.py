"""Which fields of which events are personal data (SPEC §9), and whose.

Personal data are names, the register-given id of a person and every free text. Everything a
balance, a member count or the network map is computed from (points, kinds, dates, networks,
themes, groups) is not, and stays readable for ever, so every figure can be rebuilt after a
person is erased.

`PEOPLE`: the fields that name a person by register id, and the role the person has there
(how an erased one is shown). In an encrypted store they are stored as the person's pseudonym.
`TEXTS`: the free texts, each with the field naming its author; it is stored encrypted with the
author's key. `REGISTER` as the author means the register's own text (an erasure's reason),
encrypted with the register's key. Every event's `actor` is a person too when it is not the
register: `ACTOR_ROLES` gives that role where it is not a professional.
`AMENDED_TEXTS`: the texts an amendment's `changes` can hold (by the actor).
"""

from __future__ import annotations

from domain.claim import Claim
from domain.credential import Credential
from domain.membership import Membership
from domain.network import Network
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import REGISTER

PROFESSIONAL, REVIEWER = "professional", "reviewer"

PEOPLE: dict[type, dict[str, str]] = {
    Professional.Registered: {"professional_id": PROFESSIONAL},
    Professional.Deregistered: {"professional_id": PROFESSIONAL},
    Professional.Reinstated: {"professional_id": PROFESSIONAL},
    Professional.Erased: {"professional_id": PROFESSIONAL},
    Reviewer.Appointed: {"reviewer_id": REVIEWER},
    Reviewer.Retired: {"reviewer_id": REVIEWER},
    Reviewer.Reinstated: {"reviewer_id": REVIEWER},
    Reviewer.DecisionNoted: {"reviewer_id": REVIEWER},
    Reviewer.Erased: {"reviewer_id": REVIEWER},
    Claim.Submitted: {"professional_id": PROFESSIONAL},
    Claim.Endorsed: {"by": PROFESSIONAL},
    Claim.Approved: {"professional_id": PROFESSIONAL},
    Claim.Revoked: {"professional_id": PROFESSIONAL},
    Membership.Joined: {"professional_id": PROFESSIONAL},
    Membership.Rejoined: {"professional_id": PROFESSIONAL},
    Membership.Left: {"professional_id": PROFESSIONAL},
    Membership.LeaveCancelled: {"professional_id": PROFESSIONAL},
    Membership.Ended: {"professional_id": PROFESSIONAL},
    Membership.Restored: {"professional_id": PROFESSIONAL},
    Network.MemberNoted: {"professional_id": PROFESSIONAL},
    Credential.Issued: {"professional_id": PROFESSIONAL},
}

TEXTS: dict[type, dict[str, str]] = {
    Professional.Registered: {"name": "professional_id"},
    Professional.Erased: {"reason": REGISTER},
    Reviewer.Appointed: {"name": "reviewer_id"},
    Reviewer.Erased: {"reason": REGISTER},
    Claim.Submitted: {"description": "professional_id", "outcome": "professional_id",
                      "practice_change": "professional_id"},
    Claim.Endorsed: {"statement": "by"},
    Claim.Approved: {"rationale": "actor"},
    Claim.Rejected: {"reason": "actor"},
    Claim.Returned: {"reason": "actor"},
    Claim.Revoked: {"reason": "actor"},
}

AMENDED_TEXTS = ("description", "outcome", "practice_change")

ACTOR_ROLES: dict[type, str] = {
    Claim.Approved: REVIEWER, Claim.Rejected: REVIEWER, Claim.Returned: REVIEWER, Claim.Revoked: REVIEWER,
    Reviewer.Appointed: REVIEWER,
}


ERASED_MARK = " #"


def erased(role: str, pseudonym: str) -> str:
    """How a person whose key is gone is named: not an id anybody can be registered under (it has
    spaces), honest, and holding their pseudonym, which no longer leads to anybody: the rules still
    find the aggregates of an erased endorser or reviewer by it (domain.base.Naming)."""
    return f"an erased {role}{ERASED_MARK}{pseudonym}"


def pseudonym_of_erased(name: str) -> str | None:
    """The pseudonym in the name `erased` gives; None for any other id."""
    if name.startswith("an erased ") and ERASED_MARK in name:
        return name.rpartition(ERASED_MARK)[2]
    return None
