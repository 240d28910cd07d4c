"""A read through the bare driver (sqlite3, psycopg), without SQLAlchemy or the event store's
library: the one read transaction of the quick balance path (projections.quick) and its statements.

`open_read(store)` gives None whenever the quick path cannot be taken — a store that is missing,
locked, read-only or failing — and a database error inside the block ends it quietly with None
too: the caller then takes the usual path, which meets the same problem and reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.config import Store


class QuickRead:
    """One read transaction (a snapshot on both engines); each method is one statement."""

    def __init__(self, store: Store, raw: Any):
        self.cursor = raw.cursor()
        self.postgres = store.path is None
        if self.postgres:
            schema = store.settings.get("POSTGRES_SCHEMA") or "public"
            self.events, self.column = f'"{schema}".studyledger_events', "notification_id"
        else:
            self.events, self.column = "stored_events", "rowid"

    def _execute(self, sql: str, *params: Any) -> Any:
        if self.postgres:
            sql = sql.replace("?", "%s")
        self.cursor.execute(sql, params)
        return self.cursor

    def _date(self, day: date) -> Any:
        return day if self.postgres else day.isoformat()  # SQLite holds dates as ISO text (see storage.readmodels)

    @staticmethod
    def _day(stored: Any) -> date:
        return stored if isinstance(stored, date) else date.fromisoformat(stored)

    def bookkeeping(self, name: str) -> tuple[int, int, int] | None:
        """(generation, position, the position its tables' witness records) of a read model, or None."""
        return self._execute("SELECT s.generation, s.position, a.position FROM rm_state s JOIN rm_applied a "
                             "ON a.name = s.name AND a.generation = s.generation WHERE s.name = ?", name).fetchone()

    def head(self) -> int:
        return self._execute(f"SELECT MAX({self.column}) FROM {self.events}").fetchone()[0] or 0

    def pending(self, after: int, topics: Sequence[str], limit: int) -> list[tuple[str, Any]]:
        """(topic, state) of at most `limit` stored events of `topics` after position `after`, in order."""
        marks = ", ".join("?" * len(topics))
        return self._execute(f"SELECT topic, state FROM {self.events} WHERE {self.column} > ? AND topic IN ({marks}) "
                             f"ORDER BY {self.column} LIMIT {int(limit)}", after, *topics).fetchall()

    def registration(self, suffix: str, professional: str) -> tuple[date, int] | None:
        """(registered on, recorded at in µs) of a professional in the balances read model, or None."""
        row = self._execute(f"SELECT registered_on, recorded_us FROM rm_professionals{suffix} WHERE professional = ?",
                            professional).fetchone()
        return None if row is None else (self._day(row[0]), row[1])

    def policies(self, suffix: str, known_us: int) -> list[tuple[date, str]]:
        """(effective from, terms as JSON text) of the policy versions recorded by `known_us`, in recorded order."""
        rows = self._execute(f"SELECT effective_from, terms FROM rm_balance_policies{suffix} "
                             "WHERE recorded_us <= ? ORDER BY recorded_us", known_us).fetchall()
        return [(self._day(effective_from), terms) for effective_from, terms in rows]

    def postings(self, suffix: str, professional: str, start: date, at: date, known_us: int) -> list[Any]:
        """(kind, network, cents, cents from `start`) of a professional's postings up to `at`, known by `known_us`."""
        return self._execute(
            f"SELECT kind, network, SUM(cents), SUM(cents) FILTER (WHERE activity_date >= ?) FROM rm_postings{suffix} "
            "WHERE professional = ? AND activity_date <= ? AND recorded_us <= ? GROUP BY kind, network",
            self._date(start), professional, self._date(at), known_us,
        ).fetchall()

    def themes(self, suffix: str, networks: Sequence[str]) -> list[Any]:
        """(network, theme) of the given networks."""
        marks = ", ".join("?" * len(networks))
        return self._execute(f"SELECT network, theme FROM rm_network_themes{suffix} WHERE network IN ({marks})",
                             *networks).fetchall()


class open_read:  # noqa: N801 - used as `with open_read(store) as read`, like open()
    """`with open_read(store) as read`: read is None when the quick path cannot be taken."""

    def __init__(self, store: Store):
        self.store = store
        self.raw: Any = None

    def __enter__(self) -> QuickRead | None:
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
            return QuickRead(self.store, self.raw)
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
