"""An Open Badges 3.0 `OpenBadgeCredential` (VC data model 2.0) for a professional's cycle.

A pure function of the facts the read models give (`projections.balances.facts`: the very
balance `studyledger balance P --at D --known-at T` shows, and the approved claims behind its
cycle figure), the issuer's profile, and the values the ledger chooses for this issue: the
credential's id, the instant and the salt. The professional is named only by a salted
SHA-256 hash of their register id (an OB 3.0 `IdentityObject`), so a verifier learns the id
only from someone who already knows it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from ledger.credentials.loader import CREDENTIALS_V2, OB_V3P0

ACHIEVEMENT_NAME = "Study points for informal learning in professional networks"
ACHIEVEMENT_DESCRIPTION = (
    "The register recognises informal learning in professional networks: asking the network a question "
    "from one's own practice, bringing expertise to someone else's question, building a solution together, "
    "and organising the network's meetings."
)
CRITERIA = (
    "Each contribution was claimed by the professional for an activity in a network they were a member of, "
    "with its outcome (what did it result in?) and, where given, the change in practice (what do they now do "
    "differently?); it was endorsed by peers from the same network, and a reviewer of the register — who was "
    "neither the claimant nor an endorser — approved it and awarded study points within the register's policy. "
    "Points are counted per registration cycle against the register's norm."
)
KIND_NAMES = {
    "question": "asked the network a question from own practice",
    "answer": "brought expertise to someone else's question",
    "co-construction": "built a solution or product together",
    "facilitation": "organised or hosted a network meeting",
}


def instant(value: datetime) -> str:
    """An XSD dateTime in UTC, `2026-03-04T12:00:00Z`, with the microseconds if any: `validFrom` is
    compared with the instant the signing key was recorded, so it must not be rounded to before it."""
    assert value.tzinfo is not None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def day_start(day: str) -> str:
    return f"{day}T00:00:00Z"


def identity_hash(identifier: str, salt: str) -> str:
    """OB 3.0 IdentityHash: `sha256$` and the hex SHA-256 of the identifier followed by the salt (UTF-8)."""
    return "sha256$" + hashlib.sha256((identifier + salt).encode("utf-8")).hexdigest()


def build(
    facts: dict[str, Any], *, issuer: dict[str, Any], credential_id: str, issued_at: datetime, salt: str
) -> dict[str, Any]:
    """The unsigned credential. `issuer`: {"id" (the signing key's did:key), "name", "url", "register_uri"}."""
    balance = facts["balance"]
    cycle = balance["cycle"]
    assert cycle is not None, "a credential describes a cycle the register knew"
    points = cycle["points"]
    achievement_id = f"{issuer['register_uri']}#informal-learning-in-networks"
    result_id = f"{achievement_id}-points"
    cycle_text = f"{cycle['start']} – {cycle['end']}"
    profile = {"id": issuer["id"], "type": ["Profile"], "name": issuer["name"]}
    if issuer.get("url"):
        profile["url"] = issuer["url"]
    return {
        "@context": [CREDENTIALS_V2, OB_V3P0],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{ACHIEVEMENT_NAME}, cycle {cycle_text}",
        "description": (
            f"{points} study points in the registration cycle {cycle_text}, for activities up to and including "
            f"{balance['at']}, as the register knew them at {instant(datetime.fromisoformat(balance['known_at']))}; "
            f"the register's norm for a cycle is {cycle['norm']} points."
        ),
        "issuer": profile,
        "validFrom": instant(issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": identity_hash(facts["professional"], salt),
                "identityType": "ext:registerId",
                "hashed": True,
                "salt": salt,
            }],
            "activityStartDate": day_start(cycle["start"]),
            "activityEndDate": day_start(min(balance["at"], cycle["end"])),
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Achievement",
                "name": ACHIEVEMENT_NAME,
                "description": ACHIEVEMENT_DESCRIPTION,
                "criteria": {"narrative": CRITERIA},
                "creator": profile,
                "resultDescription": [{
                    "id": result_id,
                    "type": ["ResultDescription"],
                    "name": f"Study points in the registration cycle ({cycle['norm']} expected per cycle)",
                    "resultType": "RawScore",
                    "valueMin": "0",
                    "requiredValue": cycle["norm"],
                }],
            },
            "result": [{"type": ["Result"], "resultDescription": result_id, "value": points}],
        },
        "evidence": [_evidence(claim) for claim in facts["evidence"]],
    }


def _evidence(claim: dict[str, Any]) -> dict[str, Any]:
    themes = ", ".join(claim["themes"]) or "none"
    return {
        "id": f"urn:uuid:{claim['claim']}",
        "type": ["Evidence"],
        "name": f"{claim['kind']} in network {claim['network']} on {claim['activity_date']}",
        "description": f"{claim['points']} study points approved by a reviewer of the register.",
        "narrative": (
            f"- kind: {claim['kind']} ({KIND_NAMES.get(claim['kind'], claim['kind'])})\n"
            f"- network: {claim['network']}\n"
            f"- themes: {themes}\n"
            f"- activity date: {claim['activity_date']}\n"
            f"- points: {claim['points']}"
        ),
        "genre": claim["kind"],
    }
