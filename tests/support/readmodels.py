"""The test's own view of a store's read models, beside the processes that change them.

Its own ledger and engine: it reads positions, generations and rows, forgets the read models,
and sees which process holds a projection's lock without taking it (/proc/locks for the
flock beside an SQLite file, pg_locks for PostgreSQL's advisory lock). Used by the process
tests of the projections and the CLI, and by the read-behind test.
"""

from __future__ import annotations

import os
import subprocess
import time
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, inspect, select, text

from ledger.app import Ledger
from projections.registry import PROJECTIONS
from projections.runner import ReadModels
from storage.config import Store


def approve_a_claim(ledger: Any) -> None:
    """R-1's claim c-1 in network wc, endorsed by R-2 and approved by V-1 for 2 points."""
    for pid in ("R-1", "R-2"):
        ledger.register_professional(id=pid, name="N", group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-1", name="V", on=date(2024, 1, 1))
    ledger.register_network(id="wc", name="W", theme=["wound-care"], group=["nurse"], founded_on=date(2021, 1, 1))
    for pid in ("R-1", "R-2"):
        ledger.join_network(network="wc", professional=pid, on=date(2025, 1, 1))
    ledger.submit_claim(professional="R-1", network="wc", kind="answer", on=date(2025, 3, 4), hours=Decimal(2),
                        description="d", outcome="o", request_id="c-1")
    ledger.endorse_claim(claim="c-1", by="R-2", statement="Yes")
    ledger.approve_claim(claim="c-1", reviewer="V-1", rationale="ok")


class Models:
    """The test's own view of a store's read models (its own engine)."""

    def __init__(self, store: Store):
        self.store = store
        self.ledger = Ledger(store)
        self.models = ReadModels(self.ledger.event_log)

    def close(self) -> None:
        self.models.close()
        self.ledger.close()

    def state(self) -> dict[str, tuple[int, int]]:
        return self.models.state()

    def head(self) -> int:
        return self.models.head()

    def table_names(self) -> set[str]:
        with self.models.engine.connect() as conn:
            return {name for name in inspect(conn).get_table_names() if name.startswith("rm_")}

    def generations(self, name: str) -> set[int]:
        """The generations of `name` that have tables in the database."""
        bases = [t.name[: -len("0")] for t in PROJECTIONS[name].tables(MetaData(), "_g0").values()]
        found = set()
        for table in self.table_names():
            for base in bases:
                rest = table[len(base):]
                if table.startswith(base) and rest.isdigit():
                    found.add(int(rest))
        return found

    def snapshot(self) -> dict[str, Any]:
        """Every row of every current table (generation numbers left out), and each position."""
        with self.models.engine.connect() as conn, conn.begin():
            state = self.state()
            rows: dict[str, list[tuple]] = {}
            for name in PROJECTIONS:
                generation, _ = state[name]
                for key, table in self.models.tables(name, generation).items():
                    rows[f"{name}.{key}"] = sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
        return {"positions": {name: position for name, (_, position) in state.items()}, "rows": rows}

    def reset(self) -> None:
        """Forget the read models: drop every rm_ table (as before the first catch-up)."""
        names = self.table_names()
        quote = self.models.engine.dialect.identifier_preparer.quote
        with self.models.engine.begin() as conn:
            for name in sorted(names):
                conn.execute(text(f"DROP TABLE {quote(name)}"))
        self.models.generations.forget()

    def lock_held(self, name: str, pid: int) -> bool:
        """Does process `pid` hold the lock of projection `name`? Looked at, never taken."""
        if self.store.path is not None:
            try:
                st = os.stat(f"{self.store.path}.{name}.lock")
            except FileNotFoundError:
                return False
            ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
            for line in Path("/proc/locks").read_text().splitlines():
                parts = line.split()
                if "->" in parts:
                    continue  # a waiter, not a holder
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[4] == str(pid) and parts[5] == ident:
                    return True
            return False
        key = zlib.crc32(f"studyledger:{self.store.settings.get('POSTGRES_SCHEMA', '')}:{name}".encode())
        with self.models.engine.connect() as conn:
            held = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :key "
                     "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"key": key},
            ).scalar()
        return bool(held)

    def wait_locked(self, proc: subprocess.Popen, name: str = "claims", timeout: float = 60) -> bool:
        """Wait until `proc` holds the lock of `name` (True) or has ended (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lock_held(name, proc.pid):
                return True
            if proc.poll() is not None:
                return self.lock_held(name, proc.pid)
            time.sleep(0.003 if self.store.path is not None else 0.01)
        pytest.fail(f"{proc.args[3:]} did not take the {name} lock within {timeout}s")
