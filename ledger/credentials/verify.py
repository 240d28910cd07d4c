"""`credential verify`: is this document a credential the register issued, unchanged?

Checks, in order, each naming what failed: the official OB 3.0 JSON Schema (1EdTech's
achievement credential schema, shipped in `schema/`); the contexts (only shipped ones); the
validity dates; the `eddsa-rdfc-2022` proof; and that the proof's key was the register's valid
key at `validFrom` (so a credential dated after its key was rotated out is refused). Pure: the
caller passes the register's keys and the instant to judge the dates by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from ledger.credentials import dataintegrity, multibase
from ledger.credentials.loader import SHIPPED, UnknownContext

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"


@dataclass(frozen=True)
class Verdict:
    valid: bool
    check: str  # "schema", "context", "dates", "proof", "key", or "ok"
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "check": self.check, "reason": self.reason}


class Invalid(Exception):
    def __init__(self, check: str, reason: str):
        super().__init__(reason)
        self.check = check
        self.reason = reason


@cache
def schema() -> dict[str, Any]:
    return json.loads(files("ledger.credentials").joinpath("schema", SCHEMA_FILE).read_text("utf-8"))


@cache
def _validator() -> Any:
    from jsonschema import Draft201909Validator

    return Draft201909Validator(schema(), format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_problems(document: Any) -> list[str]:
    """The OB 3.0 schema's complaints about `document`, one short line each, by path."""
    from jsonschema.exceptions import best_match

    problems = []
    errors = []
    for error in _validator().iter_errors(document):
        while error.validator in ("oneOf", "anyOf") and error.context:  # say which part of the likeliest branch failed
            # the branch of the instance's own JSON type: an object issuer is judged as a Profile, not a string
            deeper = [e for e in error.context if e.validator != "type" or e.relative_path]
            error = best_match(deeper or error.context)
        errors.append(error)
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path) or "the credential"
        problems.append(f"{where}: {_short(error)}")
    return problems


def _short(error: Any) -> str:
    if error.validator == "contains":
        wanted = error.validator_value.get("enum") if isinstance(error.validator_value, dict) else None
        return f"must contain {' or '.join(map(repr, wanted))}" if wanted else "misses a required item"
    if error.validator == "required":
        return error.message
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(repr, error.validator_value))}"
    message = error.message
    return message if len(message) <= 120 else f"fails the schema's '{error.validator}' check"


def _instant(value: Any, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("schema", f"{name} is not a date-time") from None
    if parsed.tzinfo is None:
        raise Invalid("schema", f"{name} has no time zone")
    return parsed


def verify(document: Any, keys: list[dict[str, Any]], now: datetime) -> Verdict:
    """Judge `document` (parsed JSON). `keys`: the register's keys, each {"public_key", "valid_from", "valid_until"}."""
    try:
        public_key = _check(document, keys, now)
    except Invalid as invalid:
        return Verdict(False, invalid.check, invalid.reason)
    except RecursionError:  # hostile input: nesting deeper than any credential
        return Verdict(False, "schema", "it is nested too deeply to be a credential")
    return Verdict(True, "ok", f"a valid credential of the register, signed with its key {public_key}")


def _check(document: Any, keys: list[dict[str, Any]], now: datetime) -> str:
    if not isinstance(document, dict):
        raise Invalid("schema", "it is not a JSON object")
    valid_from = _instant(document.get("validFrom"), "validFrom") if "validFrom" in document else None
    if valid_from is not None and valid_from > now:
        raise Invalid("dates", f"it is not valid yet: validFrom is {document['validFrom']}")
    if "validUntil" in document and _instant(document["validUntil"], "validUntil") <= now:
        raise Invalid("dates", f"it has expired: validUntil is {document['validUntil']}")
    problems = schema_problems(document)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise Invalid("schema", "it does not match the OB 3.0 achievement credential schema: "
                      + "; ".join(problems[:3]) + more)
    for context in document["@context"]:
        if isinstance(context, str) and context not in SHIPPED:
            raise Invalid("context", str(UnknownContext(context)))
    assert valid_from is not None, "the schema requires validFrom"
    try:
        proofs = dataintegrity.proofs_of(document)
    except dataintegrity.ProofError as error:
        raise Invalid("proof", str(error)) from None
    if len(proofs) != 1:
        raise Invalid("proof", f"it carries {len(proofs)} proofs; the register signs with exactly one")
    proof = proofs[0]
    method = proof.get("verificationMethod")
    try:
        public_key = multibase.key_of_verification_method(method)  # type: ignore[arg-type]
    except multibase.MultibaseError as error:
        raise Invalid("proof", f"its verification method {method!r} cannot be resolved: {error}") from None
    try:
        dataintegrity.verify_proof(document, proof, multibase.public_key_bytes(public_key))
    except dataintegrity.ProofError as error:
        raise Invalid("proof", str(error)) from None
    except UnknownContext as error:
        raise Invalid("context", str(error)) from None
    except dataintegrity.CanonicalizationError as error:
        raise Invalid("proof", f"it cannot be canonicalized: {error}") from None
    except (TypeError, KeyError, AttributeError, ValueError) as error:  # JSON-LD the processor chokes on
        raise Invalid("proof", f"it cannot be canonicalized ({type(error).__name__})") from None
    issuer = document["issuer"]
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != multibase.did_key(public_key):
        raise Invalid("key", f"its issuer {issuer_id!r} is not the controller of the key that signed it")
    return _check_key(public_key, valid_from, document["validFrom"], keys)


def _check_key(public_key: str, valid_from: datetime, written: str, keys: list[dict[str, Any]]) -> str:
    if not keys:
        raise Invalid("key", "the register has no signing keys (run 'studyledger keys init')")
    found = next((k for k in keys if k["public_key"] == public_key), None)
    if found is None:
        raise Invalid("key", f"it was signed with {public_key}, which is not one of the register's keys")
    if valid_from < found["valid_from"]:
        raise Invalid("key", f"its validFrom {written} is before the register recorded the key that signed it "
                             f"({found['valid_from'].isoformat()})")
    if found["valid_until"] is not None and valid_from >= found["valid_until"]:
        raise Invalid("key", f"its validFrom {written} is after the key that signed it was rotated out "
                             f"({found['valid_until'].isoformat()})")
    return public_key
