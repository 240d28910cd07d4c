"""`keys init|rotate` and `credential issue`: the register's signing keys and signed credentials (SPEC §10).

Not import commands: `keys` writes a private key file, `credential issue` reads the read models.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from marshmallow import fields

from domain.credential import Credential
from domain.errors import UnknownProfessional
from domain.signing_key import KeysAlreadyInitialised, NoSigningKey, SigningKeys
from ledger.commands.base import Command, carry_out, command, option
from ledger.fields import Day, Identifier, Instant, KeyFile, Text
from ledger.keys import FACTS, DEFAULT_ISSUER_NAME, KeyFileNotCurrent, ProfessionalErased, key_json, signing_keys

if TYPE_CHECKING:
    from ledger.app import Ledger


@command("keys init", importable=False)
@dataclass(frozen=True, kw_only=True)
class InitKeys(Command):
    key_file: str = option(KeyFile(required=True))
    issuer_name: str | None = option(Text(load_default=None))
    issuer_url: str | None = option(fields.Url(load_default=None, schemes={"https", "http"},
                                               error_messages={"invalid": "must be an http(s) URL"}))


@command("keys rotate", importable=False)
@dataclass(frozen=True, kw_only=True)
class RotateKeys(Command):
    key_file: str = option(KeyFile(required=True))


@command("credential issue", importable=False)
@dataclass(frozen=True, kw_only=True)
class IssueCredential(Command):
    professional: str = option(Identifier(required=True))
    at: date | None = option(Day(load_default=None))
    known_at: datetime | None = option(Instant(load_default=None))
    key_file: str = option(KeyFile(required=True))


@carry_out.register(InitKeys)
def init_keys(c: InitKeys, ledger: Ledger) -> dict:
    from ledger.credentials import keyfile  # the signing machinery only when signing: not on every command

    if signing_keys(ledger) is not None:
        raise KeysAlreadyInitialised("the register has a signing key already; use 'studyledger keys rotate'")
    with keyfile.new_key_file(Path(c.key_file), replace=False) as (_, public_key):
        keys = SigningKeys(
            public_key=public_key, valid_from=ledger.now, issuer_name=c.issuer_name or DEFAULT_ISSUER_NAME,
            issuer_url=c.issuer_url, register_uri=c.issuer_url or f"urn:uuid:{uuid.uuid4()}",
        )
        result = {"status": "initialised", "key_file": str(c.key_file), **key_json(keys.current)}
        return ledger.commit(result, keys)


@carry_out.register(RotateKeys)
def rotate_keys(c: RotateKeys, ledger: Ledger) -> dict:
    from ledger.credentials import keyfile

    keys = signing_keys(ledger)
    if keys is None:
        raise NoSigningKey("the register has no signing key yet; use 'studyledger keys init'")
    retired = keys.current["public_key"]
    with keyfile.new_key_file(Path(c.key_file), replace=True) as (_, public_key):
        keys.rotate(public_key, ledger.now)
        result = {"status": "rotated", "key_file": str(c.key_file), "retired": retired, **key_json(keys.current)}
        return ledger.commit(result, keys)


@carry_out.register(IssueCredential)
def issue_credential(c: IssueCredential, ledger: Ledger) -> dict:
    from ledger.credentials import dataintegrity, keyfile, multibase, openbadge

    professional, key_file = c.professional, c.key_file
    found = ledger.professional(professional)  # rule 1: unknown professionals get nothing
    if getattr(found, "erased", False) or getattr(found, "erased_on", None) is not None:
        # Seam for SPEC §9: erasure (built separately) marks the aggregate; an erased person gets no credential.
        raise ProfessionalErased(f"Refused: {professional} was erased; the register issues no credential for them.")
    read = FACTS.get()
    assert read is not None, "issuing needs the read models: call it inside reading_facts(reader.credential_facts)"
    facts = read(professional, c.at, c.known_at or ledger.now)
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
    unsigned = openbadge.build(facts, issuer=issuer, credential_id=credential_id, issued_at=ledger.now,
                               salt=secrets.token_hex(16))
    document = dataintegrity.sign(unsigned, private_key, verification_method=multibase.verification_method(public_key),
                                  created=unsigned["validFrom"])
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    cycle = balance["cycle"]
    record = Credential(
        credential_id=credential_id, professional_id=professional, at=date.fromisoformat(facts["at"]),
        known_at=datetime.fromisoformat(facts["known_at"]), cycle_start=date.fromisoformat(cycle["start"]),
        cycle_end=date.fromisoformat(cycle["end"]), points=cycle["points"], claims=len(facts["evidence"]),
        public_key=public_key, digest=digest,
    )
    result = {"credential": credential_id, "professional": professional, "cycle": cycle, "points": cycle["points"],
              "claims": len(facts["evidence"]), "public_key": public_key, "digest": digest, "document": document}
    return ledger.commit(result, record)
