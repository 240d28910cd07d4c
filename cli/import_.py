"""`studyledger import FILE`: JSON Lines of commands, applied all-or-nothing."""

from __future__ import annotations

from typing import Any

import click

from cli.context import emit, Progress, session, storage
from cli.help import Command, example


class _File(click.Path):
    """A path; one with a NUL in it is a usage error, not a ValueError from os.stat."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail("a path must not contain NUL characters.", param, ctx)
        return super().convert(value, param, ctx)


@click.command("import", cls=Command, epilog=example("studyledger import register.jsonl",
                                                     "generate-commands | studyledger import -"))
@click.argument("file", type=_File(dir_okay=False, allow_dash=True))
def import_(file: str) -> None:
    """Apply the commands in FILE (JSON Lines; - for stdin), all or none.

    Each line is one command: {"command": "claim submit", "professional": "R-1", ...},
    with the option names of --help (use _ for -). An error names the line; then nothing
    is written.
    """
    import os

    from ledger.errors import InvalidInput
    from ledger.importer import import_lines

    try:
        stream = click.open_file(file, encoding="utf-8-sig")  # a byte-order mark is not part of line 1
        size = os.path.getsize(file) if file != "-" and os.path.isfile(file) else None
    except OSError as error:
        raise InvalidInput(f"Cannot read {file}: {error.strerror}.") from None
    with stream, Progress("Importing", size, counts=False) as progress:
        lines = stream if progress.update is None else _read(stream, progress.update)
        try:
            result = storage(lambda: import_lines(session().ledger(), lines, size))
        except UnicodeDecodeError:
            raise InvalidInput(f"{file} is not UTF-8 text; nothing was written.") from None
    progress.done("Imported", result["events"])
    emit(result, f"Imported {result['commands']} commands ({result['events']} events).")


def _read(stream: Any, update: Any) -> Any:
    """The lines of `stream`, telling the progress bar how far into the file they are (in characters,
    close enough to its bytes for a bar)."""
    for line in stream:
        update(len(line))
        yield line


COMMANDS = [import_]
