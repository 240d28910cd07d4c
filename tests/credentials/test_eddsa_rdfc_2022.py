"""The `eddsa-rdfc-2022` cryptosuite against the W3C `vc-di-eddsa` test vectors, byte for byte,
and the document loader that serves only shipped contexts (tests/data/credentials/README.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.credentials import dataintegrity, multibase
from ledger.credentials.keyfile import public_multikey
from ledger.credentials.loader import SHIPPED, UnknownContext, document_loader

DATA = Path(__file__).parent.parent / "data" / "credentials"
VECTORS = DATA / "vc-di-eddsa"
RDFC = VECTORS / "eddsa-rdfc-2022"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def text(name: str) -> str:
    return (RDFC / name).read_text("utf-8")


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def loader():
    """The shipped contexts plus the W3C examples context, which only these vectors use."""
    return document_loader({EXAMPLES_V2: load(DATA / "contexts" / "www.w3.org_ns_credentials_examples_v2.jsonld")})


@pytest.fixture(scope="module")
def key_pair():
    pair = load(VECTORS / "keyPair.json")
    private_key = Ed25519PrivateKey.from_private_bytes(multibase.private_key_bytes(pair["privateKeyMultibase"]))
    return pair, private_key


def test_the_canonical_document_is_the_vectors(loader):
    assert dataintegrity.canonicalize(load(VECTORS / "unsigned.json"), loader) == text("canonDocDataInt.txt")


def test_the_canonical_proof_configuration_is_the_vectors(loader):
    assert dataintegrity.canonicalize(load(RDFC / "proofConfigDataInt.json"), loader) == text("proofCanonDataInt.txt")


def test_the_hashes_are_the_vectors(loader):
    document = load(VECTORS / "unsigned.json")
    config = load(RDFC / "proofConfigDataInt.json")
    proof = {k: v for k, v in config.items() if k != "@context"}
    combined = dataintegrity.hash_data(document, proof, loader)
    assert combined[:32].hex() == text("proofHashDataInt.txt").strip()
    assert combined[32:].hex() == text("docHashDataInt.txt").strip()
    assert combined.hex() == text("combinedHashDataInt.txt").strip()
    assert combined[32:] == hashlib.sha256(text("canonDocDataInt.txt").encode()).digest()


def test_the_vectors_key_pair_is_read_as_multikeys(key_pair):
    pair, private_key = key_pair
    assert public_multikey(private_key) == pair["publicKeyMultibase"]
    assert multibase.public_multikey(multibase.public_key_bytes(pair["publicKeyMultibase"])) == pair["publicKeyMultibase"]


def test_the_signature_and_the_signed_document_are_the_vectors(loader, key_pair):
    _, private_key = key_pair
    config = load(RDFC / "proofConfigDataInt.json")
    signed = dataintegrity.sign(
        load(VECTORS / "unsigned.json"), private_key, verification_method=config["verificationMethod"],
        created=config["created"], as_list=False, loader=loader,
    )
    value = signed["proof"]["proofValue"]
    assert value == text("sigBTC58DataInt.txt").strip()
    assert multibase.decode(value).hex() == text("sigHexDataInt.txt").strip()
    assert signed == load(RDFC / "signedDataInt.json")
    # the serialized bytes too, laid out as the vector file is
    assert json.dumps(signed, indent=2) + "" == (RDFC / "signedDataInt.json").read_text("utf-8").rstrip("\n")


def test_the_vectors_signed_document_verifies_and_a_changed_one_does_not(loader, key_pair):
    pair, _ = key_pair
    signed = load(RDFC / "signedDataInt.json")
    raw = multibase.public_key_bytes(pair["publicKeyMultibase"])
    dataintegrity.verify_proof(signed, signed["proof"], raw, loader)
    signed["credentialSubject"]["alumniOf"] = "The School of Examplez"
    with pytest.raises(dataintegrity.ProofError, match="does not match"):
        dataintegrity.verify_proof(signed, signed["proof"], raw, loader)


def test_base58btc_round_trips_leading_zeros():
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(256)), b"\xff" * 64):
        assert multibase.b58decode(multibase.b58encode(data)) == data
    assert multibase.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    with pytest.raises(multibase.MultibaseError):
        multibase.decode("zI0O")  # not base58btc digits


def test_a_context_the_package_does_not_ship_is_refused_without_fetching():
    document = load(VECTORS / "unsigned.json")  # names the W3C examples context, which is not shipped
    with pytest.raises(UnknownContext) as refused:
        dataintegrity.canonicalize(document)
    assert refused.value.url == EXAMPLES_V2
    assert "not one the register ships" in str(refused.value)


def test_every_shipped_context_is_in_the_package():
    for url in SHIPPED:
        document = document_loader()(url)["document"]
        assert "@context" in document, url
