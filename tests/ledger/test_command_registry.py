"""Every write command is declared once (ledger/commands/): its path reaches it from the CLI and from an
import line, its schema builds it, and `Ledger.handle` has a handler for its class."""

from __future__ import annotations

import click

from cli.main import cli
from ledger.commands import AREAS, all_commands, carry_out, schema_for
from ledger.commands.base import Command
from ledger.importer import IMPORTABLE
from tests.support.commands import subcommands


def test_every_command_has_a_cli_command_at_its_path_a_schema_that_builds_it_and_a_handler():
    for path, cls in all_commands().items():
        group: click.Command = cli
        for name in path.split():
            assert isinstance(group, click.Group), path
            group = dict(subcommands(group))[name]
        assert schema_for(path).command is cls
        assert carry_out.dispatch(cls) is not carry_out.dispatch(Command), f"no handler for {cls.__name__}"


def test_an_import_line_may_carry_every_command_but_the_key_credential_and_erasure_ones():
    # an erasure destroys a key: not something a batch of lines replayed from a file should do (SPEC §9)
    assert set(all_commands()) - set(IMPORTABLE) == {"keys init", "keys rotate", "credential issue",
                                                     "professional erase", "reviewer erase"}


def test_loading_options_gives_the_command_with_its_actor():
    command = schema_for("claim endorse").load({"claim": "c-1", "by": "P-2", "statement": "Yes", "request_id": "k"})
    assert type(command).__name__ == "EndorseClaim" and command.actor == "P-2" and command.request_id == "k"
    assert command.content() == {"claim": "c-1", "by": "P-2", "statement": "Yes"}
    leave = schema_for("network leave")
    assert leave.load({"network": "N", "professional": "P-1", "on": "2026-01-01"}).actor == "P-1"
    assert leave.load({"network": "N", "professional": "P-1", "cancel": True}).actor == "register"


def test_a_command_lives_in_the_module_of_its_group():
    # what command_at imports to find it: a command declared elsewhere would be found only by luck
    for path, cls in all_commands().items():
        assert cls.__module__ == f"ledger.commands.{AREAS[path.split()[0]]}", path
