"""The claims read model: the review queue and claim summaries.

Tables: claims with their current status, endorsements, decisions, the policy versions, the
--request-id each claim was submitted with, and a directory of what a reviewer finds claims by
(a professional's group, a network's name; no person's name: names are personal data, SPEC §9,
read from the ledger when a claim is shown). Queries: `review_queue`, `claim_list`, `claim`.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Connection, Date, Index, MetaData, String, Table, Text, bindparam, delete
from sqlalchemy import select, update

from domain.claim import Claim
from domain.network import Network
from domain.policy import Policy
from domain.professional import Professional
from ledger.requests import Request
from projections.decode import DATA, instant_us, points_cents, value
from projections.model import (
    Handler,
    Page,
    ReadModel,
    check_policies,
    compare,
    on_policy,
    policies_table,
    rows,
)
from projections.units import cents, micros
from storage.readmodels import update_many

if TYPE_CHECKING:
    from projections.erasure import Erasure
    from projections.replay import Replay

CLAIM_FIELDS = ("kind", "activity_date", "hours", "description", "outcome", "practice_change")
TEXTS = ("description", "outcome", "practice_change")  # kept sealed in an encrypted store
# Decisions a reviewer takes (their `by` is a reviewer, their text the reviewer's); the others
# (withdrawn, amended) are the claimant's.
REVIEWERS_DECISIONS = ("approved", "rejected", "returned", "revoked")


# The hot handlers append their rows to the page directly (no call per row): a claim's as a dict (a
# later event of the same page may change it), the others' as tuples in their table's column order
# (Page.inserts). They read tagged values directly: a date or an amount is always tagged as the
# transcoder writes it, a date as the ISO text the read models store.

def _submitted(page: ClaimPage, s: dict[str, Any], oid: str, position: int) -> None:
    row = page.new_claims[oid] = {
        "claim": oid, "professional": s["professional_id"], "network": s["network_id"], "kind": s["kind"],
        "activity_date": s["activity_date"][DATA], "hours": s["hours"][DATA],  # str(Decimal(text)) == text
        "description": s["description"], "outcome": s["outcome"], "practice_change": s["practice_change"],
        "status": "submitted", "cents": None, "submitted_us": instant_us(s["timestamp"]), "position": position,
    }
    page.inserts["claims"].append(row)


def _endorsed(page: ClaimPage, s: dict[str, Any], oid: str, position: int) -> None:
    page.inserts["endorsements"].append((oid, s["by"], s["statement"], instant_us(s["timestamp"]), position))


def _amended(page: ClaimPage, s: dict[str, Any], oid: str, position: int) -> None:
    changes = {k: (str(value(v)) if k == "hours" else value(v)) for k, v in s["changes"].items()}
    page.set_claim(oid, {"status": "submitted", **changes})
    if s["endorsements_cleared"]:
        page.clear_endorsements(oid, position)
    _decision(page, s, oid, position, "amended", None, None, ",".join(sorted(changes)))


def _status(status: str, text_key: str | None = None, sign: int = 0) -> Handler:
    def handle(page: ClaimPage, s: dict[str, Any], oid: str, position: int) -> None:
        if sign:
            amount = points_cents(s["points"])
            page.set_claim(oid, {"status": status, "cents": amount} if sign > 0 else {"status": status})
            _decision(page, s, oid, position, status, s.get(text_key) if text_key else None, amount * sign, None)
        else:
            page.set_claim(oid, {"status": status})
            _decision(page, s, oid, position, status, s.get(text_key) if text_key else None, None, None)

    return handle  # type: ignore[return-value]


def _decision(page: Page, s: dict[str, Any], oid: str, position: int, decision: str, text: str | None,
              cents: int | None, changes: str | None) -> None:
    page.inserts["decisions"].append(
        (oid, decision, s["actor"], text, cents, changes, instant_us(s["timestamp"]), position))


def _request(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    """The key a claim was submitted with (other commands' keys name no claim of their own). Its first
    result, which names the claim, is sealed with the claimant's key: gone (None) once they are erased."""
    if s["command"] == "claim submit" and s["result"] is not None:
        page.inserts["keys"].append((s["result"]["claim"].replace("-", ""), s["request_id"]))


def _professional(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.insert("directory", role="professional", id=s["professional_id"], name=None, group=s["group"])


def _network(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    page.insert("directory", role="network", id=s["network_id"], name=s["name"], group=None)


class Claims(ReadModel):
    name = "claims"
    handlers = {
        Claim.Submitted: _submitted,
        Claim.Endorsed: _endorsed,
        Claim.Amended: _amended,
        Claim.Withdrawn: _status("withdrawn"),
        Claim.Approved: _status("approved", "rationale", +1),
        Claim.Rejected: _status("rejected", "reason"),
        Claim.Returned: _status("returned", "reason"),
        Claim.Revoked: _status("revoked", "reason", -1),
        Policy.Adopted: on_policy,
        Policy.Cancelled: on_policy,
        Request.Recorded: _request,
        Professional.Registered: _professional,
        Network.Registered: _network,
    }
    people = {  # the person fields its handlers read (SPEC §9); a decision's `by` is its actor
        Claim.Submitted: ("professional_id",), Claim.Endorsed: ("by",), Request.Recorded: ("result",),
        Professional.Registered: ("professional_id",),
        **{c: ("actor",) for c in (Claim.Amended, Claim.Withdrawn, Claim.Approved, Claim.Rejected, Claim.Returned,
                                   Claim.Revoked)},
    }

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        claims = Table(
            f"rm_claims{suffix}", metadata,
            Column("claim", String(32), nullable=False),
            Column("professional", String(64), nullable=False),
            Column("network", String(64), nullable=False),
            Column("kind", String(20), nullable=False),
            Column("activity_date", Date, nullable=False),
            Column("hours", String(16), nullable=False),
            Column("description", Text),  # the claimant's texts: NULL once they are erased (SPEC §9)
            Column("outcome", Text),
            Column("practice_change", Text),
            Column("status", String(12), nullable=False),
            Column("cents", BigInteger),
            Column("submitted_us", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
        )
        # The keys are unique indexes, not primary keys, so that a rebuild builds them after loading
        # (projections.model.Backlog); they refuse a second row for a claim all the same.
        Index(f"ux_claims{suffix}", claims.c.claim, unique=True)
        Index(f"ix_claims_status{suffix}", claims.c.status, claims.c.submitted_us)
        endorsements = Table(
            f"rm_endorsements{suffix}", metadata,
            Column("claim", String(32), nullable=False),
            Column("by", String(64), nullable=False),
            Column("statement", Text),  # NULL once the endorser is erased
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
        policies = policies_table(metadata, f"rm_claim_policies{suffix}")
        keys = Table(
            f"rm_claim_keys{suffix}", metadata,
            Column("claim", String(32), nullable=False),
            Column("request_id", Text, nullable=False),
        )
        Index(f"ux_claim_keys{suffix}", keys.c.claim, unique=True)
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

    def purge(self, conn: Connection, t: dict[str, Table], who: Erasure) -> None:
        """An erased person (SPEC §9), as a replay now gives them: named by their placeholder as claimant,
        endorser, reviewer or in the directory; their own texts NULL; their claims' --request-ids gone."""
        gone, professional, reviewer = who.register_id, who.professional, who.reviewer
        if "keys" in t and "claims" in t:
            keys, claims = t["keys"], t["claims"]
            conn.execute(delete(keys).where(keys.c.claim.in_(select(claims.c.claim).where(claims.c.professional == gone))))
        if "claims" in t:
            claims = t["claims"]
            conn.execute(update(claims).where(claims.c.professional == gone).values(
                professional=professional, description=None, outcome=None, practice_change=None))
        if "endorsements" in t:
            endorsements = t["endorsements"]
            conn.execute(update(endorsements).where(endorsements.c.by == gone).values(by=professional, statement=None))
        if "decisions" in t:
            decisions = t["decisions"]
            reviewers = decisions.c.decision.in_(REVIEWERS_DECISIONS)
            conn.execute(update(decisions).where(decisions.c.by == gone).where(reviewers).values(by=reviewer, text=None))
            conn.execute(update(decisions).where(decisions.c.by == gone).where(~reviewers)
                         .values(by=professional, text=None))
        if "directory" in t:
            directory = t["directory"]
            conn.execute(update(directory).where(directory.c.role == "professional").where(directory.c.id == gone)
                         .values(id=professional))

    def check(self, conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
        columns = ("claim", "professional", "network", "kind", "activity_date", "hours", "description", "outcome",
                   "practice_change", "status", "cents", "submitted_us")
        o = r.open_text  # texts are kept sealed: compared as they read
        stored_claims = Counter(
            tuple(str(_decimal(v)) if c == "hours" else o(v) if c in TEXTS else v for c, v in zip(columns, row))
            for row in conn.execute(select(*(t["claims"].c[c] for c in columns)))
        )
        expected_claims = Counter(
            (k.hex, c["professional"], c["network"], c["kind"], c["activity_date"], str(_decimal(c["hours"])),
             c["description"], c["outcome"], c["practice_change"], c["status"],
             cents(c["points"]) if c["points"] is not None else None, micros(c["submitted_at"]))
            for k, c in r.claims.items()
        )
        return [
            *compare("claims.claims", stored_claims, expected_claims),
            *compare("claims.endorsements", _opened(rows(conn, t["endorsements"], "claim", "by", "statement",
                                                         "recorded_us"), 2, o),
                     Counter((k.hex, by, statement, micros(at)) for k, by, statement, at in r.endorsements)),
            *compare("claims.decisions", _opened(rows(conn, t["decisions"], "claim", "decision", "by", "text", "cents",
                                                      "changes", "recorded_us"), 3, o),
                     Counter((d["claim"].hex, d["decision"], d["by"], d.get("text"),
                              cents(d["points"]) if "points" in d else None,
                              ",".join(d["changes"]) if "changes" in d else None, micros(d["recorded_at"]))
                             for d in r.decisions)),
            *check_policies("claims.policies", conn, t["policies"], r),
            *compare("claims.keys", rows(conn, t["keys"], "claim", "request_id"),
                     Counter((k.hex, key) for k, key in r.requests.items())),
            *compare("claims.directory", rows(conn, t["directory"], "role", "id", "name", "group"),
                     Counter([("professional", k, None, v["group"]) for k, v in r.professionals.items()]
                             + [("network", k, n.name, None) for k, n in r.networks.items()])),
        ]


def _opened(stored: Counter, index: int, open_text: Any) -> Counter:
    """Rows as counted, with the sealed text at `index` opened."""
    opened: Counter = Counter()
    for row, n in stored.items():
        opened[(*row[:index], open_text(row[index]), *row[index + 1:])] += n
    return opened


def _decimal(amount: Any) -> Decimal:
    return Decimal(amount).normalize()


class ClaimPage(Page):
    def __init__(self, tables: dict[str, Table]):
        super().__init__(tables)
        self.new_claims: dict[str, dict[str, Any]] = {}
        self.deletes["endorsements"] = []

    def set_claim(self, claim: str, values: dict[str, Any]) -> None:
        """Set columns of a claim: in its insert row if it is new in this page, else as an update."""
        row = self.new_claims.get(claim)
        if row is not None:
            row.update(values)
        else:
            self.updates.setdefault("claims", {}).setdefault(claim, {"key": claim}).update(values)

    def clear_endorsements(self, claim: str, position: int) -> None:
        """The claim's endorsements recorded before `position` are gone: this page's, and earlier pages'
        by their position (a delete held in a rebuild's backlog leaves the endorsements given after it)."""
        rows = self.inserts["endorsements"]
        rows[:] = [r for r in rows if r[0] != claim]  # (claim, by, …)
        if claim not in self.new_claims:
            self.deletes["endorsements"].append({"key": claim, "before": position})

    def _delete_statement(self, table: str) -> Any:
        endorsements = self.tables["endorsements"]
        return (delete(endorsements).where(endorsements.c.claim == bindparam("key"))
                .where(endorsements.c.position < bindparam("before")))

    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        # One statement shape for all rows: every settable column, NULL meaning "keep as is"
        # (no handler sets one of them to NULL; an erased claimant's amended texts come as None,
        # and what they keep is theirs too: NULL since the erasure).
        settable = ("status", "cents", *CLAIM_FIELDS)
        update_many(conn, self.tables["claims"], "claim", settable,
                    [(*(r.get(c) for c in settable), r["key"]) for r in rows], keep_nulls=True)

