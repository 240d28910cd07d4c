"""Output of the reads: plain text tables, and every read's --format (SPEC §8)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import click

from cli.context import plural, session


def table(rows: list[list[str]], headers: list[str], right: Iterable[str] = ()) -> str:
    """A plain text table, columns as wide as their widest cell, the columns named in `right`
    (numbers) right-aligned; a control character or line break in a cell is shown as its escape
    (SPEC §8: tables never print control characters)."""
    from cli.exports import shown

    if not rows:
        return ""
    cells = [headers] + [[shown(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    aligned = [h in set(right) for h in headers]
    lines = ["  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, aligned)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_option(*choices: str, extra: str = "") -> Callable[[Callable], Callable]:
    """`--format table|json|csv` (and any more `choices`); --json is the global shorthand for json."""
    formats = ("table", "json", "csv", *choices)
    return click.option("--format", "fmt", type=click.Choice(formats), default=None,
                        help=f"Output: table (default), json (as the global --json), csv for a spreadsheet{extra}.")


def chosen_format(fmt: str | None) -> str:
    """The format asked for: --format, else json under the global --json, else table. Both at once
    only when they agree (exit 2 otherwise)."""
    from ledger.errors import InvalidInput

    if session().json and fmt not in (None, "json"):
        raise InvalidInput(f"Invalid input: --json asks for JSON but --format asks for {fmt}; give one of them.")
    return fmt or ("json" if session().json else "table")


def output(result: dict, fmt: str, human: Callable[[], str], columns: list[str],
           rows: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
    """`result` in the chosen format: JSON, CSV (`columns` of `rows()`, formulas neutralised), or the table
    `human()`; a read model that is behind says so on stderr either way."""
    from cli.exports import write_csv

    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        write_csv(sys.stdout, columns, rows())
    else:
        click.echo(human())
    behind = result.get("behind")
    if behind and fmt != "json":
        click.echo(f"Note: these figures are {plural(behind['events'], 'event')} behind the ledger (as of event "
                   f"{behind['position']} of {behind['head']}): a catch-up or rebuild is running elsewhere.", err=True)
