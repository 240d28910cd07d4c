"""The balances read model: postings with both times, and what a balance needs beside them.

Tables: every posting (an approval +, a revocation −, in cents) with its activity date and
recording instant; professionals' registrations; networks' themes; the policy versions.
Queries: `balance` (SPEC §2: a posting counts for (at, known_at) when its activity date ≤ at
and it was recorded ≤ known_at) and `facts`, what a credential states. The fold of the
postings into a balance is `domain.balance`'s, shared with the replay and the audit history.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Connection, Date, Index, MetaData, String, Table, func, select, update

from domain.balance import Tally, statement
from domain.claim import Claim
from domain.errors import UnknownProfessional
from domain.network import Network
from domain.policy import Policy
from domain.professional import Professional
from domain.values import cycle_containing
from projections.decode import DATA, instant_us, points_cents, value
from projections.model import (
    Page,
    ReadModel,
    check_policies,
    compare,
    on_policy,
    policies_table,
    policy_terms,
    rows,
    stamp,
)
from projections.units import cents, micros, points_text, uuid_text

if TYPE_CHECKING:
    from projections.erasure import Erasure
    from projections.replay import Replay


def _post(page: Page, s: dict[str, Any], oid: str, position: int, amount: int) -> None:
    # A row as a tuple in the table's column order, its date as the stored ISO text (Page.inserts).
    page.inserts["postings"].append((
        position, s["professional_id"], oid, s["network_id"], s["kind"], s["activity_date"][DATA],
        instant_us(s["timestamp"]), amount,
    ))


def _approved(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    _post(page, s, oid, position, points_cents(s["points"]))


def _revoked(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    _post(page, s, oid, position, -points_cents(s["points"]))


def _registered(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.insert("professionals", professional=s["professional_id"], registered_on=value(s["registered_on"]),
                recorded_us=stamp(s))


def _network(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    for theme in s["themes"]:
        page.insert("themes", network=s["network_id"], theme=theme)


class Balances(ReadModel):
    name = "balances"
    handlers = {
        Claim.Approved: _approved,
        Claim.Revoked: _revoked,
        Professional.Registered: _registered,
        Network.Registered: _network,
        Policy.Adopted: on_policy,
        Policy.Cancelled: on_policy,
    }
    people = {
        Claim.Approved: ("professional_id",),
        Claim.Revoked: ("professional_id",),
        Professional.Registered: ("professional_id",),
    }

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        postings = Table(
            f"rm_postings{suffix}", metadata,
            Column("position", BigInteger, nullable=False),
            Column("professional", String(64), nullable=False),
            Column("claim", String(32), nullable=False),
            Column("network", String(64), nullable=False),
            Column("kind", String(20), nullable=False),
            Column("activity_date", Date, nullable=False),
            Column("recorded_us", BigInteger, nullable=False),
            Column("cents", BigInteger, nullable=False),
        )
        Index(f"ix_postings{suffix}", postings.c.professional, postings.c.activity_date)
        professionals = Table(
            f"rm_professionals{suffix}", metadata,
            Column("professional", String(64), primary_key=True),
            Column("registered_on", Date, nullable=False),
            Column("recorded_us", BigInteger, nullable=False),
        )
        themes = Table(
            f"rm_network_themes{suffix}", metadata,
            Column("network", String(64), nullable=False),
            Column("theme", String(64), nullable=False),
        )
        Index(f"ix_network_themes{suffix}", themes.c.network)
        policies = policies_table(metadata, f"rm_balance_policies{suffix}")
        return {"postings": postings, "professionals": professionals, "themes": themes, "policies": policies}

    def purge(self, conn: Connection, t: dict[str, Table], who: Erasure) -> None:
        """An erased person (SPEC §9): named in their postings and registration as a replay now names them."""
        for key in ("postings", "professionals"):
            if key in t:
                table = t[key]
                conn.execute(update(table).where(table.c.professional == who.register_id)
                             .values(professional=who.professional))

    def check(self, conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
        return [
            *compare("balances.postings", rows(conn, t["postings"], "professional", "claim", "network", "kind",
                                               "activity_date", "recorded_us", "cents"),
                     Counter((p.professional, p.claim.hex, p.network, p.kind, p.activity_date, micros(p.recorded_at),
                              cents(p.points)) for p in r.postings)),
            *compare("balances.professionals", rows(conn, t["professionals"], "professional", "registered_on",
                                                    "recorded_us"),
                     Counter((k, v["registered_on"], micros(v["recorded_at"])) for k, v in r.professionals.items())),
            *compare("balances.themes", rows(conn, t["themes"], "network", "theme"),
                     Counter((k, theme) for k, n in r.networks.items() for theme in n.themes)),
            *check_policies("balances.policies", conn, t["policies"], r),
        ]


# --- queries ---------------------------------------------------------------------------


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
    tally = Tally.of_cents(conn.execute(
        select(
            postings.c.kind, postings.c.network, func.sum(postings.c.cents),
            func.sum(postings.c.cents).filter(postings.c.activity_date >= start),
        )
        .where(postings.c.professional == professional)
        .where(postings.c.activity_date <= at)
        .where(postings.c.recorded_us <= known_us)
        .group_by(postings.c.kind, postings.c.network)
    ).all())
    return statement(professional, at, known_at, tally, _themes(conn, t["themes"], tally.by_network),
                     recorded=registration.recorded_us <= known_us, cycle=(start, end), norm=terms.norm)


def _themes(conn: Connection, themes: Table, networks: Any) -> dict[str, list[str]]:
    """network → its themes, for `networks`, in theme order."""
    found: dict[str, list[str]] = {n: [] for n in networks}
    if found:
        for network, theme in conn.execute(select(themes.c.network, themes.c.theme)
                                           .where(themes.c.network.in_(sorted(found)))
                                           .order_by(themes.c.network, themes.c.theme)):
            found[network].append(theme)
    return found


def facts(conn: Connection, t: dict[str, Table], professional: str, at: date, known_at: datetime) -> dict[str, Any]:
    """What a credential states: P's balance (as `balance` gives it, the same computation as
    `studyledger balance P --at D --known-at T`) and, in the same read transaction, the postings of
    P's cycle up to D recorded by T, summed per claim. A claim approved and not revoked (as known at
    T) nets to its points; an approved and revoked one to zero and is left out. Their sum is the
    cycle figure of the balance."""
    shown = balance(conn, t, professional, at, known_at)
    evidence: list[dict[str, Any]] = []
    if shown["cycle"] is not None:
        postings = t["postings"]
        found = conn.execute(
            select(postings.c.claim, postings.c.network, postings.c.kind, postings.c.activity_date,
                   func.sum(postings.c.cents).label("cents"))
            .where(postings.c.professional == professional)
            .where(postings.c.activity_date >= date.fromisoformat(shown["cycle"]["start"]))
            .where(postings.c.activity_date <= at)
            .where(postings.c.recorded_us <= micros(known_at))
            .group_by(postings.c.claim, postings.c.network, postings.c.kind, postings.c.activity_date)
            .order_by(postings.c.activity_date, postings.c.claim)
        ).all()
        themes = _themes(conn, t["themes"], {r.network for r in found})
        for r in found:
            if r.cents > 0:
                evidence.append({
                    "claim": uuid_text(r.claim), "kind": r.kind, "network": r.network,
                    "themes": themes[r.network], "activity_date": r.activity_date.isoformat(),
                    "points": points_text(r.cents),
                })
    return {"professional": professional, "at": at.isoformat(), "known_at": known_at.isoformat(),
            "balance": shown, "evidence": evidence}
