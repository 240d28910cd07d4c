"""`import FILE`: commands as JSON Lines, validated by the same schemas, applied all-or-nothing.

Every line is validated and carried out against the ledger's rules in memory, in order,
with the aggregates it touches kept in a cache; the events of all lines are then written
in one transaction. The first bad line stops the import, names its number, and nothing
is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from domain.errors import DomainError
from ledger.app import Ledger
from ledger.errors import InvalidInput
from ledger.schemas import WRITE_SCHEMAS, describe, schema_for


def parse_line(number: int, line: str) -> tuple[str, dict[str, Any]]:
    """One import line → (command path, validated values)."""
    try:
        data = json.loads(line, parse_float=Decimal)
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


def import_lines(ledger: Ledger, lines: Iterable[str]) -> dict[str, Any]:
    """Apply every line, or none. Returns counts of lines, commands and events."""
    assert ledger._staged is None, "imports do not nest"
    ledger._staged = []
    # Into an empty store, nothing is stored but what this import stages: no need to ask.
    # (A concurrent writer creating the same aggregate makes the final insert conflict.)
    ledger._absent_unless_cached = not ledger.recorder.max_notification_id()
    commands = 0
    try:
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
        staged = ledger._staged
        if staged:
            ledger.recorder.insert_events(staged)
        return {"commands": commands, "events": len(staged)}
    finally:
        ledger._staged = None
        ledger._cache.clear()
        ledger._absent.clear()
        ledger._absent_unless_cached = False
