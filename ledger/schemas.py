"""The schemas of the reads' options, and of the parts of `--db` that reach SQL.

The write commands' schemas are in ledger/commands/, beside their commands.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ledger.fields import Day, Identifier, Instant, Key, Kind, WholeNumber


class PolicyShow(Schema):
    at = Day(load_default=None)


class ClaimShow(Schema):
    claim = Key(required=True)


class When(Schema):
    """The two time axes of a read: activity date and recording instant (SPEC §2)."""

    at = Day(load_default=None)
    known_at = Instant(load_default=None)


class Balance(When):
    professional = Identifier(required=True)


class Members(When):
    network = Identifier(required=True)


class History(Schema):
    """`audit history`: a professional's or a reviewer's id, as known at an instant."""

    professional = Identifier(required=True)
    known_at = Instant(load_default=None)


CLAIM_STATUSES = ("submitted", "approved", "rejected", "returned", "withdrawn", "revoked")


class ReviewQueue(Schema):
    network = Identifier(load_default=None)
    group = Identifier(load_default=None)
    kind = Kind(load_default=None)
    older_than = WholeNumber(0, 100_000, load_default=None)
    limit = WholeNumber(1, 1_000_000, load_default=None)


class ClaimList(Schema):
    professional = Identifier(load_default=None)
    network = Identifier(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(
        CLAIM_STATUSES, error=f"must be one of {', '.join(CLAIM_STATUSES)}"))
    kind = Kind(load_default=None)
    limit = WholeNumber(1, 1_000_000, load_default=None)


# A PostgreSQL schema name from `--db …?schema=`: it is an SQL identifier, which cannot be sent as
# a bound parameter, and some statements quote it by hand — so only a plain name is accepted. Lower
# case only: the read models name it unquoted in search_path, where PostgreSQL folds it to lower case
# (the event store quotes it, so `Ab` would be two different schemas).
SCHEMA_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")
SCHEMA_RULE = "1–63 lower-case letters, digits and _, not starting with a digit"


class StoreSettings(Schema):
    """The parts of `--db` that end up in SQL text or in a connection string."""

    schema = fields.String(validate=validate.Regexp(SCHEMA_NAME, error=f"must be {SCHEMA_RULE}"))
    settings = fields.Dict(keys=fields.String(), values=fields.String())

    @validates_schema
    def no_nul(self, data: dict[str, Any], **_: Any) -> None:
        # libpq reads its settings as C strings: a NUL (%00 in the URL) would cut off whatever
        # follows it — host, port, user, password — and connect to the default server instead.
        if any("\x00" in value for value in data.get("settings", {}).values()):
            raise ValidationError("must not contain NUL characters (%00)")
