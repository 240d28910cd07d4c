"""marshmallow schemas of the `keys` and `credential` commands' options.

They are not import commands (`keys` writes a private key file, `credential issue` reads the
projections), so they stay out of `ledger.schemas.WRITE_SCHEMAS`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from ledger.schemas import Command, Day, Identifier, Instant, Text


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


class KeysInit(Command):
    key_file = KeyFile(required=True)
    issuer_name = Text(load_default=None)
    issuer_url = fields.Url(load_default=None, schemes={"https", "http"}, error_messages={"invalid": "must be an http(s) URL"})


class KeysRotate(Command):
    key_file = KeyFile(required=True)


class CredentialIssue(Command):
    professional = Identifier(required=True)
    at = Day(load_default=None)
    known_at = Instant(load_default=None)
    key_file = KeyFile(required=True)
    out = KeyFile(load_default=None)
