"""Answers from the read models: balance, members, the network map, the review queue, a claim.

Every function takes a connection inside one read transaction and the current tables of
the projection it reads; none of them writes. Date arguments follow SPEC §2: a posting
counts for (at, known_at) when its activity date ≤ at and it was recorded ≤ known_at.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select

from domain.errors import UnknownClaim, UnknownNetwork, UnknownProfessional
from domain.policy import PolicyTerms, in_force, versions_known
from domain.values import cycle_containing, format_points
from projections.quick import fold_postings
from projections.views import micros


def _points(cents: int | None) -> str:
    return format_points(Decimal(cents or 0) / 100)


def _instant(us: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)).isoformat()


def policy_terms(conn: Connection, policies: Table, on: date, known_at: datetime) -> PolicyTerms:
    rows = conn.execute(
        select(policies.c.effective_from, policies.c.terms)
        .where(policies.c.recorded_us <= micros(known_at))
        .order_by(policies.c.recorded_us)
    ).all()
    entries = []
    for r in rows:
        terms = json.loads(r.terms)
        entries.append((r.effective_from, PolicyTerms.from_state(r.effective_from, terms) if terms is not None else None))
    return in_force(versions_known(entries), on)


def balance(conn: Connection, t: dict[str, Table], professional: str, at: date, known_at: datetime) -> dict[str, Any]:
    known_us = micros(known_at)
    registration = conn.execute(
        select(t["professionals"].c.registered_on, t["professionals"].c.recorded_us)
        .where(t["professionals"].c.professional == professional)
    ).first()
    if registration is None:
        raise UnknownProfessional(f"no professional '{professional}' is registered")
    postings = t["postings"]
    terms = policy_terms(conn, t["policies"], at, known_at)
    start, end = cycle_containing(registration.registered_on, at, terms.cycle_years)
    rows = conn.execute(
        select(
            postings.c.kind, postings.c.network, func.sum(postings.c.cents),
            func.sum(postings.c.cents).filter(postings.c.activity_date >= start),
        )
        .where(postings.c.professional == professional)
        .where(postings.c.activity_date <= at)
        .where(postings.c.recorded_us <= known_us)
        .group_by(postings.c.kind, postings.c.network)
    ).all()
    by_kind, by_network, total, in_cycle = fold_postings(rows)
    by_theme: dict[str, int] = defaultdict(int)
    if by_network:
        themes = t["themes"]
        for network, theme in conn.execute(
            select(themes.c.network, themes.c.theme).where(themes.c.network.in_(sorted(by_network)))
        ):
            by_theme[theme] += by_network[network]
    norm_cents = int(terms.norm * 100)
    return {
        "professional": professional,
        "at": at.isoformat(),
        "known_at": known_at.isoformat(),
        "total": _points(total),
        "recorded": registration.recorded_us <= known_us,
        # Before the registration was recorded, the register knew no cycle for P.
        "cycle": None if registration.recorded_us > known_us else {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": _points(in_cycle),
            "norm": format_points(terms.norm),
            "shortfall": _points(max(0, norm_cents - in_cycle)),
        },
        "by_kind": {k: _points(by_kind[k]) for k in sorted(by_kind)},
        "by_network": {k: _points(by_network[k]) for k in sorted(by_network)},
        "by_theme": {k: _points(by_theme[k]) for k in sorted(by_theme)},
    }


def _covered(conn: Connection, changes: Table, at: date, known_at: datetime, network: str | None) -> dict[str, set[str]]:
    """network → professionals whose membership covered `at`, by the changes recorded ≤ known_at.

    A membership's changes are recorded in date order, so the last one dated ≤ at decides.
    """
    query = (
        select(changes.c.network, changes.c.professional, changes.c.joined)
        .where(changes.c.on <= at)
        .where(changes.c.recorded_us <= micros(known_at))
        .order_by(changes.c.position, changes.c.on)  # one event may carry several changes, in date order
    )
    if network is not None:
        query = query.where(changes.c.network == network)
    latest: dict[tuple[str, str], bool] = {}
    for row in conn.execute(query):
        latest[(row.network, row.professional)] = row.joined
    members: dict[str, set[str]] = defaultdict(set)
    for (net, professional), joined in latest.items():
        if joined:
            members[net].add(professional)
    return members


def members(conn: Connection, t: dict[str, Table], network: str, at: date, known_at: datetime) -> dict[str, Any]:
    networks = t["networks"]
    found = conn.execute(select(networks.c.recorded_us).where(networks.c.network == network)).first()
    if found is None:
        raise UnknownNetwork(f"no network '{network}' is registered")
    covered = _covered(conn, t["changes"], at, known_at, network)
    # Known now but not yet at known_at: no members, and said so (as balance and audit history do).
    return {"network": network, "at": at.isoformat(), "known_at": known_at.isoformat(),
            "recorded": found.recorded_us <= micros(known_at), "members": sorted(covered.get(network, ()))}


def network_map(conn: Connection, t: dict[str, Table], at: date, known_at: datetime) -> dict[str, Any]:
    """Which networks exist on `at`, for which groups, around which themes, with member counts."""
    networks = t["networks"]
    rows = conn.execute(
        select(networks)
        .where(networks.c.recorded_us <= micros(known_at))
        .where(networks.c.founded_on <= at)
        .order_by(networks.c.network)
    ).all()
    covered = _covered(conn, t["changes"], at, known_at, None)
    listed = []
    themes: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        open_on_at = row.closed_on is None or at < row.closed_on
        entry = {
            "id": row.network, "name": row.name, "themes": row.themes.split(","), "groups": row.groups.split(","),
            "members": len(covered.get(row.network, ())), "open": open_on_at,
            "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        }
        listed.append(entry)
        for theme in entry["themes"]:
            themes[theme].append(row.network)
        for group in entry["groups"]:
            groups[group].append(row.network)
    return {
        "at": at.isoformat(), "known_at": known_at.isoformat(), "networks": listed,
        "themes": {k: themes[k] for k in sorted(themes)}, "groups": {k: groups[k] for k in sorted(groups)},
    }


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
            "claim": _uuid(row.claim), "request_id": keys.get(row.claim), "professional": row.professional,
            "professional_name": None, "network": row.network,  # the name: filled in from the ledger (Reader)
            "network_name": names.get(("network", row.network)), "kind": row.kind,
            "activity_date": row.activity_date.isoformat(), "hours": format_points(Decimal(row.hours)),
            "status": row.status, "endorsements": counts.get(row.claim, 0),
            "min_endorsements": terms.min_endorsements,
            "suggested_points": format_points(terms.suggested_points(row.kind, Decimal(row.hours))),
            "points": _points(row.cents) if row.cents is not None else None,
            "submitted_at": _instant(row.submitted_us),
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
        raise UnknownClaim(f"no claim '{_uuid(claim_hex)}' was submitted")
    terms = policy_terms(conn, t["policies"], row.activity_date, now)
    names = _names(conn, t["directory"], {("network", row.network)})
    return {
        "claim": _uuid(row.claim), "request_id": _request_ids(conn, t["keys"], [claim_hex]).get(claim_hex),
        "professional": row.professional, "professional_name": None,  # filled in from the ledger (Reader)
        "network": row.network, "network_name": names.get(("network", row.network)), "kind": row.kind,
        "status": row.status, "activity_date": row.activity_date.isoformat(), "hours": format_points(Decimal(row.hours)),
        "description": row.description, "outcome": row.outcome, "practice_change": row.practice_change,
        "points": _points(row.cents) if row.cents is not None else None,
        "suggested_points": format_points(terms.suggested_points(row.kind, Decimal(row.hours))),
        "submitted_at": _instant(row.submitted_us),
        "endorsements": [
            {"by": e.by, "statement": e.statement, "recorded_at": _instant(e.recorded_us)}
            for e in conn.execute(select(endorsements).where(endorsements.c.claim == claim_hex).order_by(endorsements.c.position))
        ],
        "decisions": [
            {"decision": d.decision, "by": d.by, "recorded_at": _instant(d.recorded_us),
             **({"text": d.text} if d.text is not None else {}),
             **({"points": _points(d.cents)} if d.cents is not None else {}),
             **({"changes": d.changes.split(",")} if d.changes else {})}
            for d in conn.execute(select(decisions).where(decisions.c.claim == claim_hex).order_by(decisions.c.position))
        ],
    }


def _uuid(hex_: str) -> str:
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"
