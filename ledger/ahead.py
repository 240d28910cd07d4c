"""A long import's lines parsed ahead, in a second process, while this one applies them.

Parsing a line (JSON, then the command's marshmallow schema) is a fifth of an import's time,
and needs nothing of the store: a second process can do it for the lines after the ones being
applied. So after its first `AHEAD_AFTER` lines an import starts a parser process, parses the
next `MEANWHILE` lines itself while that process starts, and sends it the rest, `CHUNK` lines at a
time; it applies the commands that come back, in order. Nothing else changes: every line still
goes through its schema and every command through the rules, in this process, in one
transaction; the first bad line still stops the import after the lines before it were applied,
with the same message; and the parser never sees the store, its settings or its key. A small
import never starts the process.

The parser is `python -P -m ledger.ahead`, a new interpreter (not a fork of one holding a store's
connections, nor multiprocessing's `spawn`, which would run the caller's main module again),
speaking pickle over its stdin and stdout. A thread feeds it, so that neither side blocks on a
full pipe while the other waits; at most `AHEAD` chunks are in flight. If it dies, the import
fails and nothing is written.
"""

from __future__ import annotations

import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from itertools import chain, islice
from typing import IO, Any

from ledger.errors import InvalidInput
from storage.processes import start_module

AHEAD_AFTER = 5_000   # lines parsed here before the parser process is started
MEANWHILE = 5_000     # and the lines after them, parsed here while it starts (about 0.3 s)
CHUNK = 1_000         # lines per message
AHEAD = 3             # chunks in flight

Numbered = list[tuple[int, str]]
# A chunk's answer: its commands by line number; InvalidInput's message for its first bad line (the
# answer stops there); what went wrong if parsing failed otherwise.
Answer = tuple[list[tuple[int, Any]], str | None, str | None]


def parsed(lines: Iterable[str], parse: Callable[[int, str], Any]) -> Iterator[tuple[int, Any]]:
    """(line number, command) for every line that is not blank, in order; `parse`'s InvalidInput for
    the first bad line, raised when every line before it has been taken."""
    numbered = enumerate(lines, start=1)
    yield from _here(islice(numbered, AHEAD_AFTER), parse)
    meanwhile = list(islice(numbered, MEANWHILE))
    chunks = iter(lambda: list(islice(numbered, CHUNK)), [])
    first = next(chunks, None)
    parser = _start() if first is not None else None
    if parser is None:  # a short import, or no second process to be had: every line is parsed here
        yield from _here(chain(meanwhile, first or (), chain.from_iterable(chunks)), parse)
    else:
        yield from _ahead(parser, first, chunks, _here(meanwhile, parse))


def _here(numbered: Iterable[tuple[int, str]], parse: Callable[[int, str], Any]) -> Iterator[tuple[int, Any]]:
    for number, line in numbered:
        if line.strip():
            yield number, parse(number, line)


def _start() -> subprocess.Popen[bytes] | None:
    """The parser process, or None if the system will not start one: given no store settings, key or
    password."""
    return start_module("ledger.ahead", withheld=("STUDYLEDGER_", "PG"))


def _ahead(parser: subprocess.Popen[bytes], first: Numbered, chunks: Iterator[Numbered],
           meanwhile: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """The commands of `meanwhile`, parsed here while the parser starts, then those of the chunks."""
    assert parser.stdin is not None and parser.stdout is not None
    outgoing: queue.SimpleQueue[Numbered | None] = queue.SimpleQueue()
    feeder = threading.Thread(target=_feed, args=(outgoing, parser.stdin), name="import-parser-feed", daemon=True)
    feeder.start()
    try:
        outgoing.put(first)
        in_flight, more = 1, True
        yield from meanwhile
        while in_flight:
            while more and in_flight < AHEAD:
                chunk = next(chunks, None)
                more = chunk is not None
                if more:
                    outgoing.put(chunk)
                    in_flight += 1
            commands, refused = _take(parser)
            in_flight -= 1
            yield from commands
            if refused is not None:
                raise InvalidInput(refused)
    finally:  # it holds nothing: done, failed or abandoned, it is stopped alike
        outgoing.put(None)
        parser.kill()
        parser.wait()
        feeder.join()
        parser.stdout.close()


def _feed(outgoing: queue.SimpleQueue[Numbered | None], pipe: IO[bytes]) -> None:
    """Write each chunk to the parser until told to stop (None). If the parser is gone the writes
    fail: the importer learns it from the answers that do not come (`_take`)."""
    with suppress(OSError):
        while (chunk := outgoing.get()) is not None:
            pickle.dump(chunk, pipe, pickle.HIGHEST_PROTOCOL)
            pipe.flush()
    with suppress(OSError):
        pipe.close()


def _take(parser: subprocess.Popen[bytes]) -> tuple[list[tuple[int, Any]], str | None]:
    """The parser's next answer; a RuntimeError (exit 4, nothing written) if it has died."""
    assert parser.stdout is not None
    try:
        commands, refused, crashed = pickle.load(parser.stdout)
    except (EOFError, pickle.UnpicklingError):
        raise RuntimeError(f"the import's parser process ended (exit code {parser.wait()})") from None
    if crashed is not None:
        raise RuntimeError(f"the import's parser process failed: {crashed}")
    return commands, refused


def serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    """The parser process: parse each chunk of numbered lines until its input ends."""
    from ledger.importer import parse_line

    while True:
        try:
            chunk: Numbered = pickle.load(incoming)
        except EOFError:
            return
        commands: list[tuple[int, Any]] = []
        answer: Answer = (commands, None, None)
        try:
            commands.extend(_here(chunk, parse_line))  # extend keeps what came before a bad line
        except InvalidInput as error:
            answer = (commands, str(error), None)
        except Exception as error:  # noqa: BLE001 - reported to the importer, which fails with it
            answer = (commands, None, f"{type(error).__name__}: {error}")
        pickle.dump(answer, outgoing, pickle.HIGHEST_PROTOCOL)
        outgoing.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
