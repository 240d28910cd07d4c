"""The event log seam: everything the ledger, the read models and the audit read from or write to
the stored events beyond the library's own repository.

`EventLog` wraps the library application's recorder (the sealing recorders of storage.sqlite and
storage.postgres) and mapper. The engine-neutral parts are here; each engine's subclass gives
its table, its cursors and what only it can do (a horizon, LISTEN, the import transaction).

    head()                          the last position written
    horizon()                       the last position up to which every event is committed
    page(after, upto, topics)       (position, aggregate id, topic, state) tuples of a range of positions
    notifications(stop, topics)     the library's notifications, paged, in log order
    all_events(stop, topics)        the same, decoded to domain events
    stored(topics)                  (aggregate UUID, version, topic, state) of every event of `topics`
    chain(upto), seals(upto)        event rows and seals as stored, for the chain check
    chain_head()                    the last position holding an event or a seal
    import_transaction()            one transaction for a whole import: insert pages, read aggregates back
    listen(tick)                    a function that waits up to `tick` s for a sign of new events
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from storage.config import Store
from storage.errors import StorageFailure

PAGE = 5000  # rows read per transaction by the chain check


class EventLog(ABC):
    notifies = False  # whether a commit wakes a listener (PostgreSQL's NOTIFY) or it must poll

    # Set by each engine's subclass: the events table as SQL names it, its position column,
    # the seals table, and the driver's parameter marker.
    table: str
    column: str
    seals_table: str
    marker: str

    def __init__(self, store: Store, application: Any):
        self.store = store
        self.recorder = application.recorder
        self.mapper = application.mapper
        # The library closes an application's recorder when the application is collected: the log
        # keeps it, so that `ReadModels(open_ledger(store).event_log)` does not read a closed pool.
        self._application = application

    @property
    def unprotect(self) -> Callable[..., Any] | None:
        """In an encrypted store, the mapper's `unprotect(topic, raw state, texts)`: people by register id,
        texts opened if asked (ledger/personal.py); None in a store made before SPEC §9."""
        return self.mapper.unprotect if getattr(self.mapper, "people", None) is not None else None

    def open_text(self, text: str | None) -> str | None:
        """A free text as a read model keeps it, opened: sealed in an encrypted store (None once its author
        is erased), plain in a store made before SPEC §9."""
        people = getattr(self.mapper, "people", None)
        return people.open(text) if people is not None and text is not None else text

    def refresh_people(self) -> None:
        """In an encrypted store, drop cached keys if somebody was erased since they were read."""
        people = getattr(self.mapper, "people", None)
        if people is not None:
            people.refresh()

    @abstractmethod
    def keystore(self) -> Any:
        """The store's key store (storage.keystore.KeyStore), whether or not it has the tables."""

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def notifications(self, stop: int | None = None, topics: Sequence[str] = (), size: int = 1000) -> Iterator[Any]:
        """Every stored event (of `topics`, up to position `stop`) as the library's notification, in log order."""
        start = 1
        while True:
            page = self.recorder.select_notifications(start, size, stop=stop, topics=topics)
            yield from page
            if len(page) < size:
                return
            start = page[-1].id + 1

    def all_events(self, stop: int | None = None, topics: Sequence[str] = (), size: int = 1000) -> Iterator[Any]:
        """`notifications`, decoded by the library's mapper."""
        return map(self.mapper.to_domain_event, self.notifications(stop, topics, size))

    def _page_sql(self, topics: Sequence[str]) -> str:
        # A page is a range of positions, not a LIMIT: on a freshly imported PostgreSQL table without
        # statistics, "ORDER BY … LIMIT" was planned as a scan of everything after the page.
        table, column, marker = self.table, self.column, self.marker
        return (f"SELECT {column} AS position, originator_id, topic, state FROM {table} "
                f"WHERE {column} > {marker} AND {column} <= {marker} "
                f"AND topic IN ({', '.join([marker] * len(topics))}) ORDER BY {column}")

    def _stored_sql(self, topics: Sequence[str]) -> str:
        return (f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
                f"WHERE topic IN ({', '.join([self.marker] * len(topics))}) ORDER BY {self.column}")

    # --- the chain check reads the rows as stored, not through the recorder ---------------

    def _paged(self, table: str, column: str, columns: str, upto: int) -> Iterator[Any]:
        """Rows of `table` with `column` ≤ upto, in order, a page per read transaction (no lower bound)."""
        marker = self.marker
        after: int | None = None
        while True:
            where = f"{column} > {marker} AND " if after is not None else ""
            params = (after, upto) if after is not None else (upto,)
            with self.recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT {column} AS position, {columns} FROM {table} WHERE {where}{column} <= {marker} "
                    f"ORDER BY {column} LIMIT {PAGE}",
                    params,
                )
                rows = cursor.fetchall()
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1]["position"]

    def chain(self, upto: int) -> Iterator[tuple[int, Any, Any, Any, bytes | None]]:
        """(position, aggregate id, version, topic, state) of every event row up to `upto`, as stored: also
        rows at positions the library never hands out and values it would fail to read."""
        for r in self._paged(self.table, self.column, "originator_id, originator_version, topic, state", upto):
            yield int(r["position"]), r["originator_id"], r["originator_version"], r["topic"], _bytes(r["state"])

    def seals(self, upto: int) -> Iterator[tuple[int, bytes]]:
        for r in self._paged(self.seals_table, "position", "seal", upto):
            yield int(r["position"]), bytes(r["seal"])

    def chain_head(self) -> int:
        """The last position holding an event or a seal: a seal after the last event means events were deleted."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT (SELECT MAX({self.column}) FROM {self.table}) AS events, "
                           f"(SELECT MAX(position) FROM {self.seals_table}) AS seals")
            row = cursor.fetchone()
        return max(int(row["events"] or 0), int(row["seals"] or 0))

    # --- what each engine does its own way ------------------------------------------------

    @abstractmethod
    def horizon(self) -> int:
        """The last position up to which every event is committed: where a catch-up may stop."""

    @abstractmethod
    def page(self, after: int, upto: int, topics: Sequence[str]) -> list[tuple[Any, ...]]:
        """The stored events of `topics` at positions after `after` up to `upto`, in order, as plain
        tuples: (position, aggregate id (UUID or hex text), topic, state bytes)."""

    @abstractmethod
    def stored(self, topics: Sequence[str]) -> list[tuple[UUID, int, str, bytes]]:
        """(aggregate id, version, topic, state) of every stored event of `topics`, in log order."""

    @abstractmethod
    def import_transaction(self) -> AbstractContextManager[ImportTransaction]:
        """One transaction for a whole import, holding the write lock (see each engine)."""

    @abstractmethod
    def listen(self, tick: float) -> AbstractContextManager[Callable[[], bool]]:
        """A function that waits up to `tick` seconds for a sign of new events and says whether one came."""


class ImportTransaction:
    """An import's one transaction: pages of stored events inserted (and sealed) as they come, and an
    aggregate's events read back as this transaction sees them (its own pages included)."""

    def __init__(self, recorder: Any, cursor: Any, select: Any, key: Callable[[UUID], Any]):
        self.recorder = recorder
        self.cursor = cursor
        self._select = select
        self._key = key

    def insert(self, stored_events: Sequence[Any]) -> None:
        self.recorder.insert_within(self.cursor, stored_events)

    def events(self, aggregate_id: UUID) -> Iterator[Any]:
        """The aggregate's stored events in version order (the library's StoredEvent)."""
        cursor = self.cursor
        cursor.execute(self._select, (self._key(aggregate_id),))
        for row in cursor.fetchall():
            yield StoredEvent(originator_id=aggregate_id, originator_version=row["originator_version"],
                              topic=row["topic"], state=bytes(row["state"]))


def _bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()  # a state rewritten in SQL may come back as text: hash what is there


def event_log(store: Store, application: Any) -> EventLog:
    """The log of `store`, over the library application's recorder and mapper."""
    if store.path is not None:
        from storage.sqlite import SQLiteLog

        return SQLiteLog(store, application)
    from storage.postgres import PostgresLog

    return PostgresLog(store, application)


def prepare(store: Store, *, create: bool = False) -> None:
    """Check that the store can be opened (StorageFailure saying why if not); `create` makes it (a new
    SQLite file is private: mode 0600; a PostgreSQL store's schema, if it names one)."""
    if store.path is not None:
        if create:
            if not store.path.parent.is_dir():
                raise StorageFailure(f"Cannot create the store at {store.where}: the folder does not exist.")
            fd = os.open(store.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        elif not store.path.exists():
            raise StorageFailure(f"There is no ledger at {store.where}; run 'studyledger init' first.")
        return
    from storage.postgres import check

    check(store, create_schema=create and "POSTGRES_SCHEMA" in store.settings)
