"""`import FILE`: commands as JSON Lines, validated by the same schemas, applied all-or-nothing.

Every line is validated and carried out against the ledger's rules, in order, inside one
transaction that is committed only after the last line. The events are written page by
page as they come, and the aggregates the lines touch are kept in a bounded cache (read
back through the import's own transaction once dropped), so memory is bounded however
long the file. The first bad line stops the import, names its number, and the transaction
is rolled back: nothing is written.

While it runs, the import holds the store's write lock (on SQLite from the start of its
transaction, on PostgreSQL from its first page): other writers wait up to their 5 s timeout, then
exit 3. A long import's transaction is held, and its pages written, by a writer process
(storage.writer), while this one goes on with the next page's commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any

from marshmallow import ValidationError

from domain.claim import Claim
from domain.errors import DomainError
from ledger import jsonlines
from ledger.ahead import parsed
from ledger.app import Ledger
from ledger.commands import Command, all_commands, schema_for
from ledger.errors import InvalidInput
from ledger.fields import describe
from ledger.requests import Request
from storage import writer
from storage.bulk import fewer_collections

# The commands an import line may carry, by path.
IMPORTABLE = sorted(path for path, cls in all_commands().items() if cls.importable)


def parse_line(number: int, line: str) -> Command:
    """One import line → its command, validated by the command's schema."""
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
    path = data.pop("command", None)
    if not isinstance(path, str) or path not in IMPORTABLE:
        raise InvalidInput(f"Line {number}: \"command\" must be one of: {', '.join(IMPORTABLE)}.")
    try:
        command = schema_for(path).load(data)
    except ValidationError as error:
        raise InvalidInput(f"Line {number} ({path}): " + describe(error.messages, option_style=False)) from None
    if command.request_id is not None:
        command.fingerprint  # noqa: B018 - worked out where the line is parsed: in a long import, the parser process
    return command


PAGE_EVENTS = 5000  # events written per page
CACHE_LIMIT = 100_000  # aggregates kept in memory between pages (about 2 KB each)
CACHE_KEEP = 80_000  # of which kept, the most recently used, when the cache is trimmed
# Dropped from the cache before the others: a claim is touched by a few lines close together (submitted,
# endorsed, decided) and a request once; a professional, a membership or a network by every claim in it.
DROP_FIRST = (Claim, Request)
# From this size of input (about 5,000 lines) the pages are written by a writer process (storage.writer),
# which starts meanwhile (about 0.3 s): faster by 5-9% at 10,000 events (1 MB), as fast at 5,000, slower
# by a tenth at 2,000 (benchmarks/README.md, 2026-12-04 17:15).
WRITER_FROM = 1 << 20


def import_lines(ledger: Ledger, lines: Iterable[str], size: int | None = None) -> dict[str, Any]:
    """Apply every line, or none. Returns counts of commands and events. A long import's lines are
    parsed ahead in a second process (ledger.ahead); one of at least `WRITER_FROM` bytes (`size`: the
    input's, if known) has its pages written by another (storage.writer)."""
    empty = not ledger.recorder.max_notification_id()
    commands = events = 0
    with (closing(parsed(lines, parse_line)) as given, fewer_collections(), _transaction(ledger, size) as transaction,
          ledger.unit_of_work.importing(transaction, into_empty_store=empty) as staging,
          ledger.people.indexed() if ledger.people is not None else nullcontext()):
        for number, command in given:
            try:
                ledger.handle(command)
            except DomainError as error:
                error.message = f"Line {number} ({command.path}): {error.message}"
                raise
            commands += 1
            if len(staging.events) >= PAGE_EVENTS:
                events += staging.write_page(CACHE_LIMIT, CACHE_KEEP, DROP_FIRST)
        events += staging.write_page(CACHE_LIMIT, CACHE_KEEP, DROP_FIRST)
    return {"commands": commands, "events": events}


def _transaction(ledger: Ledger, size: int | None) -> AbstractContextManager[Any]:
    """The import's one transaction: in a writer process for an input of `WRITER_FROM` bytes or more (an
    input of unknown size is taken as short), if one can be started; else here."""
    process = writer.start() if (size or 0) >= WRITER_FROM else None
    if process is None:
        return ledger.event_log.import_transaction()
    return writer.writer_transaction(process, ledger.store, ledger.name, ledger.recorder.keystore)
