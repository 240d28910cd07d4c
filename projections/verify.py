"""`projections verify`: every read model compared row for row with a fresh in-memory replay.

The replay (`projections.replay.Replay`) decodes events through the library's own mapper
and folds them with code of its own, so a fault in the projections' fast decoder or
handlers shows up as a difference. Each check is a pure function from (read-model rows,
replay) to a list of problems; they are listed in CHECKS.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, select

from projections.replay import Replay
from projections.runner import Inconsistent, ReadModels, rm_state
from projections.views import PROJECTIONS, cents, micros

Rows = Counter  # a multiset of normalised row tuples


def _rows(conn: Connection, table: Table, *columns: str) -> Rows:
    return Counter(tuple(row) for row in conn.execute(select(*(table.c[c] for c in columns))))


def _compare(label: str, stored: Rows, expected: Rows) -> list[str]:
    problems = []
    for row in sorted(stored - expected, key=repr)[:5]:
        problems.append(f"{label}: the read model has {row}, which the events do not give")
    for row in sorted(expected - stored, key=repr)[:5]:
        problems.append(f"{label}: the events give {row}, which the read model lacks")
    return problems


def check_balances(conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
    return [
        *_compare("balances.postings", _rows(conn, t["postings"], "professional", "claim", "network", "kind",
                                             "activity_date", "recorded_us", "cents"),
                  Counter((p.professional, p.claim.hex, p.network, p.kind, p.activity_date, micros(p.recorded_at),
                           cents(p.points)) for p in r.postings)),
        *_compare("balances.professionals", _rows(conn, t["professionals"], "professional", "registered_on", "recorded_us"),
                  Counter((k, v["registered_on"], micros(v["recorded_at"])) for k, v in r.professionals.items())),
        *_compare("balances.themes", _rows(conn, t["themes"], "network", "theme"),
                  Counter((k, theme) for k, n in r.networks.items() for theme in n.themes)),
        *_check_policies("balances.policies", conn, t["policies"], r),
    ]


def _check_policies(label: str, conn: Connection, table: Table, r: Replay) -> list[str]:
    stored = Counter((row.effective_from, row.recorded_us, json.dumps(json.loads(row.terms), sort_keys=True))
                     for row in conn.execute(select(table)))
    expected = Counter((day, micros(at), json.dumps(terms.to_state() if terms else None, sort_keys=True))
                       for at, day, terms in r.policies)
    return _compare(label, stored, expected)


def check_memberships(conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
    return [
        *_compare("memberships.networks", _rows(conn, t["networks"], "network", "name", "themes", "groups",
                                                "founded_on", "closed_on", "recorded_us"),
                  Counter((k, n.name, ",".join(sorted(n.themes)), ",".join(sorted(n.groups)), n.founded_on,
                           n.closed_on, micros(n.recorded_at)) for k, n in r.networks.items())),
        *_compare("memberships.changes", _rows(conn, t["changes"], "network", "professional", "on", "joined", "recorded_us"),
                  Counter((c.network, c.professional, c.on, c.joined, micros(c.recorded_at)) for c in r.changes)),
    ]


def check_claims(conn: Connection, t: dict[str, Table], r: Replay) -> list[str]:
    claim_columns = ("claim", "professional", "network", "kind", "activity_date", "hours", "description", "outcome",
                     "practice_change", "status", "cents", "submitted_us")
    stored_claims = Counter(
        tuple(str(_decimal(v)) if c == "hours" else v for c, v in zip(claim_columns, row))
        for row in conn.execute(select(*(t["claims"].c[c] for c in claim_columns)))
    )
    expected_claims = Counter(
        (k.hex, c["professional"], c["network"], c["kind"], c["activity_date"], str(_decimal(c["hours"])),
         c["description"], c["outcome"], c["practice_change"], c["status"],
         cents(c["points"]) if c["points"] is not None else None, micros(c["submitted_at"]))
        for k, c in r.claims.items()
    )
    return [
        *_compare("claims.claims", stored_claims, expected_claims),
        *_compare("claims.endorsements", _rows(conn, t["endorsements"], "claim", "by", "statement", "recorded_us"),
                  Counter((k.hex, by, statement, micros(at)) for k, by, statement, at in r.endorsements)),
        *_compare("claims.decisions", _rows(conn, t["decisions"], "claim", "decision", "by", "text", "cents", "changes",
                                            "recorded_us"),
                  Counter((d["claim"].hex, d["decision"], d["by"], d.get("text"),
                           cents(d["points"]) if "points" in d else None,
                           ",".join(d["changes"]) if "changes" in d else None, micros(d["recorded_at"]))
                          for d in r.decisions)),
        *_check_policies("claims.policies", conn, t["policies"], r),
        *_compare("claims.keys", _rows(conn, t["keys"], "claim", "request_id"),
                  Counter((k.hex, key) for k, key in r.requests.items())),
        *_compare("claims.directory", _rows(conn, t["directory"], "role", "id", "name", "group"),
                  Counter([("professional", k, None, v["group"]) for k, v in r.professionals.items()]
                          + [("network", k, n.name, None) for k, n in r.networks.items()])),
    ]


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(value).normalize()


# What folding events that were changed, moved or removed outside the ledger raises (a claim approved
# before it was submitted: KeyError); storage errors are none of these.
UNREPLAYABLE: tuple[type[BaseException], ...] = (LookupError, AssertionError, TypeError, ValueError, AttributeError)

CHECKS: dict[str, Callable[[Connection, dict[str, Table], Replay], list[str]]] = {
    "balances": check_balances,
    "memberships": check_memberships,
    "claims": check_claims,
}
assert set(CHECKS) == set(PROJECTIONS), "every projection has a check"


def verify(models: ReadModels, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Catch up, then compare every projection with a replay of the same events.

    Always a verdict: a projection whose bookkeeping cannot be trusted, or events that cannot be
    replayed in their stored order, are problems found, not failures of the check. `progress(n)`
    is told of every n events replayed."""
    from ledger.audit import counted

    names = list(PROJECTIONS)
    with models.locked(names):
        models.ensure()
        head = models.horizon()
        untrusted = list(models.problems(names, head).values())
        if not untrusted:
            try:
                position = models.catch_up_locked(names)["head"]
            except Inconsistent as error:  # found while applying: rows already there
                untrusted = [error]
        if untrusted:
            return {"ok": False, "position": head, "projections": names,
                    "problems": [f"{error.name}: its bookkeeping is inconsistent ({error.detail}); "
                                 f"run 'studyledger projections rebuild {error.name}'" for error in untrusted]}
        assert all(p == position for _, p in models.state().values()), "a catch-up leaves all at one position"
        try:
            replay = Replay.of(counted(models.log.all_events(stop=position), progress))
        except UNREPLAYABLE as error:
            return {"ok": False, "position": position, "projections": names,
                    "problems": [f"the events cannot be replayed in their stored order ({type(error).__name__}: "
                                 f"{(str(error).splitlines() or [''])[0][:200]}); they were changed outside the "
                                 "ledger: run 'studyledger audit verify'"]}
        problems: list[str] = []
        with models.engine.connect() as conn, conn.begin():
            generations = dict(conn.execute(select(rm_state.c.name, rm_state.c.generation)).all())
            for name, check in CHECKS.items():
                problems += check(conn, models.tables(name, generations[name]), replay)
    return {"ok": not problems, "position": position, "projections": list(PROJECTIONS), "problems": problems}
