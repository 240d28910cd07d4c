"""The root `studyledger` group: global options, the subcommands, and the one place where
errors become an exit code (cli/errors.py says which) and one sentence.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from cli.context import Session, fail


# click 8.2 and later raise this for a group without its subcommand (earlier ones printed the help).
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


# Each command's module: a command imports its module when it is run, not the others' (a read from the shell
# spent 10-20 ms importing commands it did not run); `--help` and an unknown name import them all.
COMMAND_MODULES = {
    "audit": "cli.audit", "balance": "cli.balance", "claim": "cli.claim", "credential": "cli.credential",
    "demo": "cli.demo", "import": "cli.import_", "init": "cli.init", "keys": "cli.keys", "migrate": "cli.migrate",
    "network": "cli.network", "policy": "cli.policy", "professional": "cli.professional",
    "projections": "cli.projections", "review": "cli.review", "reviewer": "cli.reviewer",
}


class StudyledgerGroup(click.Group):
    """Runs click without its own error printing, so that every error is one sentence; loads a command's
    module when the command is asked for (click's lazy subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        for wanted in [name] if name in COMMAND_MODULES else COMMAND_MODULES:  # unknown: all, for "did you mean"
            if wanted not in self.commands:
                for command in importlib.import_module(COMMAND_MODULES[wanted]).COMMANDS:
                    self.add_command(command)
        return self.commands.get(name)

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        words = args if args is not None else sys.argv[1:]
        as_json = "--json" in words
        extra.pop("standalone_mode", None)
        if not all(map(_nameable, words)):
            # Only a caller in Python can pass one: a command line's undecodable bytes arrive as
            # U+DC80–U+DCFF, which name files as those bytes. Paths of such text failed in os.stat.
            fail("Invalid input: an argument holds a lone surrogate (such as \\ud800), which no file name "
                 "or text can hold; nothing was written.", 2, "invalid-input", as_json=as_json)
            sys.exit(2)
        try:
            result = super().main(args=args, prog_name=prog_name or "studyledger", standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except _NO_ARGS_IS_HELP as error:
            # A group named without its subcommand (`studyledger audit`): click's message would be
            # the whole help text; an error is one sentence.
            where = error.ctx.command_path if error.ctx else "studyledger"
            fail(f"Missing command. See '{where} --help'.", 2, "usage", as_json=as_json)
            sys.exit(2)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx else "studyledger"
            message = error.format_message()
            message += "" if message.endswith((".", "?")) else "."
            if isinstance(error, click.NoSuchOption) and error.option_name in ("--json", "--db"):
                # A global option after the command: say where it goes.
                message += (f" {error.option_name} is a global option: put it before the command, e.g. "
                            f"'studyledger {error.option_name}{' URL' if error.option_name == '--db' else ''} "
                            f"{where.partition(' ')[2]} …'.")
            fail(f"{message} See '{where} --help'.", 2, "usage", as_json=as_json)
            sys.exit(2)
        except click.ClickException as error:
            fail(error.format_message(), 2, "usage", as_json=as_json)
            sys.exit(2)
        except click.Abort:
            fail("Aborted; nothing was written.", 2, "usage", as_json=as_json)
            sys.exit(2)
        except BaseException as error:  # noqa: BLE001 - the single place errors become exit codes
            code = report(error, as_json)
            if code is None:
                raise
            sys.exit(code)
        sys.exit(result if isinstance(result, int) else 0)


def report(error: BaseException, as_json: bool) -> int | None:
    """Print `error` as one sentence and return its exit code (None: let it propagate)."""
    from cli.errors import classify
    from domain.errors import DomainError

    if isinstance(error, (SystemExit, KeyboardInterrupt, GeneratorExit)):
        return None
    known = classify(error)
    if known is not None:
        code, kind = known
        if isinstance(error, DomainError):
            fail(str(error) + ("" if str(error).endswith(".") else "."), code, kind, rule=error.name, as_json=as_json)
        else:
            fail(str(error), code, kind, as_json=as_json)
        return code
    if os.environ.get("STUDYLEDGER_DEBUG"):
        return None
    fail(
        f"Studyledger failed unexpectedly ({type(error).__name__}); nothing was written. "
        "Run again with STUDYLEDGER_DEBUG=1 to see where.",
        4,
        "internal",
        as_json=as_json,
    )
    return 4


@click.group(cls=StudyledgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="STUDYLEDGER_DB",
    metavar="URL",
    help="The store: a file path or sqlite:///path (SQLite), or postgresql://user@host:port/dbname. "
    "Default: studyledger.db in the current folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine output: one JSON document on stdout.")
@click.version_option(package_name="studyledger", message="studyledger %(version)s")
@click.pass_context
def cli(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Studyledger: study points for informal learning in professional networks.

    Professionals claim contributions to their networks, peers endorse them, reviewers of
    the register decide and award points. Every act is an immutable event.

    DATE is YYYY-MM-DD; INSTANT is ISO 8601 with a time zone (2026-01-15T09:00:00Z) or a
    date, meaning the end of that day in UTC. Every read takes --format table|json|csv.

    \b
    Exit codes: 0 done; 1 refused by a ledger rule (or a check found a problem);
    2 invalid input or usage; 3 conflict with a concurrent change, safe to retry;
    4 storage unavailable or failing.

    \b
    Example:
      studyledger demo
      studyledger --db /srv/register/studyledger.db --json balance T-1003
    """
    factory = ctx.obj if callable(ctx.obj) else None
    session = Session(db=db, json=as_json, ledger_factory=factory)
    ctx.obj = session
    ctx.call_on_close(session.close)


def _nameable(word: Any) -> bool:
    """Whether `word` can be a command line's word: text the file system's encoding takes."""
    try:
        os.fsencode(word)
    except (UnicodeEncodeError, TypeError):
        return False
    return True


def main() -> None:
    """The `studyledger` console script: one command, then the process ends."""
    try:
        cli.main()
    finally:
        # The interpreter's last collections at exit walk every object the command loaded (45,000 for
        # a write on PostgreSQL: 40-50 ms of its 380) only to free memory the process hands back anyway.
        # Frozen objects are left out of them; atexit, files and connections still close as before.
        gc.freeze()
