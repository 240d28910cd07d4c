"""The memberships read model: networks, and every join and leave with its recording instant.

Queries: `members` of a network and the `network_map`, both at a date as known at an instant:
a membership covers a date by the joins and leaves recorded by then.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)

from domain.errors import UnknownNetwork
from domain.membership import Membership
from domain.network import Network
from projections.decode import DATA, value
from projections.model import Handler, Page, ReadModel, compare, rows, stamp
from projections.units import micros
from storage.readmodels import update_many

if TYPE_CHECKING:
    from projections.erasure import Erasure
    from projections.replay import Replay


def _registered(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.insert("networks", network=s["network_id"], name=s["name"], themes=",".join(sorted(s["themes"])),
                groups=",".join(sorted(s["groups"])), founded_on=value(s["founded_on"]), closed_on=None,
                recorded_us=stamp(s))


def _closed(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.updates.setdefault("networks", {})[s["network_id"]] = {"key": s["network_id"], "closed_on": value(s["on"])}


def _reopened(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.updates.setdefault("networks", {})[s["network_id"]] = {"key": s["network_id"], "closed_on": None}


def _change(joined: bool) -> Handler:
    def handle(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        # A row as a tuple in the table's column order, its date as the stored ISO text (Page.inserts).
        page.inserts["changes"].append(
            (position, s["network_id"], s["professional_id"], s["on"][DATA], joined, stamp(s)))

    return handle


def _restored(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    for on, joined in s["changes"]:
        page.inserts["changes"].append(
            (position, s["network_id"], s["professional_id"], on[DATA], joined, stamp(s)))


class Memberships(ReadModel):
    name = "memberships"
    handlers = {
        Network.Registered: _registered,
        Network.Closed: _closed,
        Network.Reopened: _reopened,
        Membership.Joined: _change(True),
        Membership.Rejoined: _change(True),
        Membership.Left: _change(False),
        Membership.LeaveCancelled: _change(True),  # the membership runs on from the day it was left
        Membership.Ended: _change(False),  # by a deregistration: no member from the day after it
        Membership.Restored: _restored,
    }
    people = {event_class: ("professional_id",) for event_class in (
        Membership.Joined, Membership.Rejoined, Membership.Left, Membership.LeaveCancelled, Membership.Ended,
        Membership.Restored)}

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        networks = Table(
            f"rm_networks{suffix}", metadata,
            Column("network", String(64), primary_key=True),
            Column("name", Text, nullable=False),
            Column("themes", Text, nullable=False),  # sorted, comma-separated ids
            Column("groups", Text, nullable=False),
            Column("founded_on", Date, nullable=False),
            Column("closed_on", Date),
            Column("recorded_us", BigInteger, nullable=False),
        )
        changes = Table(
            f"rm_membership_changes{suffix}", metadata,
            Column("position", BigInteger, nullable=False),
            Column("network", String(64), nullable=False),
            Column("professional", String(64), nullable=False),
            Column("on", Date, nullable=False),
            Column("joined", Boolean, nullable=False),
            Column("recorded_us", BigInteger, nullable=False),
        )
        Index(f"ix_membership_changes{suffix}", changes.c.network, changes.c.on)
        return {"networks": networks, "changes": changes}

    def new_page(self, tables: dict[str, Table]) -> Page:
        return NetworkPage(tables)

    def purge(self, conn: Connection, t: dict[str, Table], who: Erasure) -> None:
        """An erased member (SPEC §9): their joins and leaves stay, named as a replay now names them
        (member counts are unchanged; `network members` lists the placeholder)."""
        if "changes" in t:
            changes = t["changes"]
            conn.execute(update(changes).where(changes.c.professional == who.register_id)
                         .values(professional=who.professional))

    def check(self, conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
        return [
            *compare("memberships.networks", rows(conn, t["networks"], "network", "name", "themes", "groups",
                                                  "founded_on", "closed_on", "recorded_us"),
                     Counter((k, n.name, ",".join(sorted(n.themes)), ",".join(sorted(n.groups)), n.founded_on,
                              n.closed_on, micros(n.recorded_at)) for k, n in r.networks.items())),
            *compare("memberships.changes", rows(conn, t["changes"], "network", "professional", "on", "joined",
                                                 "recorded_us"),
                     Counter((c.network, c.professional, c.on, c.joined, micros(c.recorded_at)) for c in r.changes)),
        ]


class NetworkPage(Page):
    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        update_many(conn, self.tables["networks"], "network", ("closed_on",), [(r["closed_on"], r["key"]) for r in rows])


# --- queries ---------------------------------------------------------------------------


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
    found = conn.execute(
        select(networks)
        .where(networks.c.recorded_us <= micros(known_at))
        .where(networks.c.founded_on <= at)
        .order_by(networks.c.network)
    ).all()
    covered = _covered(conn, t["changes"], at, known_at, None)
    listed = []
    themes: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, list[str]] = defaultdict(list)
    for row in found:
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
