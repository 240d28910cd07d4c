"""The claims read model's queries: the review queue, a list of claims, one claim.

Every function takes a connection inside one read transaction and the current tables of the
claims read model (`projections.claims`); none of them writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select

from domain.errors import UnknownClaim
from domain.values import format_points
from projections.model import policy_terms
from projections.units import instant_text, micros, points_text, uuid_text


def _endorsement_counts(conn: Connection, endorsements: Table, claims: list[str]) -> dict[str, int]:
    if not claims:
        return {}
    rows = conn.execute(
        select(endorsements.c.claim, func.count()).where(endorsements.c.claim.in_(claims)).group_by(endorsements.c.claim)
    )
    return dict(rows.all())


def review_queue(conn: Connection, t: dict[str, Table], now: datetime, *, network: str | None = None,
                 group: str | None = None, kind: str | None = None, older_than: int | None = None,
                 limit: int | None = None) -> dict[str, Any]:
    """Claims waiting for a decision, oldest first, filtered; `total` counts every match, `claims` the first `limit`."""
    claims = t["claims"]
    query = select(claims).where(claims.c.status == "submitted")
    if older_than is not None:
        query = query.where(claims.c.submitted_us < micros(now - timedelta(days=older_than)))
    query = _filtered(query, t, network=network, group=group, kind=kind)
    return _listed(conn, t, query.order_by(claims.c.submitted_us, claims.c.position), now, limit, queue=True)


def claim_list(conn: Connection, t: dict[str, Table], now: datetime, *, professional: str | None = None,
               network: str | None = None, status: str | None = None, kind: str | None = None,
               limit: int | None = None) -> dict[str, Any]:
    """Claims matching every filter given, newest first."""
    claims = t["claims"]
    query = _filtered(select(claims), t, professional=professional, network=network, kind=kind)
    if status is not None:
        query = query.where(claims.c.status == status)
    return _listed(conn, t, query.order_by(claims.c.submitted_us.desc(), claims.c.position.desc()), now, limit)


def _filtered(query: Any, t: dict[str, Table], *, professional: str | None = None, network: str | None = None,
              group: str | None = None, kind: str | None = None) -> Any:
    claims, names = t["claims"], t["directory"]
    if professional is not None:
        query = query.where(claims.c.professional == professional)
    if network is not None:
        query = query.where(claims.c.network == network)
    if kind is not None:
        query = query.where(claims.c.kind == kind)
    if group is not None:  # the claimant's professional group
        query = query.where(claims.c.professional.in_(
            select(names.c.id).where(names.c.role == "professional").where(names.c.group == group)))
    return query


def _listed(conn: Connection, t: dict[str, Table], query: Any, now: datetime, limit: int | None,
            queue: bool = False) -> dict[str, Any]:
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = conn.execute(query.limit(limit) if limit is not None else query).all()
    found = [r.claim for r in rows]
    counts = _endorsement_counts(conn, t["endorsements"], found)
    keys = _request_ids(conn, t["keys"], found)
    names = _names(conn, t["directory"], {("network", r.network) for r in rows})
    out = []
    for row in rows:
        terms = policy_terms(conn, t["policies"], row.activity_date, now)
        entry = {
            "claim": uuid_text(row.claim), "request_id": keys.get(row.claim), "professional": row.professional,
            "professional_name": None, "network": row.network,  # the name: filled in from the ledger (Reader)
            "network_name": names.get(("network", row.network)), "kind": row.kind,
            "activity_date": row.activity_date.isoformat(), "hours": format_points(Decimal(row.hours)),
            "status": row.status, "endorsements": counts.get(row.claim, 0),
            "min_endorsements": terms.min_endorsements,
            "suggested_points": format_points(terms.suggested_points(row.kind, Decimal(row.hours))),
            "points": points_text(row.cents) if row.cents is not None else None,
            "submitted_at": instant_text(row.submitted_us),
        }
        if queue:
            del entry["status"], entry["points"]
        out.append(entry)
    return {"total": total, "claims": out}


def _request_ids(conn: Connection, keys: Table, claims: list[str]) -> dict[str, str]:
    if not claims:
        return {}
    return dict(conn.execute(select(keys.c.claim, keys.c.request_id).where(keys.c.claim.in_(claims))).all())


def _names(conn: Connection, names: Table, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not wanted:
        return {}
    ids = sorted({i for _, i in wanted})
    rows = conn.execute(select(names.c.role, names.c.id, names.c.name).where(names.c.id.in_(ids))).all()
    return {(r.role, r.id): r.name for r in rows if (r.role, r.id) in wanted}


def claim(conn: Connection, t: dict[str, Table], claim_hex: str, now: datetime) -> dict[str, Any]:
    claims, endorsements, decisions = t["claims"], t["endorsements"], t["decisions"]
    row = conn.execute(select(claims).where(claims.c.claim == claim_hex)).first()
    if row is None:
        raise UnknownClaim(f"no claim '{uuid_text(claim_hex)}' was submitted")
    terms = policy_terms(conn, t["policies"], row.activity_date, now)
    names = _names(conn, t["directory"], {("network", row.network)})
    return {
        "claim": uuid_text(row.claim), "request_id": _request_ids(conn, t["keys"], [claim_hex]).get(claim_hex),
        "professional": row.professional, "professional_name": None,  # filled in from the ledger (Reader)
        "network": row.network, "network_name": names.get(("network", row.network)), "kind": row.kind,
        "status": row.status, "activity_date": row.activity_date.isoformat(), "hours": format_points(Decimal(row.hours)),
        "description": row.description, "outcome": row.outcome, "practice_change": row.practice_change,
        "points": points_text(row.cents) if row.cents is not None else None,
        "suggested_points": format_points(terms.suggested_points(row.kind, Decimal(row.hours))),
        "submitted_at": instant_text(row.submitted_us),
        "endorsements": [
            {"by": e.by, "statement": e.statement, "recorded_at": instant_text(e.recorded_us)}
            for e in conn.execute(select(endorsements).where(endorsements.c.claim == claim_hex).order_by(endorsements.c.position))
        ],
        "decisions": [
            {"decision": d.decision, "by": d.by, "recorded_at": instant_text(d.recorded_us),
             **({"text": d.text} if d.text is not None else {}),
             **({"points": points_text(d.cents)} if d.cents is not None else {}),
             **({"changes": d.changes.split(",")} if d.changes else {})}
            for d in conn.execute(select(decisions).where(decisions.c.claim == claim_hex).order_by(decisions.c.position))
        ],
    }

