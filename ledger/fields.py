"""The option types every command's schema is made of, and marshmallow's errors as one sentence.

Field names are the options' names with `_` for `-`, so an import line uses the same keys as
`--help` shows. The fields turn raw strings into typed values (dates, exact decimals); the
domain never sees raw input.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from marshmallow import ValidationError, fields, validate

from domain.values import IDENTIFIER, KINDS

ID_RULE = "1–64 characters of A-Z a-z 0-9 . _ -"
PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_TEXT = 10_000
# The largest amount of points any option takes: keeps every sum and every rounding to cents
# exact within the decimal context's 28 digits (larger ones raised InvalidOperation).
MAX_AMOUNT = Decimal(1_000_000)


def _unicode(text: str) -> str:
    """`text` if it is valid Unicode (a lone surrogate — from undecodable bytes on the command
    line, or a JSON escape such as \\ud800 — cannot be stored)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("must be valid Unicode text") from None
    return text


class Key(fields.String):
    """A claim reference or a request id: 1–200 characters of any valid Unicode."""

    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.Length(min=1, max=200), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return _unicode(super()._deserialize(value, attr, data, **kwargs))


class RequestKey(Key):
    """A `--request-id`: a Key that cannot be read as a claim id. Anything `uuid.UUID` parses (any
    case, with or without hyphens or braces, `urn:uuid:…`) names a claim by its id, so a request id
    of that form could make a key resolve to another claim."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        key = super()._deserialize(value, attr, data, **kwargs)
        try:
            UUID(key)
        except ValueError:
            return key
        raise ValidationError("must not have the form of a claim id (a UUID)")


# Characters that show nothing on their own although Unicode counts them as letters or symbols.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(text: str) -> bool:
    """Whether `text` shows anything: a letter, digit, punctuation mark or symbol. Spaces, control
    and format characters (zero-width space and joiners, direction marks, BOM), combining marks
    without a base and unassigned code points show nothing."""
    return any(unicodedata.category(c)[0] in "LNPS" and c not in BLANK_LOOKING for c in text)


class Identifier(fields.String):
    def __init__(self, **kwargs: Any):
        super().__init__(
            validate=validate.Regexp(IDENTIFIER, error=f"must be {ID_RULE}"), **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be {ID_RULE}")
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """Free text that must say something: not empty, not only spaces or invisible characters."""

    def __init__(self, **kwargs: Any):
        super().__init__(
            validate=validate.Length(max=MAX_TEXT, error=f"must be at most {MAX_TEXT} characters"), **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _unicode(super()._deserialize(value, attr, data, **kwargs))
        if not _visible(text):  # only spaces or invisible characters (zero-width, format) say nothing
            raise ValidationError("must not be empty")
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text.strip()


class Amount(fields.Decimal):
    """An exact decimal with at most two decimal places, given as text or a JSON number."""

    def __init__(self, *, minimum: Decimal | None = None, maximum: Decimal = MAX_AMOUNT, **kwargs: Any):
        super().__init__(allow_nan=False, **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError("Not a valid number.")
        if isinstance(value, str):
            value = value.strip()
            if not PLAIN_DECIMAL.fullmatch(value):
                raise ValidationError("must be a number written like 2 or 1.5")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount > self.maximum:  # first: quantizing a huge amount would overflow the context
            raise ValidationError(f"must be at most {self.maximum}")
        if amount < -self.maximum:
            raise ValidationError(f"must be at least -{self.maximum}")
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int)  # NaN and infinity were refused above
        if exponent < -2 and amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("must have at most two decimal places")
        if self.minimum is not None and amount <= self.minimum:
            raise ValidationError(f"must be more than {self.minimum}")
        return amount


class WholeNumber(fields.Integer):
    def __init__(self, minimum: int, maximum: int, **kwargs: Any):
        # A maximum keeps every stored integer exact for the read side's JSON decoder (orjson
        # reads integers of 2**64 and more as floats, or not at all).
        super().__init__(strict=False, validate=[
            validate.Range(min=minimum, error=f"must be at least {minimum}"),
            validate.Range(max=maximum, error=f"must be at most {maximum}"),
        ], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        digits = value.strip().lstrip("-") if isinstance(value, str) else ""
        if isinstance(value, bool) or (isinstance(value, str) and not (digits.isascii() and digits.isdigit())):
            raise ValidationError("must be a whole number")
        # A JSON number (an import line) may be a fraction: refuse it rather than truncate it.
        if isinstance(value, (float, Decimal)) and not (math.isfinite(value) and value == int(value)):
            raise ValidationError("must be a whole number")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """A calendar date written exactly YYYY-MM-DD (not the other ISO forms Python accepts)."""

    RULE = "must be a real date written YYYY-MM-DD"

    def __init__(self, **kwargs: Any):
        super().__init__(error_messages={"invalid": self.RULE}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
            raise ValidationError(self.RULE)
        return super()._deserialize(value, attr, data, **kwargs)


INSTANT_RULE = "must be an ISO 8601 instant with a time zone, e.g. 2025-03-04T12:00:00Z, or a date YYYY-MM-DD"


class Instant(fields.AwareDateTime):
    """A recording instant: ISO 8601 with a time zone, or a date meaning the whole day
    (through 23:59:59.999999 UTC, SPEC §2)."""

    def __init__(self, **kwargs: Any):
        # "invalid_awareness": an instant without a time zone is just as invalid.
        super().__init__(error_messages={"invalid": INSTANT_RULE, "invalid_awareness": INSTANT_RULE}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and ISO_DAY.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError(INSTANT_RULE) from None
            return datetime.combine(day, time.max, tzinfo=timezone.utc)
        return super()._deserialize(value, attr, data, **kwargs)


class KeyFile(fields.String):
    """A file path: 1–4096 characters, no NUL."""

    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.Length(min=1, max=4096), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        path = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in path:
            raise ValidationError("must not contain NUL characters")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("must be valid Unicode text") from None
        return path


class CapSetting(fields.String):
    """`KIND=N`: the most points one claim of that kind may receive."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, Decimal]:
        text = super()._deserialize(value, attr, data, **kwargs)
        kind, sep, amount = text.partition("=")
        if not sep or kind not in KINDS:
            raise ValidationError(f"must be KIND=N with KIND one of {', '.join(KINDS)}")
        return kind, Amount(minimum=Decimal(0)).deserialize(amount)


class Kind(fields.String):
    """One of the claim kinds."""

    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.OneOf(KINDS, error=f"must be one of {', '.join(KINDS)}"), **kwargs)


def describe(messages: Any, option_style: bool = True, arguments: frozenset[str] = frozenset()) -> str:
    """marshmallow's error messages as one sentence naming each offending option.

    With `option_style`, fields are named as on the command line: `--registered-on`, or
    `ID` for the positional `arguments`; otherwise by their import-line key.
    """
    parts = []
    for field_name, problem in _flatten(messages):
        if field_name == "_schema":
            parts.append(problem)
            continue
        if not option_style:
            name = field_name
        elif field_name in arguments:
            name = field_name.upper()
        else:
            name = "--" + field_name.replace("_", "-")
        parts.append(f"{name} {_lower(problem)}")
    return "Invalid input: " + "; ".join(parts) + "."


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        out: list[tuple[str, str]] = []
        for key, value in messages.items():
            name = prefix if isinstance(key, int) else str(key)
            out.extend(_flatten(value, name or prefix))
        return out
    if isinstance(messages, list):
        return [item for value in messages for item in _flatten(value, prefix)]
    return [(prefix or "_schema", str(messages).rstrip("."))]


def _lower(problem: str) -> str:
    known = {
        "Missing data for required field": "is required",
        "Unknown field": "is not an option of this command",
        "Not a valid number": "must be a number",
        "Field may not be null": "must have a value",
        "Not a valid string": "must be text",
        "Not a valid list": "must be a list",
        "Special numeric values (nan or infinity) are not permitted": "must be a finite number",
    }
    return known.get(problem, problem if problem.startswith(("must", "is", "needs")) else "is invalid: " + problem)

