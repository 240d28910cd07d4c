"""Output that reaches other programs or a terminal, made safe to open (SPEC §8).

- CSV: a cell that a spreadsheet would take for a formula (it begins with `=`, `+`, `-`, `@`,
  a tab or a carriage return) is neutralised as OWASP recommends, by a leading `'`. A cell
  that is a plain decimal number (`-2.5`, a revocation's points) is left as it is: a
  spreadsheet reads it as that number and never as a formula, and an auditor can sum it.
- DOT: every name and id is written as a quoted Graphviz string with its quotes, backslashes
  and line breaks escaped, so no text can close the string and add attributes or nodes.
- Tables and other text for a terminal: control and format characters (and line breaks)
  inside a value are shown as escapes (`\\n`, `\\x1b`, `\\u202e`), never sent as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: Any) -> str:
    """`value` as a CSV cell no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(stream: IO[str], columns: list[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """A header and one line per row (only `columns`), every cell through `csv_cell`."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])


def shown(value: Any) -> str:
    """`value` as one line of printable text: control and format characters, line breaks and
    invalid code points are written as their escapes, so a stored text cannot drive the terminal."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def dot_string(text: str) -> str:
    """`text` as a quoted Graphviz string that shows exactly `text` as a label.

    Backslashes are doubled (so `\\N`, `\\G`, `\\l` in a name are not Graphviz's escapes),
    quotes escaped, line breaks written as Graphviz's own `\\n`, other control characters left out."""
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c in "\n\r\u2028\u2029\x85":
            out.append("\\n")
        elif c.isprintable() or c == " ":
            out.append(c)
    return '"' + "".join(out) + '"'


def network_dot(result: dict) -> str:
    """The network map as a Graphviz picture: themes on the left, networks (with member counts) in
    the middle, groups on the right. Every name and id is a `dot_string`."""
    q = dot_string
    lines = [
        "digraph network_map {",
        "  rankdir=LR;",
        f"  labelloc=t; label={q('Studyledger network map on ' + result['at'])};",
        '  node [fontname="Helvetica"];',
    ]
    for theme in result["themes"]:
        lines.append(f"  {q('theme:' + theme)} [label={q(theme)}, shape=ellipse, style=filled, fillcolor=\"#e8f0fe\"];")
    for group in result["groups"]:
        lines.append(f"  {q('group:' + group)} [label={q(group)}, shape=hexagon, style=filled, fillcolor=\"#fef3e0\"];")
    for n in result["networks"]:
        label = q(n["name"] + f"\n{n['members']} member(s)" + ("" if n["open"] else "\n(closed)"))
        style = "filled" if n["open"] else "dashed"
        lines.append(f"  {q('network:' + n['id'])} [label={label}, shape=box, style={style}, fillcolor=\"#e6f4ea\"];")
        for theme in n["themes"]:
            lines.append(f"  {q('theme:' + theme)} -> {q('network:' + n['id'])};")
        for group in n["groups"]:
            lines.append(f"  {q('network:' + n['id'])} -> {q('group:' + group)};")
    lines.append("}")
    return "\n".join(lines)
