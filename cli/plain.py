"""Options and `--db` settings in their plain form, checked without marshmallow.

Importing marshmallow costs a command 20–25 ms of its start (50–100 ms before ledger/lazy_patterns.py
deferred its e-mail patterns), as much as a quick read itself (projections.quick). So a value a
user typed in its plain form — an id, a date YYYY-MM-DD, a schema name of lower-case letters — is
taken as the schema would take it, and anything else is left to the schema, which words the
error. tests/test_cold_imports.py keeps each plain check equal to the schema it stands in for.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Any

# ledger.schemas.SCHEMA_NAME, written out: a command whose store settings are plain need not import
# marshmallow (20–25 ms) to learn that (tests/test_cold_imports.py keeps the two equal).
PLAIN_SCHEMA = r"\A[a-z_][a-z0-9_]{0,62}\Z"


def plain_settings(settings: dict[str, str]) -> bool:
    """Whether ledger.schemas.StoreSettings certainly accepts the store's settings: text without NUL,
    and a schema name, if any, of the plain form it allows. Else it is asked, and words the error."""
    schema = settings.get("POSTGRES_SCHEMA")
    return (all(isinstance(v, str) and "\x00" not in v for v in settings.values())
            and (schema is None or (isinstance(schema, str) and re.match(PLAIN_SCHEMA, schema) is not None)))


def check_settings(settings: dict[str, str]) -> None:
    """The store's settings through ledger.schemas.StoreSettings: InvalidInput, in one sentence, if refused."""
    from marshmallow import ValidationError

    from ledger.errors import InvalidInput
    from ledger.schemas import StoreSettings

    given: dict[str, Any] = {"settings": {k: v for k, v in settings.items() if k != "POSTGRES_SCHEMA"}}
    if "POSTGRES_SCHEMA" in settings:
        given["schema"] = settings["POSTGRES_SCHEMA"]
    try:
        StoreSettings().load(given)
    except ValidationError as error:  # the value itself is not repeated: it may hold anything
        problems = error.messages if isinstance(error.messages, dict) else {}
        name = "--db ?schema=" if "schema" in problems else "--db"
        problem = (problems.get("schema") or problems.get("_schema") or ["is invalid"])[0]
        raise InvalidInput(f"Invalid input: {name} {problem}.") from None


def plain(raw: dict[str, Any], ids: tuple[str, ...], days: tuple[str, ...] = (),
          instants: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """What a read's schema (ids required, days and instants optional) gives for `raw` when every
    value has its plain form — an id of 1–64 of A-Z a-z 0-9 . _ -, a date written YYYY-MM-DD (as an
    instant: the end of that day in UTC), or a date or instant not given; else None, and the schema
    is asked (and words any error). Spares the read marshmallow's import: 20–25 ms of a command's
    start (tests/test_cold_imports.py compares the two)."""
    from domain.values import IDENTIFIER

    values: dict[str, Any] = {}
    for name in ids:
        value = raw.get(name)
        if not isinstance(value, str) or IDENTIFIER.match(value) is None:
            return None
        values[name] = value
    for name in (*days, *instants):
        value = raw.get(name)
        if value is None:
            values[name] = None
            continue
        if not isinstance(value, str) or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        values[name] = day if name in days else datetime.combine(day, time.max, tzinfo=timezone.utc)
    return values if set(raw) <= set(values) else None
