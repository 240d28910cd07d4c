"""What storage failures are, and the one place where the drivers' and the library's exceptions
(sqlite3's, psycopg's, SQLAlchemy's, eventsourcing's) become them.

These errors carry no exit code: the CLI maps each class to one (cli/errors.py). Messages never
contain a database password: `redact` strips credentials from anything a driver says before it
is shown.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class StorageError(Exception):
    """A store that cannot do what was asked; `message` is one sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidAddress(StorageError):
    """`--db` names no store this program can open (the user's input, not the store, is wrong)."""


class Conflict(StorageError):
    """A concurrent change got there first, or holds a lock: nothing was written, safe to retry."""


class Busy(Conflict):
    """Another process holds a lock that is taken at once or not at all (a read model's, the log's)."""


class StorageFailure(StorageError):
    """The store is missing, unavailable, read-only, full, or holds what the ledger never wrote."""


_CREDENTIALS = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without URL passwords, `password=` settings or any of `secrets`."""
    text = _CREDENTIALS.sub(r"\1***@", text)
    text = _PASSWORD_KV.sub(r"\1***", text)
    for secret in secrets:
        if secret:  # as a token of its own: a password "p" must not turn "postgresql" into "***ostgresql"
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text


_DRIVER_PREFIX = re.compile(r"^\([\w.]+\)\s*")  # SQLAlchemy's "(sqlite3.OperationalError) "


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return _DRIVER_PREFIX.sub("", text.splitlines()[0]).rstrip(".")


def _file_system_state(where: str) -> str | None:
    """Whether the SQLite file at `where` lies on a file system that is "read-only" or "full" (else None).

    SQLite names neither when it meets them outside the database file itself: it cannot create
    its -wal/-shm files on a read-only mount ("unable to open database file"), nor grow its
    -shm file on a disk with no space left ("disk I/O error")."""
    if not os.path.isabs(where) or not hasattr(os, "statvfs"):  # a PostgreSQL store's `where` is a URL
        return None
    try:
        found = os.statvfs(os.path.dirname(where))
    except OSError:
        return None
    if found.f_flag & os.ST_RDONLY:
        return "read-only"
    if found.f_bavail * found.f_frsize < 64 * 1024:  # less than SQLite needs for its -shm file
        return "full"
    return None


@contextmanager
def storage_errors(where: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Turn storage exceptions raised inside the block into Conflict or StorageFailure."""
    try:
        yield
    except Exception as error:
        # The library's errors are imported once something failed: a read that never loads the
        # library (projections.quick) does not pay for them.
        from eventsourcing.persistence import IntegrityError, MapperDeserialisationError, PersistenceError

        if isinstance(error, MapperDeserialisationError):
            raise StorageFailure(
                f"The store at {where} holds an event that cannot be read ({redact(_first_line(error), secrets)}); "
                "it was changed outside the ledger: run 'studyledger audit verify'."
            ) from error
        if isinstance(error, IntegrityError):
            raise Conflict(
                "Another change to the same record was stored at the same moment; nothing was written. "
                "Safe to retry."
            ) from error
        if isinstance(error, (PersistenceError, sqlite3.Error, OSError)) or _is_driver_error(error):
            raise _storage_failure(error, where, secrets) from error
        raise


def lock_timed_out(error: BaseException) -> bool:
    """Did PostgreSQL give up waiting for a lock (`SET lock_timeout`), whichever wrapper carries it?"""
    return "lock timeout" in str(error)


def _is_driver_error(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    return module.startswith(("psycopg", "psycopg_pool", "sqlalchemy"))


def _storage_failure(error: BaseException, where: str, secrets: tuple[str, ...]) -> StorageError:
    detail = redact(_first_line(error), secrets)
    lowered = detail.lower()
    if "locked" in lowered or "lock timeout" in lowered or "could not obtain lock" in lowered:
        return Conflict(f"The store at {where} is locked by another process ({detail}); nothing was written. Safe to retry.")
    if "readonly" in lowered or "read-only" in lowered:
        return StorageFailure(f"The store at {where} is read-only ({detail}); nothing was written.")
    if "full" in lowered:
        return StorageFailure(f"The store at {where} is full ({detail}); nothing was written.")
    state = _file_system_state(where)
    if state == "read-only":
        return StorageFailure(f"The store at {where} is read-only: its file system is mounted read-only ({detail}); "
                              "nothing was written.")
    if state == "full":
        return StorageFailure(f"The store at {where} is full: no space is left on its disk ({detail}); "
                              "nothing was written.")
    return StorageFailure(f"The store at {where} is unavailable ({detail}); nothing was written.")
