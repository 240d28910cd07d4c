"""What every read model is built of: its declaration, the page of row operations its handlers
fill, and the pieces two read models share (the policy versions) or all of them use (the row
comparisons of a check).

A read model is one module (`projections.balances`, `.memberships`, `.claims`) holding its
tables, its handlers keyed by domain event class, its queries and its check against the
replay. The stored topics it reads are derived from its handlers (`eventsourcing.utils.get_topic`),
so an event type is named one way on the read side: by its class.

A handler is called as `handler(page, state, aggregate, position)` with the event's raw state
(`projections.decode.raw_state`: the handler decodes only the tagged values it uses), the
aggregate id as hex and the event's position in the log. In an encrypted store (SPEC §9) the
person fields a read model declares in `people` come as register ids (or an erased person's
placeholder), as the mapper decodes them; the others are left as stored (pseudonyms, sealed texts). Dispatch is a dict lookup per topic
and page in the runner, not `singledispatchmethod`: the fast path dispatches undecoded states,
which have no class to dispatch on (the replay, which decodes events to objects, uses it).

Units (microseconds, cents) and how they are shown: `projections.units`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.utils import get_topic
from sqlalchemy import BigInteger, Column, Connection, Date, MetaData, Table, Text, select

from domain.policy import PolicyTerms, in_force, versions_known
from projections.decode import instant_us, roles, value
from projections.units import micros
from storage.readmodels import insert_many

if TYPE_CHECKING:
    from projections.erasure import Erasure
    from projections.replay import Replay

Handler = Callable[["Page", dict[str, Any], str, int], None]  # (page, raw state, aggregate id hex, position)


class ReadModel:
    """A named read model: its tables (with a generation suffix), its handlers by event class, its check."""

    name: ClassVar[str] = ""
    handlers: ClassVar[dict[type, Handler]] = {}
    routes: ClassVar[dict[str, Handler]] = {}  # stored topic → handler, derived from `handlers`
    # The person fields (SPEC §9) its handlers read, by event class: "actor", a field of
    # domain.personal.PEOPLE, or a request's "result". Only these are turned from pseudonyms into
    # register ids for them (ledger/personal.py); decoding every one cost a rebuild a sixth.
    people: ClassVar[dict[type, tuple[str, ...]]] = {}
    person_fields: ClassVar[dict[str, dict[str, str]]] = {}  # stored topic → field → role, from `people`

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.routes = {get_topic(event_class): handler for event_class, handler in cls.handlers.items()}
        assert cls.people.keys() <= cls.handlers.keys(), f"{cls.__name__}.people: events it has no handler for"
        cls.person_fields = {get_topic(c): roles(c, fields) for c, fields in cls.people.items()}

    @property
    def topics(self) -> list[str]:
        return list(self.routes)

    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        raise NotImplementedError

    def new_page(self, tables: dict[str, Table]) -> Page:
        return Page(tables)

    def check(self, conn: Connection, t: dict[str, Table], replay: Replay) -> list[str]:
        """Differences between the rows in `t` and what the replay of the same events gives."""
        raise NotImplementedError

    def purge(self, conn: Connection, t: dict[str, Table], who: Erasure) -> None:
        """Put an erased person's rows in `t` (the tables of one generation that exist) where a replay
        now gives them (projections.erasure)."""
        raise NotImplementedError


class Page:
    """Row operations for one page of events, applied in one transaction.

    Within a page, operations are grouped into one `executemany` per statement, in an order
    that gives the same result as applying the events one by one: deletes of rows from
    earlier pages, then inserts, then updates.
    """

    def __init__(self, tables: dict[str, Table]):
        self.tables = tables
        # table → its rows: dicts by column name, or (where a handler writes many) tuples in the
        # table's column order, dates as ISO text; one kind per table (storage.readmodels.insert_many)
        self.inserts: dict[str, list[Any]] = {name: [] for name in tables}
        self.updates: dict[str, dict[Any, dict[str, Any]]] = {}  # table → key → merged values
        self.deletes: dict[str, list[dict[str, Any]]] = {}

    def insert(self, table: str, **row: Any) -> dict[str, Any]:
        self.inserts[table].append(row)
        return row

    def flush(self, conn: Connection, backlog: Backlog | None = None) -> None:
        """Apply the page. With a `backlog` (a rebuild, whose tables are indexed only once they are
        filled), only the inserts are applied: the updates and deletes, which find their rows by key,
        are held in the backlog until the tables are indexed (`Backlog.apply`)."""
        if backlog is not None:
            backlog.take(self)
        else:
            for table, rows in self.deletes.items():
                if rows:
                    conn.execute(self._delete_statement(table), rows)
        for table, rows in self.inserts.items():
            if rows:
                insert_many(conn, self.tables[table], rows)
        if backlog is None:
            for table, by_key in self.updates.items():
                if by_key:
                    self._flush_updates(conn, table, list(by_key.values()))

    def _flush_updates(self, conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _delete_statement(self, table: str) -> Any:
        raise NotImplementedError


class Backlog:
    """A rebuild's updates and deletes of rows written by earlier pages, held until its tables are indexed.

    A rebuild fills tables without their indexes and builds those at the end: sorting once is far
    cheaper than keeping an index in order row by row, and the pages' commits then write only the
    rows (at 1M events, a claim's random key put 1.5 GB of index pages into SQLite's write-ahead log).
    A row written by an earlier page is found by its key, which without an index is a scan of the
    table for every such update or delete: quadratic in the register's size once claims are
    amended and decided days after they are submitted, as they are. So those operations wait here,
    merged as a page merges its own (an update's values onto the earlier ones for the same key, in
    order; a delete holds the position before which it removes rows), and are applied after the
    tables are indexed and every insert is in: the same rows as applying them page by page. Past
    `limit` held operations the runner indexes the tables at once, applies the backlog, drops the
    indexes again and holds anew: memory stays bounded however the events fall, and the rest of the
    load still writes only rows (keeping them indexed row by row made a 1M register whose claims are
    decided late rebuild in 3× the floor).
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.updates: dict[str, dict[Any, dict[str, Any]]] = {}
        self.deletes: dict[str, list[dict[str, Any]]] = {}
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size > self.limit

    def take(self, page: Page) -> None:
        for table, rows in page.deletes.items():
            self.deletes.setdefault(table, []).extend(rows)
            self.size += len(rows)
        for table, by_key in page.updates.items():
            held = self.updates.setdefault(table, {})
            for key, values in by_key.items():
                if key in held:
                    held[key].update(values)
                else:
                    held[key] = values
                    self.size += 1

    def apply(self, conn: Connection, page: Page) -> None:
        """Apply what is held through `page`, a new page of the read model's tables, then forget it."""
        page.deletes, page.updates = self.deletes, self.updates
        page.flush(conn)
        self.updates, self.deletes, self.size = {}, {}, 0


def stamp(state: dict[str, Any]) -> int:
    """The recording instant of a raw event state, in microseconds."""
    return instant_us(state["timestamp"])


# --- the policy versions: in the balances and the claims read models ----------------------


def policies_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("effective_from", Date, nullable=False),
        Column("recorded_us", BigInteger, nullable=False),
        Column("terms", Text, nullable=False),  # the stored terms, as JSON
    )


def on_policy(page: Page, s: dict[str, Any], oid: str, position: int) -> None:
    """Policy.Adopted and Policy.Cancelled: the version with its terms; a cancelled one with terms `null`."""
    page.insert("policies", effective_from=value(s["effective_from"]), recorded_us=stamp(s),
                terms=json.dumps(s.get("terms"), sort_keys=True))


def policy_terms(conn: Connection, policies: Table, on: date, known_at: datetime) -> PolicyTerms:
    """The terms in force on `on` by the versions recorded ≤ known_at."""
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


def check_policies(label: str, conn: Connection, table: Table, r: Replay) -> list[str]:
    stored = Counter((row.effective_from, row.recorded_us, json.dumps(json.loads(row.terms), sort_keys=True))
                     for row in conn.execute(select(table)))
    expected = Counter((day, micros(at), json.dumps(terms.to_state() if terms else None, sort_keys=True))
                       for at, day, terms in r.policies)
    return compare(label, stored, expected)


# --- checks: a read model's rows against the replay, as multisets of row tuples ------------


def rows(conn: Connection, table: Table, *columns: str) -> Counter:
    return Counter(tuple(row) for row in conn.execute(select(*(table.c[c] for c in columns))))


def compare(label: str, stored: Counter, expected: Counter) -> list[str]:
    problems = []
    for row in sorted(stored - expected, key=repr)[:5]:
        problems.append(f"{label}: the read model has {row}, which the events do not give")
    for row in sorted(expected - stored, key=repr)[:5]:
        problems.append(f"{label}: the events give {row}, which the read model lacks")
    return problems
