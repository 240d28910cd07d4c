"""Multibase base58btc (the `z` prefix), Ed25519 Multikeys and `did:key` identifiers.

A Multikey is the multicodec prefix of the key type followed by the raw key bytes, in
base58btc with the prefix `z`: `0xed 0x01` for an Ed25519 public key (`z6Mk…`), `0x80 0x26`
for an Ed25519 private key (`z3u2…`, used only by the W3C test vectors). A few lines of
code rather than a dependency.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}

ED25519_PUBLIC = b"\xed\x01"
ED25519_PRIVATE = b"\x80\x26"


class MultibaseError(ValueError):
    pass


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for c in text:
        if c not in _INDEX:
            raise MultibaseError(f"'{c}' is not a base58btc character")
        number = number * 58 + _INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    """Multibase base58btc: `z` and the base58btc digits."""
    return "z" + b58encode(data)


def decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise MultibaseError("a multibase value must start with 'z' (base58btc)")
    return b58decode(text[1:])


def public_multikey(raw: bytes) -> str:
    assert len(raw) == 32, "an Ed25519 public key is 32 bytes"
    return encode(ED25519_PUBLIC + raw)


def public_key_bytes(multikey: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public Multikey (`z6Mk…`)."""
    data = decode(multikey)
    if not data.startswith(ED25519_PUBLIC) or len(data) != 34:
        raise MultibaseError("not an Ed25519 public key Multikey")
    return data[2:]


def private_key_bytes(multikey: str) -> bytes:
    data = decode(multikey)
    if not data.startswith(ED25519_PRIVATE) or len(data) != 34:
        raise MultibaseError("not an Ed25519 private key Multikey")
    return data[2:]


def did_key(multikey: str) -> str:
    return f"did:key:{multikey}"


def verification_method(multikey: str) -> str:
    """The `did:key` verification method of a key: `did:key:z6Mk…#z6Mk…`."""
    return f"did:key:{multikey}#{multikey}"


def key_of_verification_method(method: str) -> str:
    """The public Multikey a `did:key:z…#z…` verification method names (MultibaseError otherwise)."""
    if not isinstance(method, str) or not method.startswith("did:key:"):
        raise MultibaseError("only did:key verification methods can be resolved offline")
    did, _, fragment = method[len("did:key:"):].partition("#")
    if fragment and fragment != did:
        raise MultibaseError("the did:key fragment does not match its key")
    public_key_bytes(did)  # it must be an Ed25519 key
    return did
