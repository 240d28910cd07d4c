"""What a credential states, from the balances read model: P's balance and the claims behind its cycle.

`facts` takes the balance from `queries.balance` itself — the same computation as
`studyledger balance P --at D --known-at T` — and, in the same read transaction, the postings
of P's cycle up to D recorded by T, summed per claim. A claim approved and not revoked (as
known at T) nets to its points; an approved and revoked one to zero and is left out. Their sum
is the cycle figure of the balance.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select

from domain.values import format_points
from projections import queries
from projections.views import micros


def facts(conn: Connection, t: dict[str, Table], professional: str, at: date, known_at: datetime) -> dict[str, Any]:
    balance = queries.balance(conn, t, professional, at, known_at)
    evidence: list[dict[str, Any]] = []
    if balance["cycle"] is not None:
        postings = t["postings"]
        rows = conn.execute(
            select(postings.c.claim, postings.c.network, postings.c.kind, postings.c.activity_date,
                   func.sum(postings.c.cents).label("cents"))
            .where(postings.c.professional == professional)
            .where(postings.c.activity_date >= date.fromisoformat(balance["cycle"]["start"]))
            .where(postings.c.activity_date <= at)
            .where(postings.c.recorded_us <= micros(known_at))
            .group_by(postings.c.claim, postings.c.network, postings.c.kind, postings.c.activity_date)
            .order_by(postings.c.activity_date, postings.c.claim)
        ).all()
        networks = sorted({r.network for r in rows})
        themes: dict[str, list[str]] = {n: [] for n in networks}
        if networks:
            th = t["themes"]
            for network, theme in conn.execute(
                select(th.c.network, th.c.theme).where(th.c.network.in_(networks)).order_by(th.c.network, th.c.theme)
            ):
                themes[network].append(theme)
        for r in rows:
            if r.cents > 0:
                evidence.append({
                    "claim": queries._uuid(r.claim), "kind": r.kind, "network": r.network,
                    "themes": themes[r.network], "activity_date": r.activity_date.isoformat(),
                    "points": format_points(Decimal(r.cents) / 100),
                })
    return {"professional": professional, "at": at.isoformat(), "known_at": known_at.isoformat(),
            "balance": balance, "evidence": evidence}
