"""The tables of each generation of a read model: made, indexed, dropped, and checked for.

A read model's tables carry their generation as a suffix (`rm_postings_g2`). A rebuild fills
the next generation while readers use the current one (see `projections.runner`).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, MetaData, Table, inspect, literal, select
from sqlalchemy.schema import CreateTable

from projections.registry import PROJECTIONS
from storage.readmodels import writing


class Generations:
    """The read models' tables on one engine, by (name, generation)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._tables: dict[tuple[str, int], dict[str, Table]] = {}
        self._complete: set[tuple[str, int]] = set()  # (name, generation) whose tables all exist

    def tables(self, name: str, generation: int) -> dict[str, Table]:
        key = (name, generation)
        if key not in self._tables:
            self._tables[key] = PROJECTIONS[name].tables(MetaData(), f"_g{generation}")
        return self._tables[key]

    def create(self, name: str, generation: int, *, indexes: bool = True) -> dict[str, Table]:
        """Create a generation's tables; a rebuild adds their secondary indexes after loading."""
        tables = self.tables(name, generation)
        with writing(self.engine) as conn:
            for table in tables.values():
                conn.execute(CreateTable(table, if_not_exists=True))
            if indexes:
                self.index(conn, tables)
        return tables

    @staticmethod
    def index(conn: Connection, tables: dict[str, Table]) -> None:
        for table in tables.values():
            for index in table.indexes:
                index.create(conn, checkfirst=True)

    @staticmethod
    def unindex(conn: Connection, tables: dict[str, Table]) -> None:
        """Drop the secondary indexes again: a rebuild whose backlog overflowed goes on loading without them."""
        for table in tables.values():
            for index in table.indexes:
                index.drop(conn, checkfirst=True)

    def drop(self, name: str, generation: int) -> None:
        """Drop a generation nobody reads (the one before last, a killed rebuild's), an index or a table a
        transaction. On SQLite every freed page is written over with zeros (secure_delete, SPEC §9): in
        one transaction a 1M register's generation was 224 MB of such pages, more than the page cache
        holds, spilled into the write-ahead log page by page; a table at a time it took half as long (on
        a copy of the store; 15-20% less in a rebuild).
        Killed in between, the rest is dropped by the next rebuild."""
        tables = self.tables(name, generation)
        metadata = next(iter(tables.values())).metadata
        for table in reversed(metadata.sorted_tables):
            for index in table.indexes:
                with writing(self.engine) as conn:
                    index.drop(conn, checkfirst=True)
            with writing(self.engine) as conn:
                table.drop(conn, checkfirst=True)
        self._tables.pop((name, generation), None)

    def forget(self) -> None:
        """Forget what is known of the tables (after they were dropped behind the runner's back)."""
        self._tables.clear()
        self._complete.clear()

    def holds_rows(self, name: str, generation: int) -> bool:
        """Whether any table of the generation exists and holds a row."""
        with self.engine.connect() as conn:
            found = inspect(conn)
            return any(found.has_table(table.name)
                       and conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
                       for table in self.tables(name, generation).values())

    def missing_table(self, name: str, generation: int) -> str | None:
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
