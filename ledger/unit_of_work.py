"""The unit of work: where the ledger reads the aggregates a command needs and saves what it changed.

Outside an import, straight from the repository and into the store, one transaction a command.
While an import runs (`importing`), the changed aggregates' events are staged for the import's
own transaction, written a page at a time, and the aggregates the lines touch are kept in a
bounded cache — read back through that transaction once dropped — so memory is bounded
however long the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent


class UnitOfWork:
    def __init__(self, get: Callable[[UUID], Aggregate], save: Callable[..., Any], mapper: Mapper) -> None:
        self._get, self._save, self._mapper = get, save, mapper

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as it stands, or None if there is none."""
        try:
            return self._get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def save(self, *aggregates: Aggregate) -> None:
        """Save every changed aggregate in one transaction."""
        self._save(*aggregates)

    @contextmanager
    def importing(self, transaction: Any, *, into_empty_store: bool) -> Iterator[Staging]:
        """Read and save through the import's `transaction` (storage.eventlog.ImportTransaction) inside the
        block: its staging's `get` and `stage` stand in for `get` and `save` (called directly, per aggregate
        read and per command: no test of which applies on that path)."""
        assert "get" not in vars(self), "imports do not nest"
        staging = Staging(transaction, self._mapper, into_empty_store)
        self.get, self.save = staging.get, staging.stage  # type: ignore[method-assign]
        try:
            yield staging
        finally:
            del self.get, self.save


class Staging:
    """An import's staged events, and its cache of the aggregates its lines touched."""

    def __init__(self, transaction: Any, mapper: Mapper, into_empty_store: bool) -> None:
        self.events: list[StoredEvent] = []
        self._transaction, self._mapper = transaction, mapper
        # Keyed by the ids' numbers: a UUID's hash is a call of Python code, and a command took 16 of them.
        self._cache: dict[int, Aggregate] = {}
        self._absent: set[int] = set()  # ids known not to be stored
        # Into an empty store, nothing is stored but what this import wrote: a miss needs no
        # look-up unless the aggregate may have been dropped from the cache (a fixed-size filter
        # of their ids says so). A concurrent writer creating the same aggregate makes the insert
        # conflict.
        self._evicted: IdFilter | None = IdFilter() if into_empty_store else None

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        cache, key = self._cache, aggregate_id.int
        cached = cache.pop(key, None)
        if cached is not None:
            cache[key] = cached  # the most recently used last: see `write_page`
            return cached
        if (self._evicted is not None and key not in self._evicted) or key in self._absent:
            return None
        aggregate = None  # as the import's own transaction sees it: its pages written so far included
        for stored in self._transaction.events(aggregate_id):
            aggregate = self._mapper.to_domain_event(stored).mutate(aggregate)
        if aggregate is None:
            self._absent.add(key)
            return None
        # Kept, changed or not: a network read for every claim in it was replayed again and
        # again from its whole history (see `write_page`: which aggregates the cache keeps).
        cache[key] = aggregate
        return aggregate

    def stage(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.events.extend(map(self._mapper.to_stored_event, aggregate.collect_events()))
            key = aggregate.id.int
            self._cache.pop(key, None)
            self._cache[key] = aggregate
            self._absent.discard(key)

    def write_page(self, cache_limit: int, cache_keep: int, drop_first: tuple[type, ...] = ()) -> int:
        """Write the staged events in the import's transaction; beyond `cache_limit` aggregates, keep
        `cache_keep` of them, dropping the aggregates of the `drop_first` types before any other. Returns
        how many events were written."""
        written = len(self.events)
        if self.events:
            self._transaction.insert(self.events)
            self.events.clear()
        cache = self._cache
        if len(cache) > cache_limit:  # all written: read back through the transaction when needed again
            # Drop the least recently used, those of the `drop_first` types before any other: keep the people,
            # memberships and networks that every claim touches, and the claims of the last lines (endorsed
            # and decided soon after). Keeping the longest histories instead dropped professionals and
            # memberships by the thousand at a million events, each then read back and decrypted again: an
            # import slowed to a third of its speed. By recency alone, the claims (207,000 there, each
            # touched by a few lines close together) still pushed out 216,000 of them: 13% of the import.
            excess = len(cache) - min(cache_keep, cache_limit)
            dropped = list(islice((i for i, a in cache.items() if isinstance(a, drop_first)), excess))
            if len(dropped) < excess:
                chosen = set(dropped)
                dropped += islice((i for i in cache if i not in chosen), excess - len(dropped))
            if self._evicted is not None:
                self._evicted.update(dropped)
            for aggregate_id in dropped:
                del cache[aggregate_id]
        return written


class IdFilter:
    """A set of aggregate ids (their numbers: `UUID.int`) that may answer "maybe" for an id never added,
    in 2 MB whatever its size.

    A Bloom filter: three bits per id, taken from disjoint parts of the id (uuid5 ids are
    SHA-1 digests, so their bits are already evenly spread). A false "maybe" only costs a
    look-up that finds nothing; at a million ids that happens for about 1 in 200 misses.
    A set of the ids themselves grew the import by 66 MB per million events.
    """

    BITS = 1 << 24

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def _positions(self, n: int) -> tuple[int, int, int]:
        mask = self.BITS - 1
        return n & mask, (n >> 40) & mask, (n >> 80) & mask

    def update(self, ids: Iterable[int]) -> None:
        bits = self._bits
        for n in ids:
            for p in self._positions(n):
                bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, n: object) -> bool:
        assert isinstance(n, int)
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(n))
