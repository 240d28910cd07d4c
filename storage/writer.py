"""A long import's transaction, held by a second process that inserts and seals its pages.

In one process, a long import spent a fifth of its time inserting its pages: the rows, the
seals chained over them (SHA-256), the key store's rows, and the commit. None of it needs the
rules or the register key. So a long import (ledger.importer: `WRITER_FROM`) starts a writer process,
`python -P -m storage.writer`, which opens the store, begins the import's one transaction (as
`EventLog.import_transaction` does, with its lock) and, in order, inserts each page it is sent,
reads an aggregate's events back through that transaction when asked (the importer dropped it
from its cache), and commits when told to. The importing process goes on with the next page's
commands meanwhile. Nothing else changes: the same recorder code writes the same rows and seals
in one transaction; a failed page, a failed line, a killed importer or a killed writer leaves
nothing written.

Pickle over the writer's stdin and stdout, as the parser (ledger/ahead.py). The store's settings,
a password among them, go as the first message, not in its arguments or environment; the
register key is not sent at all (the key store's rows come wrapped). The writer answers only
read-backs and the commit; if a page fails, it answers the next question with the error
(a StorageError, as `storage_errors` makes it, or a RuntimeError) and ends, rolling back.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import IO, Any
from uuid import UUID

from storage.config import Store
from storage.processes import start_module


class WriterTransaction:
    """The importing process's side: the same `insert` and `events` as storage.eventlog.ImportTransaction."""

    def __init__(self, process: subprocess.Popen[bytes], keystore: Any):
        assert process.stdin is not None and process.stdout is not None
        self._process, self._in, self._out = process, process.stdin, process.stdout
        self._keystore = keystore  # this process's, whose staged rows go with each page

    def insert(self, stored_events: Sequence[Any]) -> None:
        staged, expected = self._keystore.take_staged() if self._keystore is not None else ([], None)
        rows = [(s.originator_id.bytes, s.originator_version, s.topic, s.state) for s in stored_events]
        self._send(("page", rows, staged, expected))

    def events(self, aggregate_id: UUID) -> list[Any]:
        from eventsourcing.persistence import StoredEvent

        self._send(("events", aggregate_id.bytes))
        return [StoredEvent(originator_id=aggregate_id, originator_version=version, topic=topic, state=state)
                for version, topic, state in self._answer()]

    def commit(self) -> None:
        self._send(("commit",))
        self._answer()

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self._in, pickle.HIGHEST_PROTOCOL)
            self._in.flush()
        except OSError:  # it has ended: what it answered says why
            self._answer()
            raise RuntimeError(f"the import's writer process ended (exit code {self._process.wait()})") from None

    def _answer(self) -> Any:
        try:
            ok, value = pickle.load(self._out)
        except (EOFError, pickle.UnpicklingError, OSError):
            raise RuntimeError(f"the import's writer process ended (exit code {self._process.wait()})") from None
        if not ok:
            raise value
        return value


@contextmanager
def writer_transaction(process: subprocess.Popen[bytes], store: Store, name: str,
                       keystore: Any) -> Iterator[WriterTransaction]:
    """The import's transaction in the writer `process` (`start`), on `store` as the application `name` sees it
    (its tables are named after it), committed when the block ends without an error. However the block ends, the process is stopped after: killed before its commit, it writes nothing."""
    try:
        assert process.stdin is not None
        with suppress(OSError):  # if it could not even read this, the first page says what happened
            pickle.dump((store, name), process.stdin, pickle.HIGHEST_PROTOCOL)
            process.stdin.flush()
        transaction = WriterTransaction(process, keystore)
        yield transaction
        transaction.commit()
        process.stdin.close()  # committed: let it close its connection and end (else it is killed below)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            with suppress(OSError):
                pipe.close()  # type: ignore[union-attr]


def start() -> subprocess.Popen[bytes] | None:
    """A writer process, or None if the system will not start one (the import then writes its pages itself).
    The store's settings come by the pipe; the register key is not needed, nor given (PostgreSQL's own
    variables are: they may hold what the store's connections need)."""
    return start_module("storage.writer", withheld=("STUDYLEDGER_KEY",))


def serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    """The writer process: one import's transaction, until told to commit or its input ends (rolled back)."""

    def answer(ok: bool, value: Any) -> None:
        pickle.dump((ok, value), outgoing, pickle.HIGHEST_PROTOCOL)
        outgoing.flush()

    try:
        store, name = pickle.load(incoming)
    except EOFError:
        return
    from storage.errors import StorageError, storage_errors

    try:
        with storage_errors(store.where, store.secrets):
            _write(store, name, incoming, answer)
    except StorageError as error:
        answer(False, error)
    except Exception as error:  # noqa: BLE001 - reported to the importer, which fails with it
        answer(False, RuntimeError(f"the import's writer process failed: {type(error).__name__}: {error}"))


def _write(store: Store, name: str, incoming: IO[bytes], answer: Any) -> None:
    from eventsourcing.persistence import InfrastructureFactory, StoredEvent
    from eventsourcing.utils import Environment

    from storage.eventlog import event_log

    recorder = InfrastructureFactory.construct(
        Environment(name=name, env={**store.settings, "CREATE_TABLE": "no"})).application_recorder()
    log = event_log(store, _Application(recorder))
    keystore = log.keystore()  # writes the key-store rows each page brings, as the importer's would have
    with log.import_transaction() as transaction:
        while True:
            message = pickle.load(incoming)  # EOFError if the importer is gone: rolled back
            if message[0] == "page":
                _, rows, staged, expected = message
                keystore.give_staged(staged, expected)
                transaction.insert([StoredEvent(originator_id=UUID(bytes=i), originator_version=v, topic=t, state=s)
                                    for i, v, t, s in rows])
            elif message[0] == "events":
                answer(True, [(e.originator_version, e.topic, e.state)
                              for e in transaction.events(UUID(bytes=message[1]))])
            else:
                break
    answer(True, None)


class _Application:
    """What storage.eventlog.EventLog needs of the library's application here: its recorder."""

    mapper = None

    def __init__(self, recorder: Any):
        self.recorder = recorder


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
