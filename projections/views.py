"""The read models: for each, its tables and a dispatcher from stored events to rows.

A projection reads a page of stored events, turns each into row operations held in a
`Page`, and writes the page — rows and its new position — in one transaction (see
`projections.runner`). Within a page, operations are grouped into one `executemany` per
statement, in an order that gives the same result as applying the events one by one:
deletes of rows from earlier pages, then inserts, then updates.

Times are stored as integer microseconds since the epoch (UTC) and points as integer
cents, so sums and comparisons are exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

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
    bindparam,
    delete,
    func,
    update,
)

from projections.decode import value
from storage.readmodels import insert_many

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(instant: datetime) -> int:
    """An aware instant as integer microseconds since the epoch."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def stamp(state: dict[str, Any]) -> int:
    """The recording instant of a raw event state, in microseconds."""
    return micros(value(state["timestamp"]))


def cents(amount: Decimal) -> int:
    hundredfold = amount * 100
    assert hundredfold == hundredfold.to_integral_value(), f"points have at most two decimals: {amount}"
    return int(hundredfold)


Handler = Callable[["Page", dict[str, Any], str, int], None]  # (page, raw state, aggregate id hex, position)


class Projection:
    """A named read model: its tables (with a generation suffix) and its event handlers."""

    name: str = ""
    handlers: dict[str, Handler] = {}

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        raise NotImplementedError

    def new_page(self, tables: dict[str, Table]) -> Page:
        return Page(tables)


class Page:
    """Row operations for one page of events, applied in one transaction."""

    def __init__(self, tables: dict[str, Table]):
        self.tables = tables
        self.inserts: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        self.updates: dict[str, dict[Any, dict[str, Any]]] = {}  # table → key → merged values
        self.deletes: dict[str, list[dict[str, Any]]] = {}

    def insert(self, table: str, **row: Any) -> dict[str, Any]:
        self.inserts[table].append(row)
        return row

    def flush(self, conn: Connection) -> None:
        for table, rows in self.deletes.items():
            if rows:
                conn.execute(self._delete_statement(table), rows)
        for table, rows in self.inserts.items():
            if rows:
                insert_many(conn, self.tables[table], rows)
        for table, by_key in self.updates.items():
            if by_key:
                self._flush_updates(conn, table, list(by_key.values()))

    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _delete_statement(self, table: str) -> Any:
        raise NotImplementedError


# --- balances: postings with both times, and what a balance needs beside them -----------


class Balances(Projection):
    name = "balances"

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
        policies = _policies_table(metadata, f"rm_balance_policies{suffix}")
        return {"postings": postings, "professionals": professionals, "themes": themes, "policies": policies}

    def _approved(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        _post(page, s, oid, position, cents(value(s["points"])))

    def _revoked(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        _post(page, s, oid, position, -cents(value(s["points"])))

    def _registered(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        page.insert("professionals", professional=s["professional_id"], registered_on=value(s["registered_on"]),
                    recorded_us=stamp(s))

    def _network(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        for theme in s["themes"]:
            page.insert("themes", network=s["network_id"], theme=theme)

    handlers = {
        "Claim.Approved": _approved,
        "Claim.Revoked": _revoked,
        "Professional.Registered": _registered,
        "Network.Registered": _network,
        "Policy.Adopted": lambda page, s, oid, position: _policy(page, s),
        "Policy.Cancelled": lambda page, s, oid, position: _policy(page, s),
    }


def _post(page: Page, s: dict[str, Any], oid: str, position: int, amount: int) -> None:
    page.insert(
        "postings", position=position, professional=s["professional_id"], claim=oid, network=s["network_id"],
        kind=s["kind"], activity_date=value(s["activity_date"]), recorded_us=stamp(s), cents=amount,
    )


def _policies_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("effective_from", Date, nullable=False),
        Column("recorded_us", BigInteger, nullable=False),
        Column("terms", Text, nullable=False),  # the stored terms, as JSON
    )


def _policy(page: Page, s: dict[str, Any]) -> None:
    """An adopted version with its terms; a cancelled one with terms `null`."""
    import json

    page.insert("policies", effective_from=value(s["effective_from"]), recorded_us=stamp(s),
                terms=json.dumps(s.get("terms"), sort_keys=True))


# --- memberships: networks, and every join and leave with its recording instant ----------


class Memberships(Projection):
    name = "memberships"

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
            page.insert("changes", position=position, network=s["network_id"], professional=s["professional_id"],
                        on=value(s["on"]), joined=joined, recorded_us=stamp(s))

        return handle

    def _restored(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        for on, joined in s["changes"]:
            page.insert("changes", position=position, network=s["network_id"], professional=s["professional_id"],
                        on=value(on), joined=joined, recorded_us=stamp(s))

    handlers = {
        "Network.Registered": _registered,
        "Network.Closed": _closed,
        "Network.Reopened": _reopened,
        "Membership.Joined": _change(True),
        "Membership.Rejoined": _change(True),
        "Membership.Left": _change(False),
        "Membership.LeaveCancelled": _change(True),  # the membership runs on from the day it was left
        "Membership.Ended": _change(False),  # by a deregistration: no member from the day after it
        "Membership.Restored": _restored,
    }


class NetworkPage(Page):
    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        networks = self.tables["networks"]
        statement = update(networks).where(networks.c.network == bindparam("key")).values(
            closed_on=bindparam("closed_on", type_=Date()))
        conn.execute(statement, rows)


# --- claims: the review queue and claim summaries ----------------------------------------

CLAIM_FIELDS = ("kind", "activity_date", "hours", "description", "outcome", "practice_change")


class Claims(Projection):
    name = "claims"

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        claims = Table(
            f"rm_claims{suffix}", metadata,
            Column("claim", String(32), primary_key=True),
            Column("professional", String(64), nullable=False),
            Column("network", String(64), nullable=False),
            Column("kind", String(20), nullable=False),
            Column("activity_date", Date, nullable=False),
            Column("hours", String(16), nullable=False),
            Column("description", Text, nullable=False),
            Column("outcome", Text, nullable=False),
            Column("practice_change", Text),
            Column("status", String(12), nullable=False),
            Column("cents", BigInteger),
            Column("submitted_us", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
        )
        Index(f"ix_claims_status{suffix}", claims.c.status, claims.c.submitted_us)
        endorsements = Table(
            f"rm_endorsements{suffix}", metadata,
            Column("claim", String(32), nullable=False),
            Column("by", String(64), nullable=False),
            Column("statement", Text, nullable=False),
            Column("recorded_us", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
        )
        Index(f"ix_endorsements{suffix}", endorsements.c.claim)
        decisions = Table(
            f"rm_decisions{suffix}", metadata,
            Column("claim", String(32), nullable=False),
            Column("decision", String(12), nullable=False),
            Column("by", String(64), nullable=False),
            Column("text", Text),
            Column("cents", BigInteger),
            Column("changes", Text),
            Column("recorded_us", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
        )
        Index(f"ix_decisions{suffix}", decisions.c.claim)
        policies = _policies_table(metadata, f"rm_claim_policies{suffix}")
        # What a reviewer finds claims by: the --request-id a claim was submitted with, the claimant's
        # professional group and the network's name. No person's name: names are personal data (SPEC §9),
        # kept out of the read models and read from the ledger when a claim is shown.
        keys = Table(
            f"rm_claim_keys{suffix}", metadata,
            Column("claim", String(32), primary_key=True),
            Column("request_id", Text, nullable=False),
        )
        directory = Table(
            f"rm_claim_directory{suffix}", metadata,
            Column("role", String(12), primary_key=True),  # professional | network
            Column("id", String(64), primary_key=True),
            Column("name", Text),  # a network's name (a professional's: None)
            Column("group", String(64)),  # a professional's group (a network has several: None)
        )
        return {"claims": claims, "endorsements": endorsements, "decisions": decisions, "policies": policies,
                "keys": keys, "directory": directory}

    def new_page(self, tables: dict[str, Table]) -> Page:
        return ClaimPage(tables)

    def _submitted(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        assert isinstance(page, ClaimPage)
        page.new_claims[oid] = page.insert(
            "claims", claim=oid, professional=s["professional_id"], network=s["network_id"], kind=s["kind"],
            activity_date=value(s["activity_date"]), hours=str(value(s["hours"])), description=s["description"],
            outcome=s["outcome"], practice_change=s["practice_change"], status="submitted", cents=None,
            submitted_us=stamp(s), position=position,
        )

    def _endorsed(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        page.insert("endorsements", claim=oid, by=s["by"], statement=s["statement"],
                    recorded_us=stamp(s), position=position)

    def _amended(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
        assert isinstance(page, ClaimPage)
        changes = {k: (str(value(v)) if k == "hours" else value(v)) for k, v in s["changes"].items()}
        page.set_claim(oid, status="submitted", **changes)
        if s["endorsements_cleared"]:
            page.clear_endorsements(oid)
        _decision(page, s, oid, position, "amended", changes=",".join(sorted(changes)))

    def _status(status: str, text_key: str | None = None, sign: int = 0) -> Handler:
        def handle(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
            assert isinstance(page, ClaimPage)
            amount = cents(value(s["points"])) if sign else None
            values: dict[str, Any] = {"status": status}
            if sign > 0:
                values["cents"] = amount
            page.set_claim(oid, **values)
            _decision(page, s, oid, position, status, text=s.get(text_key) if text_key else None,
                      cents=amount * sign if amount is not None else None)

        return handle

    handlers = {
        "Claim.Submitted": _submitted,
        "Claim.Endorsed": _endorsed,
        "Claim.Amended": _amended,
        "Claim.Withdrawn": _status("withdrawn"),
        "Claim.Approved": _status("approved", "rationale", +1),
        "Claim.Rejected": _status("rejected", "reason"),
        "Claim.Returned": _status("returned", "reason"),
        "Claim.Revoked": _status("revoked", "reason", -1),
        "Policy.Adopted": lambda page, s, oid, position: _policy(page, s),
        "Policy.Cancelled": lambda page, s, oid, position: _policy(page, s),
        "Request.Recorded": lambda page, s, oid, position: _request(page, s),
        "Professional.Registered": lambda page, s, oid, position: page.insert(
            "directory", role="professional", id=s["professional_id"], name=None, group=s["group"]),
        "Network.Registered": lambda page, s, oid, position: page.insert(
            "directory", role="network", id=s["network_id"], name=s["name"], group=None),
    }


def _request(page: Page, s: dict[str, Any]) -> None:
    """The key a claim was submitted with (other commands' keys name no claim of their own)."""
    if s["command"] == "claim submit":
        page.insert("keys", claim=s["result"]["claim"].replace("-", ""), request_id=s["request_id"])


def _decision(page: Page, s: dict[str, Any], oid: str, position: int, decision: str, *,
              text: str | None = None, cents: int | None = None, changes: str | None = None) -> None:
    page.insert("decisions", claim=oid, decision=decision, by=s["actor"], text=text, cents=cents,
                changes=changes, recorded_us=stamp(s), position=position)


class ClaimPage(Page):
    def __init__(self, tables: dict[str, Table]):
        super().__init__(tables)
        self.new_claims: dict[str, dict[str, Any]] = {}
        self.deletes["endorsements"] = []

    def set_claim(self, claim: str, **values: Any) -> None:
        """Set columns of a claim: in its insert row if it is new in this page, else as an update."""
        row = self.new_claims.get(claim)
        if row is not None:
            row.update(values)
        else:
            self.updates.setdefault("claims", {}).setdefault(claim, {"key": claim}).update(values)

    def clear_endorsements(self, claim: str) -> None:
        self.inserts["endorsements"] = [r for r in self.inserts["endorsements"] if r["claim"] != claim]
        if claim not in self.new_claims:
            self.deletes["endorsements"].append({"key": claim})

    def _delete_statement(self, table: str) -> Any:
        endorsements = self.tables["endorsements"]
        return delete(endorsements).where(endorsements.c.claim == bindparam("key"))

    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        claims = self.tables["claims"]
        # One statement shape for all rows: every settable column, NULL meaning "keep as is"
        # (no handler ever sets one of them to NULL).
        settable = ("status", "cents", *CLAIM_FIELDS)
        values = {c: func.coalesce(bindparam(f"v_{c}", type_=claims.c[c].type), claims.c[c]) for c in settable}
        statement = update(claims).where(claims.c.claim == bindparam("key")).values(**values)
        conn.execute(statement, [{"key": r["key"], **{f"v_{c}": r.get(c) for c in settable}} for r in rows])


PROJECTIONS: dict[str, Projection] = {p.name: p for p in (Balances(), Memberships(), Claims())}

