"""The ledger's side of SPEC §10: the register's signing keys, and issuing a signed credential.

The bodies of `Ledger.init_keys`, `Ledger.rotate_keys` and `Ledger.issue_credential` (the
`keys init|rotate` and `credential issue` write commands), kept here so that the application
class stays thin. Each loads aggregates, calls them, and commits through the ledger, exactly
like the other write methods; nothing is written when one refuses.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.credential import Credential
from domain.errors import UnknownProfessional
from domain.signing_key import KeysAlreadyInitialised, NoSigningKey, SigningKeys
from ledger.credentials import dataintegrity, keyfile, multibase, openbadge
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.app import Ledger

DEFAULT_ISSUER_NAME = "Studyledger register"


class ProfessionalErased(LedgerError):
    """No credential for an erased professional (SPEC §9): there is nobody left to name."""


class KeyFileNotCurrent(LedgerError):
    """The private key given is not the register's current signing key."""


def signing_keys(ledger: Ledger) -> SigningKeys | None:
    return ledger._find(SigningKeys, SigningKeys.create_id())


def key_table(ledger: Ledger) -> list[dict[str, Any]]:
    """The register's keys, oldest first: {"public_key", "did", "valid_from", "valid_until"} (datetimes)."""
    keys = signing_keys(ledger)
    return [{**k, "did": multibase.did_key(k["public_key"])} for k in (keys.keys if keys else [])]


def _key_json(key: dict[str, Any]) -> dict[str, Any]:
    return {"public_key": key["public_key"], "did": multibase.did_key(key["public_key"]),
            "verification_method": multibase.verification_method(key["public_key"]),
            "valid_from": key["valid_from"].isoformat(),
            "valid_until": key["valid_until"].isoformat() if key["valid_until"] else None}


def init_keys(ledger: Ledger, key_file: str, issuer_name: str | None = None, issuer_url: str | None = None) -> dict:
    from ledger.app import REGISTER

    if signing_keys(ledger) is not None:
        raise KeysAlreadyInitialised("the register has a signing key already; use 'studyledger keys rotate'")
    with keyfile.new_key_file(Path(key_file), replace=False) as (_, public_key):
        keys = SigningKeys(
            public_key=public_key, valid_from=ledger._now, issuer_name=issuer_name or DEFAULT_ISSUER_NAME,
            issuer_url=issuer_url, register_uri=issuer_url or f"urn:uuid:{uuid.uuid4()}",
            actor=REGISTER, os_user=ledger.os_user,
        )
        result = {"status": "initialised", "key_file": str(key_file), **_key_json(keys.current)}
        return ledger._commit(result, keys, actor=REGISTER)


def rotate_keys(ledger: Ledger, key_file: str) -> dict:
    from ledger.app import REGISTER

    keys = signing_keys(ledger)
    if keys is None:
        raise NoSigningKey("the register has no signing key yet; use 'studyledger keys init'")
    retired = keys.current["public_key"]
    with keyfile.new_key_file(Path(key_file), replace=True) as (_, public_key):
        keys.rotate(public_key, ledger._now, actor=REGISTER, os_user=ledger.os_user)
        result = {"status": "rotated", "key_file": str(key_file), "retired": retired, **_key_json(keys.current)}
        return ledger._commit(result, keys, actor=REGISTER)


# What a credential states comes from the read models (projections.reader.Reader.credential_facts), which
# the caller has open: it lends their reader for the command with `reading_facts`. So the command's
# content (and its --request-id fingerprint) is what the user asked for, not the figures of the moment.
_FACTS: ContextVar[Callable[..., dict[str, Any]] | None] = ContextVar("credential_facts", default=None)


@contextmanager
def reading_facts(read: Callable[..., dict[str, Any]]) -> Iterator[None]:
    token = _FACTS.set(read)
    try:
        yield
    finally:
        _FACTS.reset(token)


def issue_credential(
    ledger: Ledger, professional: str, key_file: str, at: date | None = None, known_at: datetime | None = None
) -> dict:
    from ledger.app import REGISTER

    found = ledger._professional(professional)  # rule 1: unknown professionals get nothing
    if getattr(found, "erased", False) or getattr(found, "erased_on", None) is not None:
        # Seam for SPEC §9: erasure (built separately) marks the aggregate; an erased person gets no credential.
        raise ProfessionalErased(f"Refused: {professional} was erased; the register issues no credential for them.")
    read = _FACTS.get()
    assert read is not None, "issuing needs the read models: call it inside reading_facts(reader.credential_facts)"
    facts = read(professional, at, known_at or ledger._now)
    facts.pop("behind", None)
    balance = facts["balance"]
    assert facts["professional"] == professional == balance["professional"]
    if balance["cycle"] is None:
        raise UnknownProfessional(f"no professional '{professional}' was registered by {facts['known_at']}")
    keys = signing_keys(ledger)
    if keys is None:
        raise NoSigningKey("the register has no signing key yet; use 'studyledger keys init'")
    private_key = keyfile.load(Path(key_file))
    public_key = keyfile.public_multikey(private_key)
    if public_key != keys.current["public_key"]:
        rotated = keys.key(public_key)
        raise KeyFileNotCurrent(
            f"Refused: the key in {key_file} is not the register's current signing key"
            + (" (it was rotated out)" if rotated else "") + "; nothing was written.")
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    issuer = {"id": multibase.did_key(public_key), "name": keys.issuer_name, "url": keys.issuer_url,
              "register_uri": keys.register_uri}
    unsigned = openbadge.build(facts, issuer=issuer, credential_id=credential_id, issued_at=ledger._now,
                               salt=secrets.token_hex(16))
    document = dataintegrity.sign(unsigned, private_key, verification_method=multibase.verification_method(public_key),
                                  created=unsigned["validFrom"])
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    cycle = balance["cycle"]
    record = Credential(
        credential_id=credential_id, professional_id=professional, at=date.fromisoformat(facts["at"]),
        known_at=datetime.fromisoformat(facts["known_at"]), cycle_start=date.fromisoformat(cycle["start"]),
        cycle_end=date.fromisoformat(cycle["end"]), points=cycle["points"], claims=len(facts["evidence"]),
        public_key=public_key, digest=digest, actor=REGISTER, os_user=ledger.os_user,
    )
    result = {"credential": credential_id, "professional": professional, "cycle": cycle, "points": cycle["points"],
              "claims": len(facts["evidence"]), "public_key": public_key, "digest": digest, "document": document}
    return ledger._commit(result, record, actor=REGISTER)
