"""Keeping the read models up to date: status, catch-up, rebuild — one pass over the log.

A page of events is applied to every read model that needs it, and the rows and the new
positions (`projections.bookkeeping`) are committed in one transaction: a crash never applies
an event twice or skips one.

A rebuild replays from the first event into the tables of the next generation
(`projections.generations`) and then switches `rm_state` to it in one transaction, so readers
see the old or the new complete read model. The generation before the current one is kept
until the next rebuild (a reader that looked it up just before the switch can still finish),
then dropped. A killed rebuild leaves the current generation untouched; the next drops its rest.

Only one catch-up or rebuild of a read model runs at a time: a lock (`storage.locks`) that a
second invocation fails to take at once.

Kept our own, not the library's `ProjectionRunner`, `Projection` and tracking recorders
(eventsourcing 9.5), because they cost the rebuild bar (SPEC §7: ≤ 2× the floor): they hand a
projection decoded domain events, one per call, with a tracking write each. On one 20,000-event
SQLite store, reading `select_notifications` pages, decoding every event with the mapper and
dispatching it with `singledispatch`, writing no row, took 3.4× the floor; this runner's whole
rebuild 2.05×. So pages are read as raw rows (`EventLog.page`), decoded by `projections.decode`,
dispatched by topic to each read model's handlers and written with their positions a page per
transaction (`projections.bookkeeping`: the library's tracking idea, in our tables). The library's
SQLite recorder has no `subscribe()`: `projections.worker` polls there and LISTENs on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from projections.bookkeeping import Bookkeeping, Inconsistent
from projections.decode import state_reader
from projections.generations import Generations
from projections.model import Backlog, ReadModel
from projections.registry import PROJECTIONS
from storage.bulk import fewer_collections
from storage.errors import Conflict
from storage.eventlog import EventLog
from storage.locks import exclusive
from storage.readmodels import duplicate, make_engine, page_transaction, writing

PAGE_SIZE = 5000
BACKLOG_LIMIT = 100_000  # updates and deletes a rebuild holds until its tables are indexed (about 40 MB)


@dataclass
class Target:
    """One read model being advanced: into which generation's tables, from which position."""

    projection: ReadModel
    generation: int
    position: int
    tables: dict[str, Table]
    backlog: Backlog | None = None  # a rebuild's: its tables get their indexes once filled (model.Backlog)


class ReadModels:
    """The read models of one store."""

    def __init__(self, log: EventLog, engine: Engine | None = None):
        self.log = log
        self.engine = engine or make_engine(log.store)
        self.generations = Generations(self.engine)
        self.books = Bookkeeping(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- where they stand --------------------------------------------------------

    def tables(self, name: str, generation: int) -> dict[str, Table]:
        return self.generations.tables(name, generation)

    def state(self) -> dict[str, tuple[int, int]]:
        """name → (generation, position)."""
        return self.books.state()

    def problems(self, names: Sequence[str], head: int) -> dict[str, Inconsistent]:
        return self.books.problems(names, head, self.generations)

    def ensure(self) -> None:
        """Create the state tables and generation 1 of every read model not yet set up (idempotent)."""
        self.books.create()
        known = self.state()
        for name in PROJECTIONS:
            if name in known or self.books.generations(name) or self.generations.holds_rows(name, 1):
                continue  # one set up before whose rm_state row is gone: `problems` says so, a rebuild restarts it
            self.generations.create(name, 1)
            self.books.start(name)

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

    @staticmethod
    def _names(name: str | None) -> list[str]:
        if name is None:
            return list(PROJECTIONS)
        if name not in PROJECTIONS:
            raise KeyError(name)  # the CLI checks names first (cli/projections.py)
        return [name]

    # --- locks -------------------------------------------------------------------

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the read model's lock, or raise Busy at once."""
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
        """Apply new events to the read models (all, or `name`); raises Busy if one is running."""
        names = self._names(name)
        with self.locked(names):
            return self.catch_up_locked(names)

    def catch_up_to_read(self, name: str | None = None) -> dict[str, Any]:
        """`catch_up` for a read: without the lock and horizon when there is nothing to apply.

        Every read command starts with a catch-up; on PostgreSQL the lock and horizon were most of a read's
        time (benchmarks/README.md, "PostgreSQL's reads"). An operator's `projections catch-up` still takes
        the lock, so that a second run exits 3 while one runs (SPEC §4) even when there is nothing to do."""
        return self._settled(self._names(name)) or self.catch_up(name)

    def _settled(self, names: Sequence[str]) -> dict[str, Any] | None:
        """A catch-up's answer without its lock and horizon, when there is nothing to do: every read model
        of `names` set up, its witness agreeing with its position, its tables all there, and its position at
        the log's last committed event. Else None: the locked path decides (and says what is wrong).

        Safe because a position is only ever set below the horizon, so every id up to it is settled: an
        event committed after the head was read is one this read does not see, as if it had started a
        moment earlier, and an event still in flight is above the position and not visible either."""
        try:
            book = self.books.standing()
        except (OperationalError, ProgrammingError):
            return None  # no bookkeeping tables yet, or a store that cannot be read: the locked path sets up or says
        head = self.head()
        for name in names:
            if name not in book:
                return None
            generation, position, applied = book[name]
            if applied != position or position != head or self.generations.missing_table(name, generation):
                return None
        return {"head": head, "applied": {name: 0 for name in names}}

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
        with self.locked(names), fewer_collections():
            self.ensure()
            state = self.state()
            targets = []
            for n in names:
                # A read model whose rm_state row is gone continues from the newest generation on record.
                current = state[n][0] if n in state else max(self.books.generations(n), default=1)
                for stale in (current - 1, current + 1):  # the generation before, and a killed rebuild's
                    if stale >= 1:
                        self.generations.drop(n, stale)
                tables = self.generations.create(n, current + 1, indexes=False)
                targets.append(Target(PROJECTIONS[n], current + 1, 0, tables, Backlog(BACKLOG_LIMIT)))
            head = self._advance(targets, self.horizon(), progress=progress, tracked=False)
            with writing(self.engine) as conn:
                for target in targets:
                    self._index(conn, target)
            with writing(self.engine) as conn:
                for target in targets:
                    self.books.switch(conn, target)
        return {"head": head, "rebuilt": names}

    def _index(self, conn: Connection, target: Target) -> None:
        """Build a rebuilt generation's indexes, then apply what its backlog holds."""
        self.generations.index(conn, target.tables)
        if target.backlog is not None:
            target.backlog.apply(conn, target.projection.new_page(target.tables))

    def _advance(
        self,
        targets: list[Target],
        stop: int,
        progress: Callable[[int], None] | None = None,
        tracked: bool = True,
        stopped: Callable[[], bool] = lambda: False,
    ) -> int:
        """Apply events after each target's position up to `stop`, a page per transaction; return the position reached.

        `stopped()` is asked after each page: a worker told to stop ends between two pages. `tracked`: write
        each page's position to rm_state (catch-up); a rebuild keeps it in memory until it switches generations.
        """
        start = min((t.position for t in targets), default=stop)
        topics = sorted({topic for t in targets for topic in t.projection.topics})
        # An encrypted store's people (ledger/personal.py): each topic's state is read with only the
        # person fields its read models read turned into register ids (projections.decode.state_reader).
        people = getattr(self.log.mapper, "people", None)
        readers: dict[str, Callable[[bytes], dict[str, Any]]] = {}
        for topic in topics:
            fields: dict[str, str] = {}
            for t in targets:
                fields.update(t.projection.person_fields.get(topic, {}))
            readers[topic] = state_reader(people, fields)
        position = start
        while position < stop:
            last = min(stop, position + PAGE_SIZE)
            self.log.refresh_people()  # a key cached before an erasure decodes nothing after it
            rows = self.log.page(position, last, topics)
            pages = [(t, t.projection.new_page(t.tables)) for t in targets]
            # topic → how its state is read and the (page, handler) pairs that apply it: looked up
            # once per topic and page, not once per event and read model. Where every target stands
            # at `position` (a rebuild, and most catch-ups), no event is one a target already holds.
            even = all(t.position <= position for t in targets)
            routes: dict[str, tuple[Callable[[bytes], dict[str, Any]], tuple[tuple[Any, Any, int], ...]]] = {}
            for notification_id, originator_id, topic, stored_state in rows:
                route = routes.get(topic)
                if route is None:
                    route = routes[topic] = (readers[topic], tuple(
                        (page, target.projection.routes[topic], target.position)
                        for target, page in pages if topic in target.projection.routes))
                read, handlers = route
                aggregate = originator_id if type(originator_id) is str else originator_id.hex
                if even:
                    state = read(stored_state)
                    for page, handler, _ in handlers:
                        handler(page, state, aggregate, notification_id)
                    continue
                state = None
                for page, handler, applied in handlers:
                    if notification_id <= applied:
                        continue
                    if state is None:
                        state = read(stored_state)
                    handler(page, state, aggregate, notification_id)
            with page_transaction(self.engine) as conn:
                for target, page in pages:
                    moves = tracked and target.position < last
                    if moves:
                        self.books.advance(conn, target, last)
                    try:
                        page.flush(conn, target.backlog)
                        if target.backlog is not None and target.backlog.full:
                            self._index(conn, target)  # then on without the indexes, holding anew
                            self.generations.unindex(conn, target.tables)
                    except Exception as error:
                        if not (tracked and duplicate(error)):
                            raise
                        # Rows of events it says it has not applied: they would be applied twice.
                        raise Inconsistent(target.projection.name, f"events after position {target.position} "
                                                                   "collide with rows it already holds") from None
                    if moves and not self.books.move(conn, target, last):
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
