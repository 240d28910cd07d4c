"""Rotating the register key (SPEC §9): `keys rewrap` and `keys new-register-key`.

The register key (ledger/people.py) wraps the link key, the register's text key and every
person's data key. Rotating it re-wraps those keys with a new register key, in one transaction
of the key store (`People.rotate`); nothing else changes: no event is written, no data key is
replaced, so the chain and `audit digest` are what they were. Afterwards the old key opens
nothing in this store — but it still opens every copy of the key store made before (backups):
the operator destroys the old key's copies. On SQLite (secure_delete on) the write-ahead log is
checkpointed and truncated afterwards, so the keys wrapped with the old key are not left in it.

A new key file given on the command line is input: missing, unreadable or not a key is exit 2
(InvalidInput), and nothing is tried. The current key is read as for every command (missing or
wrong: exit 4). A store made before SPEC §9 has no key store: refused (exit 1, NotEncrypted).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import NotEncrypted
from ledger.errors import InvalidInput, LedgerError
from ledger.register_key import key_source, read_register_key

if TYPE_CHECKING:
    from ledger.app import Ledger

KEY_BYTES = 32


def read_key_file(path: Path, option: str = "--new-key-file") -> bytes:
    """The register key in `path` (32 bytes in base64, as `init` writes it); InvalidInput if it is not one."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise InvalidInput(f"Invalid input: {option} {path}: there is no such file.") from None
    except IsADirectoryError:
        raise InvalidInput(f"Invalid input: {option} {path}: it is a folder, not a key file.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "it is not text"
        raise InvalidInput(f"Invalid input: {option} {path}: cannot read it ({reason}).") from None
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"Invalid input: {option} {path} is not a register key: it must hold {KEY_BYTES} bytes "
                           "in base64 (make one with 'studyledger keys new-register-key FILE').")
    return key


def write_key_file(path: Path) -> Path:
    """A new random register key written to `path` with mode 0600; never over an existing file."""
    if path.exists() or path.is_symlink():
        raise LedgerError(f"Refused: a file exists at {path} already; nothing was written.")
    if not path.parent.is_dir():
        raise InvalidInput(f"Invalid input: FILE {path}: the folder does not exist.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise InvalidInput(f"Invalid input: FILE {path}: cannot write there ({error.strerror}).") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        os.fchmod(out.fileno(), 0o600)  # whatever the umask
        out.write(base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def rewrap(ledger: Ledger, new_key: bytes, new_key_file: Path) -> dict:
    """Wrap every key of the ledger's key store with `new_key` (read from `new_key_file`) instead of the current one."""
    people = ledger.people
    if people is None:
        raise NotEncrypted("this store was made before personal data were encrypted, so it has no register key to "
                           "rotate; move it into a new store with 'studyledger migrate OLD NEW' first")
    where, current_file = key_source(ledger.store)
    if read_register_key(ledger.store) == new_key:
        raise InvalidInput(f"Invalid input: --new-key-file {new_key_file} holds the key in use already "
                           f"({where}); make a new one with 'studyledger keys new-register-key FILE'.")
    count = people.rotate(new_key)
    people.forget()
    cleared = None
    if ledger.store.path is not None:  # SQLite: the keys wrapped with the old key out of the write-ahead log too
        from storage.sqlite import checkpoint

        cleared = checkpoint(ledger.store.path)
    return {"status": "rewrapped", "people": count, "key_file": str(new_key_file),
            "old_key": where, "old_key_file": str(current_file) if current_file is not None else None,
            "checkpointed": cleared}
