"""The register's signing keys: validity from recording until rotated out (domain/signing_key.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from domain.base import acting_as
from domain.signing_key import KeyAlreadyUsed, SigningKeys

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def acting() -> Iterator[None]:
    """Events record who acted: the application sets it once per command, these tests once per test."""
    with acting_as("register", "tester"):
        yield


def keys() -> SigningKeys:
    return SigningKeys(public_key="z6MkA", valid_from=T0, issuer_name="Register", issuer_url=None,
                       register_uri="urn:uuid:1")


def test_a_key_is_valid_from_its_recording_until_it_is_rotated_out():
    ring = keys()
    rotated = T0 + timedelta(days=10)
    ring.rotate("z6MkB", rotated)
    assert not ring.valid_at("z6MkA", T0 - timedelta(microseconds=1))
    assert ring.valid_at("z6MkA", T0)
    assert ring.valid_at("z6MkA", rotated - timedelta(microseconds=1))
    assert not ring.valid_at("z6MkA", rotated)
    assert ring.valid_at("z6MkB", rotated) and ring.valid_at("z6MkB", rotated + timedelta(days=3650))
    assert not ring.valid_at("z6MkC", rotated)
    assert ring.current["public_key"] == "z6MkB"


def test_a_rotation_needs_a_key_never_used_before():
    ring = keys()
    ring.rotate("z6MkB", T0 + timedelta(days=1))
    for used in ("z6MkA", "z6MkB"):
        with pytest.raises(KeyAlreadyUsed):
            ring.rotate(used, T0 + timedelta(days=2))
    assert [k["public_key"] for k in ring.keys] == ["z6MkA", "z6MkB"]


def test_the_keys_replay_from_their_events():
    ring = keys()
    ring.rotate("z6MkB", T0 + timedelta(days=1))
    replayed = None
    for event in ring.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.keys == ring.keys and replayed.register_uri == "urn:uuid:1"
