"""Build tests/data/ledger-v1.sqlite and write its digest to tests/data/ledger-v1.digest.

    python tests/data/make_ledger_v1.py [OUT_DIR]      (default: the folder of this script)

A small register (≈45 events) written through the ledger itself, on a fixed clock, with
claim ids from a seeded generator, so that every run writes the same history and prints the
same digest. The committed pair is a test vector from an earlier run: tests/ledger/
test_integrity.py checks that today's code still verifies the committed file against the
committed digest and recomputes exactly that digest. Do not regenerate the committed pair
to make that test pass: a failure there means old stores would no longer verify.

The file is left in rollback-journal mode (no -wal/-shm files: the file alone is the store).

It is a store as written before personal data were encrypted (SPEC §9): plain events, no key
store. Today's ledger makes every new store encrypted (random pseudonyms and nonces: no two
runs alike), so the script opens it as one made before §9 was: without people.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

NAME = "ledger-v1"
START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


def commands() -> list[tuple[str, dict[str, Any]]]:
    def d(text: str) -> Any:
        from datetime import date

        return date.fromisoformat(text)

    claim = {"network": "wondzorg", "description": "Shared a dressing protocol", "outcome": "Adopted on two wards"}
    return [
        ("policy adopt", {"effective_from": d("2020-01-01"), "cap": [("co-construction", Decimal(10))]}),
        ("professional register", {"id": "N-1", "name": "Eva Dekker", "group": "nurse", "registered_on": d("2022-01-10")}),
        ("professional register", {"id": "N-2", "name": "Mehmet Yılmaz", "group": "nurse", "registered_on": d("2022-02-01")}),
        ("professional register", {"id": "N-3", "name": "Ingrid Post", "group": "nurse", "registered_on": d("2023-05-01")}),
        ("professional register", {"id": "N-4", "name": "Kees van Dijk", "group": "nurse", "registered_on": d("2023-06-01")}),
        ("reviewer appoint", {"id": "R-1", "name": "Hanneke Vos", "on": d("2022-01-01")}),
        ("reviewer appoint", {"id": "N-4", "name": "Kees van Dijk", "on": d("2024-01-01")}),
        ("network register", {"id": "wondzorg", "name": "Wondzorg", "theme": ["wound-care"], "group": ["nurse"],
                              "founded_on": d("2021-09-01")}),
        ("network register", {"id": "diabetes", "name": "Diabeteszorg", "theme": ["diabetes", "foot-care"],
                              "group": ["nurse"], "founded_on": d("2021-01-01")}),
        ("network join", {"network": "wondzorg", "professional": "N-1", "on": d("2023-01-01")}),
        ("network join", {"network": "wondzorg", "professional": "N-2", "on": d("2023-01-01")}),
        ("network join", {"network": "wondzorg", "professional": "N-3", "on": d("2023-06-01")}),
        ("network join", {"network": "diabetes", "professional": "N-1", "on": d("2023-03-01")}),
        ("network join", {"network": "diabetes", "professional": "N-3", "on": d("2023-07-01")}),
        ("claim submit", {**claim, "professional": "N-1", "kind": "answer", "on": d("2024-03-04"),
                          "hours": Decimal("2.5"), "request_id": "v1-c1"}),
        ("claim endorse", {"claim": "v1-c1", "by": "N-2", "statement": "I was there"}),
        ("review approve", {"claim": "v1-c1", "reviewer": "R-1", "rationale": "Clear outcome"}),
        ("claim submit", {**claim, "professional": "N-2", "kind": "question", "on": d("2024-04-01"),
                          "hours": Decimal("1"), "practice_change": "I photograph every wound",
                          "request_id": "v1-c2"}),
        ("claim endorse", {"claim": "v1-c2", "by": "N-1", "statement": "Good question"}),
        ("claim endorse", {"claim": "v1-c2", "by": "N-3", "statement": "Useful for us too"}),
        ("review approve", {"claim": "v1-c2", "reviewer": "N-4", "points": Decimal("1.25"), "rationale": "Fine"}),
        ("claim submit", {**claim, "professional": "N-3", "kind": "co-construction", "on": d("2024-05-02"),
                          "hours": Decimal("12"), "request_id": "v1-c3"}),
        ("claim endorse", {"claim": "v1-c3", "by": "N-1", "statement": "We built it together"}),
        ("review return", {"claim": "v1-c3", "reviewer": "R-1", "reason": "What changed in your practice?"}),
        ("claim amend", {"claim": "v1-c3", "by": "N-3", "practice_change": "We now use one protocol"}),
        ("review approve", {"claim": "v1-c3", "reviewer": "R-1", "rationale": "Amended well"}),
        ("claim submit", {**claim, "network": "diabetes", "professional": "N-1", "kind": "facilitation",
                          "on": d("2024-06-10"), "hours": Decimal("3"), "request_id": "v1-c4"}),
        ("claim endorse", {"claim": "v1-c4", "by": "N-3", "statement": "Eva hosted the evening"}),
        ("review approve", {"claim": "v1-c4", "reviewer": "N-4", "rationale": "Hosted a meeting"}),
        ("review revoke", {"claim": "v1-c4", "reviewer": "R-1", "reason": "Counted as a course already"}),
        ("claim submit", {**claim, "professional": "N-2", "kind": "answer", "on": d("2024-07-01"),
                          "hours": Decimal("1"), "request_id": "v1-c5"}),
        ("claim endorse", {"claim": "v1-c5", "by": "N-1", "statement": "Present"}),
        ("review reject", {"claim": "v1-c5", "reviewer": "R-1", "reason": "Attendance only"}),
        ("claim submit", {**claim, "professional": "N-3", "kind": "question", "on": d("2024-08-01"),
                          "hours": Decimal("1")}),
        ("network leave", {"network": "wondzorg", "professional": "N-2", "on": d("2024-09-01")}),
        ("professional deregister", {"id": "N-2", "on": d("2024-12-31")}),
    ]


def build(out_dir: Path) -> str:
    """Write OUT_DIR/ledger-v1.sqlite and OUT_DIR/ledger-v1.digest; return the digest."""
    from ledger.app import open_ledger
    from ledger.audit import verify_chain
    from ledger.integrity import digest
    from storage.config import resolve

    path = out_dir / f"{NAME}.sqlite"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    instants = (START + timedelta(minutes=n) for n in range(10_000))
    now = [START]

    def clock() -> datetime:
        return now[0]

    ids = random.Random(1)  # claim ids: uuid4 from a seeded generator
    seeded = staticmethod(lambda *_, **__: uuid.UUID(int=ids.getrandbits(128), version=4))
    with mock.patch("domain.base.LedgerAggregate.create_id", seeded), \
            mock.patch("ledger.app.open_people", lambda *_, **__: (None, None)):  # a plain store, as before §9
        ledger = open_ledger(resolve(str(path)), create=True, clock=clock, os_user="vector-maker")
        try:
            for command, values in commands():
                now[0] = next(instants)
                ledger.run(command, values)
            report, _ = verify_chain(ledger)
            assert report.ok, report.problems
            text = digest(report.head, report.seal)
        finally:
            ledger.close()
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
        conn.execute("VACUUM")
    finally:
        conn.close()
    assert not Path(f"{path}-wal").exists()
    (out_dir / f"{NAME}.digest").write_text(text + "\n")
    return text


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent))
