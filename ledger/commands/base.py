"""What every write command is: a frozen dataclass of its validated options, made by its schema.

A command class declares its path (as typed after `studyledger`, and as an import line's
"command") and its schema once, with `@command(path, Schema)`; the schema's `post_load`
builds the dataclass. Its handler is registered with `@carry_out.register(TheCommand)` in
the same module, and `Ledger.handle` dispatches on the command's class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from marshmallow import Schema, post_load

from domain.values import REGISTER
from ledger.fields import Day, Identifier, RequestKey

if TYPE_CHECKING:
    from ledger.app import Ledger


@dataclass(frozen=True, kw_only=True)
class Command:
    """A write command. `actor` is who the events it records name as acting."""

    path: ClassVar[str]
    schema: ClassVar[type[CommandSchema]]
    importable: ClassVar[bool]
    request_id: str | None = None

    @property
    def actor(self) -> str:
        return REGISTER

    def content(self) -> dict[str, Any]:
        """Its options but the --request-id: what a repeat of the key must ask again."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "request_id"}


C = TypeVar("C", bound=type[Command])

# Command path → command class: every write command the CLI, an import and `Ledger.run` carry.
COMMANDS: dict[str, type[Command]] = {}


def command(path: str, schema: type[CommandSchema], *, importable: bool = True) -> Callable[[C], C]:
    """Declare a command class: its path, its schema, and whether an import line may carry it."""

    def declare(cls: C) -> C:
        assert path not in COMMANDS, f"two commands at '{path}'"
        cls.path, cls.schema, cls.importable = path, schema, importable
        COMMANDS[path] = cls
        return cls

    return declare


class CommandSchema(Schema):
    """Options every write command accepts; loading gives the command (one schema may serve several)."""

    request_id = RequestKey(load_default=None)

    def __init__(self, command: type[Command], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command = command

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Command:
        return self.command(**data)


class ById(CommandSchema):
    id = Identifier(required=True)


class ByDate(CommandSchema):
    id = Identifier(required=True)
    on = Day(required=True)


@functools.cache
def schema_for(path: str) -> CommandSchema:
    """The schema of the command at `path`, one instance each (marshmallow schemas are reusable and costly to build)."""
    cls = COMMANDS[path]
    return cls.schema(cls)


@functools.singledispatch
def carry_out(command: Command, ledger: Ledger) -> dict:
    """Carry out `command` on `ledger`: check the rules on its aggregates, commit what changed; its result."""
    raise TypeError(f"no handler for {type(command).__name__}")
