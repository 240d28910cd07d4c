"""What every write command is: a frozen dataclass of its validated options, declared once.

A command class declares its path (as typed after `studyledger`, and as an import line's
"command") with `@command(path)`, and each option once, as a dataclass field made by `option`
from the marshmallow field that validates and converts it. `command` builds the class's schema
from those fields; the schema's `post_load` builds the command. Its handler is registered with
`@carry_out.register(TheCommand)` in the same module, and `Ledger.handle` dispatches on the
command's class.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from marshmallow import Schema, fields, missing, post_load, validates_schema

from domain.values import REGISTER
from ledger.fields import Day, Identifier, RequestKey

if TYPE_CHECKING:
    from ledger.app import Ledger


def option(field: fields.Field) -> Any:
    """A command's option: the dataclass field, whose marshmallow `field` validates and converts it
    (its load default is the dataclass default: the same command from the CLI, a line or Python)."""
    if field.required or field.load_default is missing:
        return dataclasses.field(metadata={"option": field})
    if callable(field.load_default):
        return dataclasses.field(default_factory=field.load_default, metadata={"option": field})
    return dataclasses.field(default=field.load_default, metadata={"option": field})


@dataclass(frozen=True, kw_only=True)
class Command:
    """A write command. `actor` is who the events it records name as acting."""

    path: ClassVar[str]
    schema: ClassVar[type[CommandSchema]]
    importable: ClassVar[bool]
    request_id: str | None = option(RequestKey(load_default=None))

    @property
    def actor(self) -> str:
        return REGISTER

    @staticmethod
    def check(options: dict[str, Any]) -> None:
        """Options that must agree with each other raise ValidationError here; on their own, all do."""

    def content(self) -> dict[str, Any]:
        """Its options but the --request-id: what a repeat of the key must ask again."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "request_id"}

    @functools.cached_property
    def fingerprint(self) -> str:
        """The digest of its path and content that its --request-id is stored with. Worked out once, and
        pickled along with it: a long import's parser process works it out (ledger.ahead)."""
        from ledger.requests import fingerprint

        return fingerprint(self.path, self.content())


@dataclass(frozen=True, kw_only=True)
class Identified(Command):
    """A command on one professional, reviewer or network, named by its id."""

    id: str = option(Identifier(required=True))


@dataclass(frozen=True, kw_only=True)
class Dated(Identified):
    """A command on one professional, reviewer or network, taking effect on a date."""

    on: date = option(Day(required=True))


C = TypeVar("C", bound=type[Command])

# Command path → command class: every write command the CLI, an import and `Ledger.run` carry.
COMMANDS: dict[str, type[Command]] = {}


def command(path: str, *, importable: bool = True) -> Callable[[C], C]:
    """Declare a command class: its path, and whether an import line may carry it; its schema is made
    from its options. The claim a command is about comes first, as CLAIM does on the command line."""

    def declare(cls: C) -> C:
        assert path not in COMMANDS, f"two commands at '{path}'"
        options = {f.name: f.metadata["option"] for f in dataclasses.fields(cls)}
        if "claim" in options:
            options = {"claim": options.pop("claim"), **options}
        cls.path, cls.importable = path, importable
        bases = (CommandSchema,) if cls.check is Command.check else (CommandSchema, Agreeing)
        cls.schema = type(f"{cls.__name__}Schema", bases, {"command": cls, **options})
        COMMANDS[path] = cls
        return cls

    return declare


class CommandSchema(Schema):
    """The schema `command` makes of a command class's options: loading gives the command."""

    command: ClassVar[type[Command]]

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Command:
        return self.command(**data)


class Agreeing(Schema):
    """The schema of a command whose options must agree with each other: its `check` validates them."""

    command: ClassVar[type[Command]]

    @validates_schema
    def agree(self, data: dict[str, Any], **_: Any) -> None:
        self.command.check(data)


@functools.singledispatch
def carry_out(command: Command, ledger: Ledger) -> dict:
    """Carry out `command` on `ledger`: check the rules on its aggregates, commit what changed; its result."""
    raise TypeError(f"no handler for {type(command).__name__}")
