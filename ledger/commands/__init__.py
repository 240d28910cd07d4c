"""Every write command, declared once: a dataclass of its options, each with the marshmallow field
that validates it (its schema is made from them), and its handler.

One module per area (policy, people, networks, claims, reviews, keys). Adding a command is a
dataclass with `@command(path)` and a handler with `@carry_out.register`, in its area's
module: the CLI, the importer and `Ledger.handle` find it by its path or its class.

An area's module is imported when a command of its group is first asked for: one command from
the shell loads one area (all six cost about 25 ms, an eighth of a write's cold start).
"""

from __future__ import annotations

import functools
import importlib

from ledger.commands.base import COMMANDS, Command, CommandSchema, carry_out

# The first word of a command's path → the module of its area. A new group needs a line here;
# a new command in a group needs none.
AREAS = {"policy": "policy", "professional": "people", "reviewer": "people", "network": "networks",
         "claim": "claims", "review": "reviews", "keys": "keys", "credential": "keys"}


def command_at(path: str) -> type[Command]:
    """The command class at `path` ("claim submit"); KeyError if there is none."""
    area = AREAS[path.split(" ", 1)[0]]
    importlib.import_module(f"ledger.commands.{area}")
    return COMMANDS[path]


def all_commands() -> dict[str, type[Command]]:
    """Every command, by path."""
    for area in sorted(set(AREAS.values())):
        importlib.import_module(f"ledger.commands.{area}")
    return COMMANDS


@functools.cache
def schema_for(path: str) -> CommandSchema:
    """The schema of the command at `path`, one instance each (marshmallow schemas are reusable and costly to build)."""
    return command_at(path).schema()


__all__ = ["AREAS", "Command", "all_commands", "carry_out", "command_at", "schema_for"]
