"""The register's private signing key on disk: one Ed25519 key, PKCS #8 PEM, file mode 0600.

A new key is written to a temporary file beside its final path (created 0600, never
readable by others, not even for a moment) and moved into place only when the ledger has
recorded its public key, so a refused or failed `keys init`/`keys rotate` leaves the old
file as it was and no stray key behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.credentials import multibase
from ledger.errors import InvalidInput, LedgerError

DEFAULT_PATH = "studyledger-signing.key"  # in the current folder, like the default store
MODE = 0o600


def public_multikey(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase.public_multikey(raw)


@contextmanager
def new_key_file(path: Path, *, replace: bool) -> Iterator[tuple[Ed25519PrivateKey, str]]:
    """Make a key pair; yield (private key, public Multikey); on leaving the block without an
    error, the private key is at `path` (mode 0600). With `replace` False an existing file is refused."""
    path = Path(path)
    if not replace and path.exists():
        raise LedgerError(f"Refused: a key file exists at {path} already; nothing was written.")
    if not path.parent.is_dir():
        raise InvalidInput(f"Invalid input: --key-file {path}: the folder does not exist.")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    except OSError as error:
        raise InvalidInput(f"Invalid input: --key-file {path}: cannot write there ({error.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), MODE)  # whatever the umask
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        yield key, public_multikey(key)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def load(path: Path) -> Ed25519PrivateKey:
    """The private key in the file at `path` (InvalidInput if it is missing or no Ed25519 key)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"Invalid input: cannot read the signing key file {path} ({error.strerror}); "
                           "give it with --key-file or STUDYLEDGER_SIGNING_KEY.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"Invalid input: {path} holds no unencrypted Ed25519 private key (PKCS #8 PEM).")
    return key
