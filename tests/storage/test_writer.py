"""A long import's pages written by a writer process (storage.writer) are the pages the importing
process would have written: the same events, sealed in one chain, and the key store's rows with
them; a writer that dies or a page the store refuses fails the import with nothing written and no
process left behind; the writer is given no register key; without one the import writes itself.

Every import test of tests/ledger (test_import, test_import_pages, test_import_people) also runs
through a writer (the `pages_written` fixture); these are the writer's own cases.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import lines as generated
from ledger import importer
from ledger.app import Ledger, open_ledger
from ledger.audit import verify_chain
from storage import writer
from storage.config import resolve
from storage.errors import StorageFailure
from tests.support.children import EXE, NO_EXE, child_env, helpers
from tests.support.harness import count_events

pytestmark = pytest.mark.processes


@pytest.fixture(autouse=True)
def through_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "WRITER_FROM", 0)
    monkeypatch.setattr(importer, "PAGE_EVENTS", 25)  # many pages, and read-backs through the writer
    monkeypatch.setattr(importer, "CACHE_LIMIT", 10)
    monkeypatch.setattr(importer, "CACHE_KEEP", 5)


def register(events: int = 300) -> list[str]:
    return [json.dumps(line) for line in generated(events, 11)]


def writers(parent: int | None = None) -> list[int]:
    """The writer processes `parent` (this process) has running."""
    return helpers(b"storage.writer", parent)


def running(pid: int) -> bool:
    """Whether the process is there and not a zombie (an orphan's exit is collected by init, later)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def stored(ledger: Ledger) -> list[tuple[Any, ...]]:
    return [(n.originator_version, n.topic) for n in ledger.recorder.select_notifications(start=1, limit=100_000)]


def test_the_writer_writes_what_the_importing_process_writes(ledger: Ledger, clock: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lines = register()
    started = []
    start = writer.start

    def counted() -> Any:
        started.append(1)
        return start()

    monkeypatch.setattr(writer, "start", counted)
    through = importer.import_lines(ledger, lines)
    assert started == [1]
    monkeypatch.setattr(importer, "WRITER_FROM", 10**12)
    here = open_ledger(resolve(str(tmp_path / "here.db")), create=True, clock=clock, os_user="tester")
    try:
        assert importer.import_lines(here, lines) == through
        assert started == [1]
        assert stored(ledger) == stored(here)  # the same events, in order (people's ids are each store's own)
    finally:
        here.close()
    fresh = open_ledger(ledger.store)  # what was committed, read by another ledger
    try:
        report, _ = verify_chain(fresh)
        assert report.ok and report.head == len(stored(fresh)), report.problems  # every event sealed, one chain
        people = {json.loads(line)["id"] for line in lines if json.loads(line)["command"] == "professional register"}
        assert people and all(fresh.people.pseudonym(pid) is not None for pid in people)  # their key-store rows
    finally:
        fresh.close()
    assert writers() == []


def test_a_writer_that_dies_fails_the_import_and_writes_nothing(ledger: Ledger, store: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    lines = register()
    importer.import_lines(ledger, lines[:40])
    before = count_events(store)
    pages = 0
    insert = writer.WriterTransaction.insert

    def dying(self: Any, stored_events: Any) -> None:
        nonlocal pages
        pages += 1
        if pages == 3:  # two pages written in its transaction, then it is killed
            self._process.kill()
            self._process.wait()
        insert(self, stored_events)

    monkeypatch.setattr(writer.WriterTransaction, "insert", dying)
    with pytest.raises(RuntimeError, match="writer process ended"):
        importer.import_lines(ledger, lines[40:])
    assert count_events(store) == before
    assert writers() == []


def test_a_page_the_store_refuses_fails_the_import_with_its_reason_and_writes_nothing(tmp_path: Path, clock: Any) -> None:
    path = tmp_path / "ledger.db"
    ledger = open_ledger(resolve(str(path)), create=True, clock=clock, os_user="tester")
    try:
        lines = register()
        importer.import_lines(ledger, lines[:40])
        with sqlite3.connect(path) as connection:  # the newest event deleted outside the ledger; its seal stays
            connection.execute("DELETE FROM stored_events WHERE rowid = (SELECT max(rowid) FROM stored_events)")
        before = count_events(ledger.store)
        with pytest.raises(StorageFailure, match="already has a seal"):
            importer.import_lines(ledger, lines[40:])
        assert count_events(ledger.store) == before
        assert writers() == []
    finally:
        ledger.close()


def test_the_writer_gets_no_register_key_and_nothing_from_the_current_folder(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDYLEDGER_KEY", "the-register-key-itself")
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "__init__.py").write_text("raise SystemExit(7)\n")  # not our storage
    monkeypatch.chdir(tmp_path)
    environments: list[bytes] = []
    insert = writer.WriterTransaction.insert

    def watching(self: Any, stored_events: Any) -> None:
        environments.append(Path(f"/proc/{self._process.pid}/environ").read_bytes())
        insert(self, stored_events)

    monkeypatch.setattr(writer.WriterTransaction, "insert", watching)
    assert importer.import_lines(ledger, register(60))["commands"] > 0
    assert environments
    assert all(b"the-register-key-itself" not in e for e in environments)


def test_without_a_writer_process_the_import_writes_its_pages_itself(ledger: Ledger, store: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(writer.subprocess, "Popen", refused)
    result = importer.import_lines(ledger, register(60))
    assert result["events"] == count_events(store) > 0


@pytest.mark.skipif(EXE is None, reason=NO_EXE)
def test_an_import_killed_while_its_writer_holds_the_transaction_writes_nothing(db_url: str, store: Any,
                                                                                 tmp_path: Path) -> None:
    """`studyledger import` killed (SIGKILL) mid-way: its writer sees its input end, rolls back and ends;
    the store is as before and takes the same file whole afterwards."""
    assert EXE is not None
    env = child_env(db_url)
    subprocess.run([str(EXE), "init"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    path = tmp_path / "register.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in generated(40_000, 5)), encoding="utf-8")
    assert path.stat().st_size >= importer.WRITER_FROM  # the real threshold: this import has a writer
    child = subprocess.Popen([str(EXE), "import", str(path)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not writers(child.pid) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        found = writers(child.pid)
        assert found, "no writer process was started"
        time.sleep(0.5)  # pages sent and written in its transaction
        assert child.poll() is None, "the import ended before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        deadline = time.monotonic() + 30
        while any(map(running, found)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(running, found)), "the writer outlived the import"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert count_events(store) == 0
    again = subprocess.run([str(EXE), "import", str(path)], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert count_events(store) > 0
