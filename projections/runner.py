"""Keeping the read models up to date: status, catch-up, rebuild — one pass over the log.

Each projection has a row in `rm_state` (name, generation, position). Its tables carry the
generation as a suffix (`rm_postings_g2`). A page of events is applied to every projection
that needs it, and the rows and the new positions are committed in one transaction: a
crash never applies an event twice or skips one.

A rebuild replays from the first event into the tables of the next generation and then
switches `rm_state` to it in one transaction, so readers see the old or the new complete
read model. The generation before the current one is kept until the next rebuild (a
reader that looked up the old generation just before the switch can still finish), then
dropped. A killed rebuild leaves the current generation untouched; the next rebuild
drops what it left and starts again.

Only one catch-up or rebuild of a projection runs at a time: an advisory lock (a file lock
beside the SQLite file; `pg_try_advisory_lock` on PostgreSQL) that a second invocation
fails to take at once.

The bookkeeping is checked before it is trusted. `rm_applied` records, for each generation's
tables, the position they have applied, written in the same transaction as `rm_state` (and
the rows). A position in `rm_state` that disagrees with it (rewound, advanced, or the row
gone while the tables hold rows), or that lies beyond the last event of the log (events
deleted), or rows that collide with rows already there, make the projection `Inconsistent`:
nothing is applied or answered from it, and a rebuild sets it right. A store made before
`rm_applied` existed has its `rm_state` positions taken as they are, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from projections.decode import event_name, raw_state
from projections.views import PROJECTIONS, Projection
from storage.errors import Conflict, StorageFailure
from storage.eventlog import EventLog
from storage.locks import exclusive
from storage.readmodels import duplicate, make_engine, page_transaction

PAGE_SIZE = 5000

STATE = MetaData()
rm_state = Table(
    "rm_state", STATE,
    Column("name", String(32), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
)
rm_applied = Table(  # the position each generation's tables have applied: rm_state's witness
    "rm_applied", STATE,
    Column("name", String(32), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)


class Inconsistent(StorageFailure):
    """A projection's bookkeeping disagrees with its tables or with the log: it cannot be trusted."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"The {name} read model's bookkeeping is inconsistent ({detail}), so it was neither "
                         f"read nor advanced: run 'studyledger projections rebuild {name}'.")
        self.name = name
        self.detail = detail


@dataclass
class Target:
    """One projection being advanced: into which generation's tables, from which position."""

    projection: Projection
    generation: int
    position: int
    tables: dict[str, Table]


class ReadModels:
    """The read models of one store."""

    def __init__(self, log: EventLog, engine: Engine | None = None):
        self.log = log
        self.engine = engine or make_engine(log.store)
        self._tables: dict[tuple[str, int], dict[str, Table]] = {}
        self._complete: set[tuple[str, int]] = set()  # (name, generation) whose tables all exist

    def close(self) -> None:
        self.engine.dispose()

    # --- tables and state --------------------------------------------------------

    def tables(self, name: str, generation: int) -> dict[str, Table]:
        key = (name, generation)
        if key not in self._tables:
            self._tables[key] = PROJECTIONS[name].tables(MetaData(), f"_g{generation}")
        return self._tables[key]

    def _create(self, name: str, generation: int, *, indexes: bool = True) -> dict[str, Table]:
        """Create a generation's tables; a rebuild adds their secondary indexes after loading."""
        tables = self.tables(name, generation)
        with self.engine.begin() as conn:
            for table in tables.values():
                conn.execute(CreateTable(table, if_not_exists=True))
            if indexes:
                self._index(conn, tables)
        return tables

    @staticmethod
    def _index(conn: Connection, tables: dict[str, Table]) -> None:
        for table in tables.values():
            for index in table.indexes:
                index.create(conn, checkfirst=True)

    def _drop(self, name: str, generation: int) -> None:
        tables = self.tables(name, generation)
        metadata = next(iter(tables.values())).metadata
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
        self._tables.pop((name, generation), None)

    def ensure(self) -> None:
        """Create the state table and generation 1 of every projection not yet set up (idempotent)."""
        with self.engine.begin() as conn:
            STATE.create_all(conn)
        known = self.state()
        for name in PROJECTIONS:
            if name in known or self._was_set_up(name):
                continue  # one set up before whose rm_state row is gone: `check` says so, a rebuild restarts it
            self._create(name, 1)
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(rm_state).values(name=name, generation=1, position=0))
                    conn.execute(insert(rm_applied).values(name=name, generation=1, position=0))
            except IntegrityError:
                pass  # another process set it up at the same moment

    def _was_set_up(self, name: str) -> bool:
        """Whether `name` has applied events before: a position recorded, or rows in its first tables."""
        with self.engine.connect() as conn:
            if conn.execute(select(rm_applied.c.generation).where(rm_applied.c.name == name).limit(1)).first():
                return True
            found = inspect(conn)
            return any(found.has_table(table.name)
                       and conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
                       for table in self.tables(name, 1).values())

    def bookkeeping(self) -> dict[str, tuple[int, int, int | None]]:
        """name → (generation, position, the position its tables' witness records, or None if none)."""
        joined = rm_state.outerjoin(rm_applied, and_(rm_applied.c.name == rm_state.c.name,
                                                     rm_applied.c.generation == rm_state.c.generation))
        with self.engine.connect() as conn:
            rows = conn.execute(select(rm_state.c.name, rm_state.c.generation, rm_state.c.position,
                                       rm_applied.c.position).select_from(joined)).all()
        return {name: (generation, position, applied) for name, generation, position, applied in rows}

    def problems(self, names: Sequence[str], head: int) -> dict[str, Inconsistent]:
        """The projections among `names` whose bookkeeping cannot be trusted, with why (`head`: the log's last
        position). A generation without a witness (a store made before it existed) gets one from rm_state."""
        book = self.bookkeeping()
        found: dict[str, Inconsistent] = {}
        for name in names:
            if name not in book:
                found[name] = Inconsistent(name, "its tables hold rows but no position is recorded for them")
                continue
            generation, position, applied = book[name]
            if applied is None:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(rm_applied).values(name=name, generation=generation, position=position))
                except IntegrityError:
                    pass  # another process did the same at the same moment
                applied = position
            if applied != position:
                found[name] = Inconsistent(name, f"its position is {position}, but its tables have applied the log "
                                                 f"up to {applied}")
            elif position > head:
                found[name] = Inconsistent(name, f"it has applied the log up to position {position}, but the log ends "
                                                 f"at {head}: events were removed from it")
            elif (missing := self._missing_table(name, generation)) is not None:
                found[name] = Inconsistent(name, f"its table {missing} is missing: it was built by an earlier version")
        return found

    def _missing_table(self, name: str, generation: int) -> str | None:
        """A table of the generation that does not exist (a read model built before the table was added:
        only a rebuild fills it), or None. Checked once per generation and process."""
        if (name, generation) in self._complete:
            return None
        with self.engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
        missing = [t.name for t in self.tables(name, generation).values() if t.name not in present]
        if not missing:
            self._complete.add((name, generation))
        return missing[0] if missing else None

    def state(self) -> dict[str, tuple[int, int]]:
        """name → (generation, position)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("rm_state"):
                return {}
            rows = conn.execute(select(rm_state.c.name, rm_state.c.generation, rm_state.c.position)).all()
        return {name: (generation, position) for name, generation, position in rows}

    def head(self) -> int:
        return self.log.head()

    def horizon(self) -> int:
        """The last position up to which every event is committed: where a catch-up may stop (storage.eventlog)."""
        return self.log.horizon()

    def status(self) -> dict[str, Any]:
        head = self.head()
        state = self.state()
        return {
            "head": head,
            "projections": [
                {"name": name, "generation": state[name][0], "position": state[name][1],
                 "lag": max(0, head - state[name][1])}
                for name in PROJECTIONS if name in state
            ],
        }

    def _names(self, name: str | None) -> list[str]:
        if name is None:
            return list(PROJECTIONS)
        if name not in PROJECTIONS:
            from ledger.errors import InvalidInput

            raise InvalidInput(f"There is no projection '{name}'; the projections are {', '.join(PROJECTIONS)}.")
        return [name]

    # --- locks -------------------------------------------------------------------

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the projection's lock, or raise Busy at once."""
        return exclusive(self.log.store, self.engine, name,
                         f"A catch-up or rebuild of the {name} projection is already running; this one did nothing.")

    @contextmanager
    def locked(self, names: Sequence[str]) -> Iterator[None]:
        """Hold the locks of all `names` (each at once, or Busy)."""
        with ExitStack() as stack:
            for name in names:
                stack.enter_context(self.exclusive(name))
            yield

    # --- catch-up and rebuild ----------------------------------------------------

    def catch_up(self, name: str | None = None) -> dict[str, Any]:
        """Apply new events to the projections (all, or `name`); raises Busy if one is running."""
        names = self._names(name)
        with self.locked(names):
            return self.catch_up_locked(names)

    def catch_up_locked(self, names: Sequence[str], stopped: Callable[[], bool] = lambda: False) -> dict[str, Any]:
        """`catch_up` for a caller that holds the locks of `names`; `stopped()` ends it after a page."""
        self.ensure()
        stop = self.horizon()
        problems = self.problems(names, stop)
        if problems:
            raise next(iter(problems.values()))
        state = self.state()
        targets = [Target(PROJECTIONS[n], state[n][0], state[n][1], self.tables(n, state[n][0])) for n in names]
        before = {t.projection.name: t.position for t in targets}
        head = self._advance(targets, stop, stopped=stopped)
        return {"head": head, "applied": {t.projection.name: t.position - before[t.projection.name] for t in targets}}

    def rebuild(self, name: str | None = None, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Replay every event into fresh tables, then switch readers over in one transaction."""
        names = self._names(name)
        with self.locked(names):
            self.ensure()
            state = self.state()
            targets = []
            for n in names:
                # A projection whose rm_state row is gone continues from the newest generation on record.
                current = state[n][0] if n in state else max(self._generations(n), default=1)
                for stale in (current - 1, current + 1):  # the generation before, and a killed rebuild's
                    if stale >= 1:
                        self._drop(n, stale)
                # Secondary indexes are built once the rows are in: sorting once is far cheaper
                # than keeping a large index in order row by row.
                targets.append(Target(PROJECTIONS[n], current + 1, 0, self._create(n, current + 1, indexes=False)))
            head = self._advance(targets, self.horizon(), progress=progress, tracked=False)
            with self.engine.begin() as conn:
                for target in targets:
                    self._index(conn, target.tables)
            with self.engine.begin() as conn:
                for target in targets:
                    name = target.projection.name
                    done = conn.execute(
                        update(rm_state)
                        .where(rm_state.c.name == name)
                        .values(generation=target.generation, position=target.position)
                    )
                    if done.rowcount == 0:  # its row was gone (see `problems`)
                        conn.execute(insert(rm_state).values(name=name, generation=target.generation,
                                                             position=target.position))
                    conn.execute(delete(rm_applied).where(rm_applied.c.name == name))
                    conn.execute(insert(rm_applied).values(name=name, generation=target.generation,
                                                           position=target.position))
        return {"head": head, "rebuilt": names}

    def _generations(self, name: str) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(rm_applied.c.generation).where(rm_applied.c.name == name)).scalars())

    def _advance(
        self,
        targets: list[Target],
        stop: int,
        progress: Callable[[int], None] | None = None,
        tracked: bool = True,
        stopped: Callable[[], bool] = lambda: False,
    ) -> int:
        """Apply events after each target's position up to `stop`, a page per transaction; return the position reached.

        `stopped()` is asked after each page: a worker told to stop ends between two pages.

        `tracked`: write each page's position to rm_state (catch-up); a rebuild keeps its
        position in memory and writes it when it switches generations.
        """
        start = min((t.position for t in targets), default=stop)
        topics = sorted({topic for t in targets for topic in self._topics(t.projection)})
        position = start
        while position < stop:
            last = min(stop, position + PAGE_SIZE)
            rows = self.log.page(position, last, topics)
            pages = [(t, t.projection.new_page(t.tables)) for t in targets]
            # topic → the (target, page, handler) that apply it: looked up once per topic and page,
            # not once per event and projection.
            routes: dict[str, list[tuple[Target, Any, Callable[..., None]]]] = {}
            for notification_id, originator_id, topic, stored_state in rows:
                route = routes.get(topic)
                if route is None:
                    name = event_name(topic)
                    route = routes[topic] = [(target, page, target.projection.handlers[name])
                                             for target, page in pages if name in target.projection.handlers]
                aggregate = originator_id if type(originator_id) is str else originator_id.hex
                state = None
                for target, page, handler in route:
                    if notification_id <= target.position:
                        continue
                    if state is None:
                        state = raw_state(stored_state)
                    handler(page, state, aggregate, notification_id)
            with page_transaction(self.engine) as conn:
                for target, page in pages:
                    if tracked and target.position < last:
                        self._witness(conn, target, last)
                    try:
                        page.flush(conn)
                    except Exception as error:
                        if not (tracked and duplicate(error)):
                            raise
                        # Rows of events it says it has not applied: they would be applied twice.
                        raise Inconsistent(target.projection.name, f"events after position {target.position} "
                                                                   "collide with rows it already holds") from None
                    if tracked and target.position < last:
                        if not _move(conn, rm_state, target, last):
                            raise Conflict(f"The {target.projection.name} projection was changed by another process; "
                                           "nothing was applied. Safe to retry.")
            for target in targets:
                target.position = max(target.position, last)
            if progress is not None:
                progress(last - position)
            position = last
            if stopped():
                break
        return position

    @staticmethod
    def _witness(conn: Connection, target: Target, last: int) -> None:
        """Move the target's rm_applied position on to `last`, in the page's transaction; it must stand
        where rm_state says the target stands."""
        if not _move(conn, rm_applied, target, last):
            raise Inconsistent(target.projection.name, f"its position is {target.position}, which its tables' "
                                                       "record does not confirm")

    _topic_cache: dict[str, list[str]] = {}

    def _topics(self, projection: Projection) -> list[str]:
        if projection.name not in self._topic_cache:
            self._topic_cache[projection.name] = [TOPICS[name] for name in projection.handlers]
        return self._topic_cache[projection.name]


def _move(conn: Connection, table: Table, target: Target, last: int) -> bool:
    """Move the target's position row in `table` (rm_state or rm_applied) from where the target
    stands on to `last`; False when the row does not stand there (someone else moved it)."""
    done = conn.execute(
        update(table)
        .where(table.c.name == target.projection.name)
        .where(table.c.generation == target.generation)
        .where(table.c.position == target.position)
        .values(position=last)
    )
    return done.rowcount == 1


def _topics() -> dict[str, str]:
    """Event name (`Claim.Approved`) → stored topic (`domain.claim:Claim.Approved`)."""
    from eventsourcing.utils import get_topic

    from domain.claim import Claim
    from domain.membership import Membership
    from domain.network import Network
    from domain.policy import Policy
    from domain.professional import Professional
    from ledger.requests import Request

    classes = [
        Claim.Submitted, Claim.Endorsed, Claim.Amended, Claim.Withdrawn, Claim.Approved, Claim.Rejected,
        Claim.Returned, Claim.Revoked, Membership.Joined, Membership.Rejoined, Membership.Left,
        Membership.LeaveCancelled, Membership.Ended, Membership.Restored,
        Network.Registered, Network.Closed, Network.Reopened, Policy.Adopted, Policy.Cancelled, Professional.Registered,
        Request.Recorded,
    ]
    return {event_name(get_topic(cls)): get_topic(cls) for cls in classes}


TOPICS = _topics()

