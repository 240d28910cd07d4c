"""What `--help` shows: examples, the shared option texts, and commands listed by whole first sentences."""

from __future__ import annotations

import click


def example(*lines: str) -> str:
    """An epilog for --help: the example lines as written (click does not rewrap them)."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


DATE_HELP = "DATE is YYYY-MM-DD."
INSTANT_HELP = ("INSTANT is ISO 8601 with a time zone (2026-01-15T09:00:00Z, 2026-01-15T10:00:00+01:00) "
                "or a date YYYY-MM-DD, meaning the end of that day in UTC.")


class Command(click.Command):
    """A command whose one-line summary in its group's listing is its whole first sentence (click's
    default cuts it to the terminal's width with '...')."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return _first_sentence(self, limit)


class Group(click.Group):
    """A group of `Command`s, listed by whole first sentences too."""

    command_class = Command

    def get_short_help_str(self, limit: int = 45) -> str:
        return _first_sentence(self, limit)


Group.group_class = Group


def _first_sentence(command: click.Command, limit: int) -> str:
    if command.short_help:
        return command.short_help
    words = " ".join((command.help or "").split("\n\n")[0].split())
    end = words.find(". ")
    return words[: end + 1] if end >= 0 else words


REQUEST_ID = click.option(
    "--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing."
)
