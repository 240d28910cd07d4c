"""The CLI's commands as click lists them: the root group loads a command's module only when asked."""

from __future__ import annotations

from collections.abc import Iterator

import click


def subcommands(group: click.Group) -> Iterator[tuple[str, click.Command]]:
    """(name, command) of each subcommand of `group`, through click's own listing."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield name, command
