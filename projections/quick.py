"""A read from the shell without SQLAlchemy or the event store's library: `balance` when its
read model has nothing left to apply.

A read command catches its read model up first (projections.reader), and then the answer is
a few SELECTs; but opening the read models the usual way imports SQLAlchemy and the library
(about 0.3 s, a hundred times the query). So a read first asks, through the driver alone
(sqlite3, psycopg) and inside one read transaction: is the projection's bookkeeping sound,
and would the events after its position (a few, read and decoded here) leave this answer
unchanged — none of them P's own, a policy's, or a network's that the answer counts? Only
then does it answer here, from the same transaction: the answer a catch-up would have given.
Anything else — events that matter, many events, bookkeeping to check or repair, a store
that is missing, locked, read-only or failing — returns None, and the caller takes the
usual path, which catches up, explains, or fails as it always has.

The answer is the one `projections.queries.balance` gives, field for field: a test compares
the two on generated registers (tests/projections/test_quick.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.config import Store

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PENDING_MAX = 200  # events not applied yet that a quick read looks through; beyond, it catches up
# The stored topics each projection applies (projections.views handlers → runner.TOPICS); a test
# keeps this list equal to the runner's.
TOPICS = {
    "balances": (
        "domain.claim:Claim.Approved", "domain.claim:Claim.Revoked", "domain.professional:Professional.Registered",
        "domain.network:Network.Registered", "domain.policy:Policy.Adopted", "domain.policy:Policy.Cancelled",
    ),
}


def fold_postings(rows: Any) -> tuple[dict[str, int], dict[str, int], int, int]:
    """(cents by kind, cents by network, total, in the cycle) from balance rows of (kind, network,
    cents, cents in the cycle): shared by this fast path and `projections.queries.balance`."""
    by_kind: dict[str, int] = defaultdict(int)
    by_network: dict[str, int] = defaultdict(int)
    total = in_cycle = 0
    for kind, network, cents, cycle_cents in rows:
        by_kind[kind] += cents
        by_network[network] += cents
        total += cents
        in_cycle += cycle_cents or 0
    return by_kind, by_network, total, in_cycle


def balance(store: Store, professional: str, at: date | None = None, known_at: datetime | None = None,
            now: datetime | None = None) -> dict[str, Any] | None:
    """P's balance as `projections.queries.balance` gives it, or None: take the usual path."""
    now = now or datetime.now(timezone.utc)
    at = at or now.date()
    known_at = known_at or now
    with _Connection.open(store) as conn:
        if conn is None:
            return None
        found = conn.current("balances")
        if found is None:
            return None
        generation, pending = found
        # Events not applied yet change P's balance only if they are P's own (its registration, its
        # claims' decisions), a policy version (everyone's), or the registration of a network
        # whose themes the answer counts (checked below, once those networks are known).
        networks = set()
        for name, state in pending:
            if name.startswith("Policy.") or state.get("professional_id") == professional:
                return None
            if name == "Network.Registered":
                networks.add(state["network_id"])
        result = _balance(conn, f"_g{generation}", professional, at, known_at)
        if result is None or networks.intersection(result["by_network"]):
            return None
        return result


def _balance(conn: _Connection, suffix: str, professional: str, at: date, known_at: datetime) -> dict[str, Any] | None:
    from domain.policy import PolicyTerms, in_force, versions_known
    from domain.values import cycle_containing, format_points

    known_us = micros(known_at)
    registration = conn.one(f"SELECT registered_on, recorded_us FROM rm_professionals{suffix} WHERE professional = ?",
                            professional)
    if registration is None:
        return None  # the usual path says it is unknown, in its own words
    registered_on, registered_us = conn.day(registration[0]), registration[1]
    entries = []
    for effective_from, terms in conn.all(f"SELECT effective_from, terms FROM rm_balance_policies{suffix} "
                                          "WHERE recorded_us <= ? ORDER BY recorded_us", known_us):
        state = json.loads(terms)
        day = conn.day(effective_from)
        entries.append((day, PolicyTerms.from_state(day, state) if state is not None else None))
    terms = in_force(versions_known(entries), at)
    start, end = cycle_containing(registered_on, at, terms.cycle_years)
    rows = conn.all(
        f"SELECT kind, network, SUM(cents), SUM(cents) FILTER (WHERE activity_date >= ?) FROM rm_postings{suffix} "
        "WHERE professional = ? AND activity_date <= ? AND recorded_us <= ? GROUP BY kind, network",
        conn.date(start), professional, conn.date(at), known_us,
    )
    by_kind, by_network, total, in_cycle = fold_postings(rows)
    by_theme: dict[str, int] = defaultdict(int)
    if by_network:
        networks = sorted(by_network)
        marks = ", ".join("?" * len(networks))
        for network, theme in conn.all(f"SELECT network, theme FROM rm_network_themes{suffix} "
                                       f"WHERE network IN ({marks})", *networks):
            by_theme[theme] += by_network[network]
    norm_cents = int(terms.norm * 100)

    def shown(cents: int | None) -> str:
        return format_points(Decimal(cents or 0) / 100)

    return {
        "professional": professional,
        "at": at.isoformat(),
        "known_at": known_at.isoformat(),
        "total": shown(total),
        "recorded": registered_us <= known_us,
        "cycle": None if registered_us > known_us else {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": shown(in_cycle),
            "norm": format_points(terms.norm),
            "shortfall": shown(max(0, norm_cents - in_cycle)),
        },
        "by_kind": {k: shown(by_kind[k]) for k in sorted(by_kind)},
        "by_network": {k: shown(by_network[k]) for k in sorted(by_network)},
        "by_theme": {k: shown(by_theme[k]) for k in sorted(by_theme)},
    }


def micros(instant: datetime) -> int:
    """An aware instant as integer microseconds since the epoch (as projections.views stores it)."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _Connection:
    """One read transaction through the bare driver; `?` parameter marks on both engines."""

    def __init__(self, store: Store, raw: Any):
        self.store = store
        self.raw = raw
        self.cursor = raw.cursor()
        self.postgres = store.engine == "postgresql"

    @classmethod
    def open(cls, store: Store) -> _Guard:
        return _Guard(store)

    def execute(self, sql: str, *params: Any) -> Any:
        if self.postgres:
            sql = sql.replace("?", "%s")
        self.cursor.execute(sql, params)
        return self.cursor

    def one(self, sql: str, *params: Any) -> Any:
        return self.execute(sql, *params).fetchone()

    def all(self, sql: str, *params: Any) -> list[Any]:
        return self.execute(sql, *params).fetchall()

    def date(self, day: date) -> Any:
        return day if self.postgres else day.isoformat()  # SQLite holds dates as ISO text (see views)

    @staticmethod
    def day(stored: Any) -> date:
        return stored if isinstance(stored, date) else date.fromisoformat(stored)

    def current(self, name: str) -> tuple[int, list[tuple[str, dict[str, Any]]]] | None:
        """The projection's generation and the events after its position that it applies (name, raw state),
        if its bookkeeping is sound and those are few; else None."""
        if self.postgres:
            schema = self.store.settings.get("POSTGRES_SCHEMA") or "public"
            table, column = f'"{schema}".studyledger_events', "notification_id"
        else:
            table, column = "stored_events", "rowid"
        row = self.one("SELECT s.generation, s.position, a.position FROM rm_state s JOIN rm_applied a "
                       "ON a.name = s.name AND a.generation = s.generation WHERE s.name = ?", name)
        if row is None:
            return None
        generation, position, applied = row
        head = self.one(f"SELECT MAX({column}) FROM {table}")[0] or 0
        if applied != position or position > head:
            return None  # the usual path says what is wrong
        pending: list[tuple[str, dict[str, Any]]] = []
        if position < head:
            from projections.decode import event_name, raw_state

            topics = TOPICS[name]
            marks = ", ".join("?" * len(topics))
            rows = self.all(f"SELECT topic, state FROM {table} WHERE {column} > ? AND topic IN ({marks}) "
                            f"ORDER BY {column} LIMIT {PENDING_MAX + 1}", position, *topics)
            if len(rows) > PENDING_MAX:
                return None  # many events to apply: the usual path catches up
            pending = [(event_name(topic), raw_state(state)) for topic, state in rows]
        return generation, pending


class _Guard:
    """`with _Connection.open(store) as conn`: conn is None when the quick path cannot be taken."""

    def __init__(self, store: Store):
        self.store = store
        self.raw: Any = None

    def __enter__(self) -> _Connection | None:
        try:
            if self.store.path is not None:
                import sqlite3

                if not self.store.path.exists():
                    return None
                # Read-only and without waiting: a locked or unwritable store takes the usual path.
                self.raw = sqlite3.connect(f"file:{self.store.path}?mode=ro", uri=True, timeout=0,
                                           isolation_level=None)
                self.raw.execute("BEGIN")
            else:
                import psycopg

                s = self.store.settings
                options = f"-csearch_path={s['POSTGRES_SCHEMA']}" if s.get("POSTGRES_SCHEMA") else None
                self.raw = psycopg.connect(
                    dbname=s["POSTGRES_DBNAME"], host=s["POSTGRES_HOST"], port=s["POSTGRES_PORT"],
                    user=s["POSTGRES_USER"], password=s["POSTGRES_PASSWORD"] or None,
                    connect_timeout=int(s["POSTGRES_CONNECT_TIMEOUT"]), options=options,
                )
                self.raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return _Connection(self.store, self.raw)
        except Exception:  # noqa: BLE001 - whatever it is, the usual path meets it again and reports it
            self.close()
            return None

    def __exit__(self, kind: Any, error: Any, trace: Any) -> bool:
        self.close()
        return kind is not None and _driver_error(error)

    def close(self) -> None:
        if self.raw is not None:
            try:
                self.raw.rollback()
                self.raw.close()
            except Exception:  # noqa: BLE001 - a read transaction: nothing to lose
                pass
            self.raw = None


def _driver_error(error: BaseException) -> bool:
    """A database error on the quick path (say, a table a rebuild just dropped): take the usual path."""
    import sqlite3

    if isinstance(error, sqlite3.Error):
        return True
    psycopg = __import__("sys").modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.Error)
