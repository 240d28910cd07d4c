"""The Data Integrity cryptosuite `eddsa-rdfc-2022` (W3C "Data Integrity EdDSA Cryptosuites v1.0", §3.3).

To sign: canonicalize the document without its proof and the proof configuration (the
proof without `proofValue`, with the document's `@context`) by RDF Dataset Canonicalization
(RDFC-1.0, which pyld calls URDNA2015), hash each with SHA-256, sign the proof hash followed
by the document hash with Ed25519, and write the signature as multibase base58btc.
Verifying repeats the hashes and checks the signature. Contexts come only from `loader`.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from ledger.credentials import multibase
from ledger.credentials.loader import UnknownContext, document_loader

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

_DEFAULT_LOADER = document_loader()
_DEFAULT_CACHE: LRUCache = LRUCache(maxsize=100)  # resolved contexts of the shipped files only


class CanonicalizationError(ValueError):
    """The document cannot be canonicalized (not JSON-LD, or an unknown context)."""


def canonicalize(document: dict[str, Any], loader: Callable[..., Any] | None = None) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document."""
    if loader is None:
        loader, cache = _DEFAULT_LOADER, _DEFAULT_CACHE
    else:
        cache = LRUCache(maxsize=100)  # never share resolved contexts between loaders
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": loader,
        "contextResolver": ContextResolver(cache, loader),
    }
    try:
        return jsonld.normalize(document, options)
    except jsonld.JsonLdError as error:
        unknown = _cause(error, UnknownContext)
        if unknown is not None:
            raise unknown from None
        raise CanonicalizationError(f"it is not valid JSON-LD ({_innermost(error)})") from None


def _cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 50:
        if isinstance(current, kind):
            return current
        details = getattr(current, "details", None)
        if isinstance(details, dict) and isinstance(details.get("cause"), BaseException):
            inner = details["cause"]
            if isinstance(inner, kind):
                return inner
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _innermost(error: BaseException) -> str:
    current: BaseException = error
    for _ in range(50):
        following = current.__cause__ or current.__context__
        if following is None:
            break
        current = following
    message = current.args[0] if current.args else type(current).__name__
    return str(message).rstrip(".")


def proof_configuration(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """The proof without its value, in the document's context: what is canonicalized and hashed."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return config


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def hash_data(document: dict[str, Any], proof: dict[str, Any], loader: Callable[..., Any] | None = None) -> bytes:
    """SHA-256 of the canonical proof configuration, then SHA-256 of the canonical document (64 bytes)."""
    proof_hash = hashlib.sha256(canonicalize(proof_configuration(document, proof), loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured(document), loader).encode("utf-8")).digest()
    return proof_hash + document_hash


def sign(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
    as_list: bool = True,
    loader: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """`document` with an embedded proof (in a list when `as_list`: the OB 3.0 schema wants an array)."""
    assert "proof" not in document, "sign an unsecured document"
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(hash_data(document, proof, loader))
    proof["proofValue"] = multibase.encode(signature)
    secured = copy.deepcopy(document)
    secured["proof"] = [proof] if as_list else proof
    return secured


class ProofError(ValueError):
    """The proof is missing, malformed, or does not verify."""


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    if proof is None:
        raise ProofError("it has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs or not all(isinstance(p, dict) for p in proofs):
        raise ProofError("its proof is not a proof object")
    return proofs


def verify_proof(
    document: dict[str, Any], proof: dict[str, Any], public_key: bytes, loader: Callable[..., Any] | None = None
) -> None:
    """Check one `eddsa-rdfc-2022` proof of `document` against a raw Ed25519 public key (ProofError if not)."""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"its proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("its proof purpose is not assertionMethod")
    try:
        signature = multibase.decode(proof.get("proofValue"))  # type: ignore[arg-type]
    except multibase.MultibaseError as error:
        raise ProofError(f"its proofValue is not multibase base58btc ({error})") from None
    if len(signature) != 64:
        raise ProofError("its proofValue is not an Ed25519 signature (64 bytes)")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, hash_data(document, proof, loader))
    except InvalidSignature:
        raise ProofError("the signature does not match the credential: it was changed after signing, "
                         "or signed with another key") from None
