"""The register key (SPEC §9): where the operator keeps it, reading it, making a new one.

Looked for in this order: the variable STUDYLEDGER_KEY (base64 of 32 bytes), the file named by
STUDYLEDGER_KEY_FILE, and else a default file: beside a SQLite store (`studyledger.db.key`), or
`studyledger.key` in the current folder for PostgreSQL. The key is never stored in the database.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.config import Store
from storage.errors import StorageFailure


def key_source(store: Store) -> tuple[str, Path | None]:
    """Where the register key comes from: ("the variable STUDYLEDGER_KEY", None) or (a description, its file)."""
    if os.environ.get("STUDYLEDGER_KEY"):
        return "the variable STUDYLEDGER_KEY", None
    named = os.environ.get("STUDYLEDGER_KEY_FILE")
    if named:
        return f"the key file {named} (STUDYLEDGER_KEY_FILE)", Path(named)
    path = default_key_file(store)
    return f"the key file {path}", path


def default_key_file(store: Store) -> Path:
    """Beside a SQLite file (`studyledger.db.key`); for PostgreSQL, `studyledger.key` in the current folder."""
    if store.path is not None:
        return store.path.with_name(store.path.name + ".key")
    return Path("studyledger.key").resolve()


def read_register_key(store: Store) -> bytes | None:
    """The operator's register key; None if there is none where it is looked for; StorageFailure if it is not one."""
    where, path = key_source(store)
    if path is None:
        text = os.environ["STUDYLEDGER_KEY"]
    else:
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise StorageFailure(f"Cannot read the register key from {where}: {getattr(error, 'strerror', None) or error}.") from None
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise StorageFailure(f"The register key in {where} is not a key: it must be 32 bytes in base64 "
                             "(make one with 'studyledger init' on a new store).")
    return key


def make_register_key(store: Store) -> Path | None:
    """Write a new register key to the key file (mode 0600, never over an existing file); its path, or
    None if another process made the file meanwhile.

    Written whole to a file of its own first and then linked into place, so a process reading the key
    file never sees half a key; if another process (a second `init`) linked one first, that one stays."""
    where, path = key_source(store)
    if path is None:
        raise AssertionError("a key is made only when none is given")
    draft = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return None  # made by another process meanwhile: the caller reads that one
    except OSError as error:
        raise StorageFailure(f"Cannot write a new register key to {where}: {error.strerror}.") from None
    finally:
        draft.unlink(missing_ok=True)
    return path
