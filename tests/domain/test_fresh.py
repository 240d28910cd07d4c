"""Random ids and AES-GCM nonces come from domain.fresh.fresh_bytes, which reads the OS's randomness 4 KB
at a time. A nonce used twice with one key gives AES-GCM away, so no byte may be handed out twice,
not even to a forked child after its parent. (Threads take them under a lock; the GIL makes a race
too rare for a test to show.)"""

from __future__ import annotations

import os
import uuid

import pytest

from domain.base import LedgerAggregate
from domain.fresh import fresh_bytes


def test_no_bytes_are_handed_out_twice_across_refills():
    taken = [fresh_bytes(12) for _ in range(5000)]  # 60 KB: about fifteen refills of the pool
    assert all(len(nonce) == 12 for nonce in taken)
    assert len(set(taken)) == len(taken)


def test_a_take_larger_than_the_pool_is_whole():
    assert len(fresh_bytes(10_000)) == 10_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_reuse_what_its_parent_read():
    fresh_bytes(1)  # the pool is full, its next bytes not handed out yet
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's half
        os.write(writer, fresh_bytes(16))
        os._exit(0)
    os.close(writer)
    childs = os.read(reader, 16)
    os.close(reader)
    os.waitpid(child, 0)
    assert len(childs) == 16 and childs != fresh_bytes(16)


def test_random_aggregate_ids_are_version_4_uuids_as_the_librarys():
    ids = [LedgerAggregate.create_id() for _ in range(1000)]
    assert all(isinstance(i, uuid.UUID) and i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == 1000
