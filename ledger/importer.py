"""`import FILE`: commands as JSON Lines, validated by the same schemas, applied all-or-nothing.

Every line is validated and carried out against the ledger's rules, in order, inside one
transaction that is committed only after the last line. The events are written page by
page as they come, and the aggregates the lines touch are kept in a bounded cache (read
back through the import's own transaction once dropped), so memory stays flat however
long the file. The first bad line stops the import, names its number, and the transaction
is rolled back: nothing is written.

While it runs, the import holds the store's write lock (on SQLite from its start, on
PostgreSQL from its first page): other writers wait up to their 5 s timeout, then exit 3.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from marshmallow import ValidationError

from domain.errors import DomainError
from ledger import jsonlines
from ledger.app import Ledger
from ledger.errors import InvalidInput
from ledger.schemas import WRITE_SCHEMAS, describe, schema_for
from storage.eventlog import ImportTransaction


def parse_line(number: int, line: str) -> tuple[str, dict[str, Any]]:
    """One import line → (command path, validated values)."""
    try:
        data = jsonlines.loads(line)  # bounded depth, no repeated keys
    except jsonlines.NotStrictJSON as error:
        raise InvalidInput(f"Line {number}: {error}.") from None
    except RecursionError:  # a belt to the depth check's braces: never a storage failure
        raise InvalidInput(f"Line {number}: nested too deep.") from None
    except ValueError as error:
        raise InvalidInput(f"Line {number}: not valid JSON ({error.args[0].split(':')[0]}).") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"Line {number}: must be a JSON object with a \"command\".")
    command = data.pop("command", None)
    if not isinstance(command, str) or command not in WRITE_SCHEMAS:
        known = ", ".join(sorted(WRITE_SCHEMAS))
        raise InvalidInput(f"Line {number}: \"command\" must be one of: {known}.")
    try:
        return command, schema_for(command).load(data)
    except ValidationError as error:
        raise InvalidInput(f"Line {number} ({command}): " + describe(error.messages, option_style=False)) from None


PAGE_EVENTS = 5000  # events written per page
CACHE_LIMIT = 20000  # aggregates kept in memory between pages
CACHE_KEEP = 5000  # of which kept when the cache is trimmed


def import_lines(ledger: Ledger, lines: Iterable[str]) -> dict[str, Any]:
    """Apply every line, or none. Returns counts of commands and events."""
    assert ledger._staged is None, "imports do not nest"
    ledger._staged = []
    # Into an empty store, nothing is stored but what this import wrote: a miss needs no
    # look-up unless the aggregate may have been dropped from the cache (a fixed-size filter
    # of their ids says so). A concurrent writer creating the same aggregate makes the insert
    # conflict.
    ledger._absent_unless_cached = not ledger.recorder.max_notification_id()
    ledger._evicted = IdFilter()
    commands = events = 0
    try:
        with ledger.event_log.import_transaction() as transaction:
            ledger._import = transaction
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                command, values = parse_line(number, line)
                try:
                    ledger.run(command, values)
                except DomainError as error:
                    error.message = f"Line {number} ({command}): {error.message}"
                    raise
                commands += 1
                if len(ledger._staged) >= PAGE_EVENTS:
                    events += _write_page(ledger, transaction)
            events += _write_page(ledger, transaction)
        return {"commands": commands, "events": events}
    finally:
        ledger._staged = None
        ledger._import = None
        ledger._cache.clear()
        ledger._absent.clear()
        ledger._evicted = frozenset()
        ledger._absent_unless_cached = False


def _write_page(ledger: Ledger, transaction: ImportTransaction) -> int:
    """Write the staged events in the import's transaction; trim the cache. Returns how many."""
    staged = ledger._staged
    assert staged is not None
    written = len(staged)
    if staged:
        transaction.insert(staged)
        staged.clear()
    cache = ledger._cache
    if len(cache) > CACHE_LIMIT:  # all written: read back through the transaction when needed again
        # Keep the aggregates with the longest histories (networks, busy memberships), the ones a
        # read-back costs most and later lines touch most; drop the rest (claims, id guards).
        # Clearing all of them made an import's time grow as the square of its size.
        ranked = sorted(cache.items(), key=lambda item: item[1].version, reverse=True)
        dropped = [aggregate_id for aggregate_id, _ in ranked[CACHE_KEEP:]]
        if ledger._absent_unless_cached:
            ledger._evicted.update(dropped)
        for aggregate_id in dropped:
            del cache[aggregate_id]
    return written


class IdFilter:
    """A set of aggregate ids that may answer "maybe" for an id never added, in 2 MB whatever its size.

    A Bloom filter: three bits per id, taken from disjoint parts of the id (uuid5 ids are
    SHA-1 digests, so their bits are already evenly spread). A false "maybe" only costs a
    look-up that finds nothing; at a million ids that happens for about 1 in 200 misses.
    A set of the ids themselves grew the import by 66 MB per million events.
    """

    BITS = 1 << 24

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def _positions(self, aggregate_id: UUID) -> tuple[int, int, int]:
        n = aggregate_id.int
        mask = self.BITS - 1
        return n & mask, (n >> 40) & mask, (n >> 80) & mask

    def update(self, ids: Iterable[UUID]) -> None:
        bits = self._bits
        for aggregate_id in ids:
            for p in self._positions(aggregate_id):
                bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, aggregate_id: object) -> bool:
        assert isinstance(aggregate_id, UUID)
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(aggregate_id))
