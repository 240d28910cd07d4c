"""The ledger's side of SPEC §10 that the commands share: the register's signing keys, and the
read models' facts lent to `credential issue` (its command is in ledger/commands/keys.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from domain.signing_key import SigningKeys
from ledger.credentials import multibase
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.app import Ledger

DEFAULT_ISSUER_NAME = "Studyledger register"


class ProfessionalErased(LedgerError):
    """No credential for an erased professional (SPEC §9): there is nobody left to name."""


class KeyFileNotCurrent(LedgerError):
    """The private key given is not the register's current signing key."""


def signing_keys(ledger: Ledger) -> SigningKeys | None:
    return ledger.find(SigningKeys, SigningKeys.create_id())


def key_table(ledger: Ledger) -> list[dict[str, Any]]:
    """The register's keys, oldest first: {"public_key", "did", "valid_from", "valid_until"} (datetimes)."""
    keys = signing_keys(ledger)
    return [{**k, "did": multibase.did_key(k["public_key"])} for k in (keys.keys if keys else [])]


def key_json(key: dict[str, Any]) -> dict[str, Any]:
    return {"public_key": key["public_key"], "did": multibase.did_key(key["public_key"]),
            "verification_method": multibase.verification_method(key["public_key"]),
            "valid_from": key["valid_from"].isoformat(),
            "valid_until": key["valid_until"].isoformat() if key["valid_until"] else None}


# What a credential states comes from the read models (projections.reader.Reader.credential_facts), which
# the caller has open: it lends their reader for the command with `reading_facts`. So the command's
# content (and its --request-id fingerprint) is what the user asked for, not the figures of the moment.
FACTS: ContextVar[Callable[..., dict[str, Any]] | None] = ContextVar("credential_facts", default=None)


@contextmanager
def reading_facts(read: Callable[..., dict[str, Any]]) -> Iterator[None]:
    token = FACTS.set(read)
    try:
        yield
    finally:
        FACTS.reset(token)
