"""What every command shares: the store from `--db`, validation, the ledger, and output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ledger.app import Ledger
    from ledger.commands import Command
    from storage.config import Store
    from projections.reader import Reader
    from projections.runner import ReadModels


@dataclass
class Session:
    """Put on `ctx.obj` by the root group; opens the ledger only when a command needs it."""

    db: str | None
    json: bool
    ledger_factory: Callable[..., Ledger] | None = None  # tests pass their own
    _store: Store | None = field(default=None, init=False)
    _ledger: Ledger | None = field(default=None, init=False)
    _models: ReadModels | None = field(default=None, init=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            from cli.plain import check_settings, plain_settings
            from ledger.errors import InvalidInput
            from storage.config import resolve

            if self.db and "\x00" in self.db:
                raise InvalidInput("Invalid input: --db must not contain NUL characters.")
            store = resolve(self.db)
            if not plain_settings(store.settings):
                check_settings(store.settings)
            self._store = store
        return self._store

    def ledger(self, *, create: bool = False) -> Ledger:
        if self._ledger is None:
            from ledger.app import open_ledger

            factory = self.ledger_factory or open_ledger
            self._ledger = factory(self.store, create=create)
        return self._ledger

    def read_models(self) -> ReadModels:
        if self._models is None:
            from projections.runner import ReadModels

            self._models = ReadModels(self.ledger().event_log)
        return self._models

    def reader(self) -> Reader:
        from projections.reader import Reader

        return Reader(self.read_models(), self.ledger())

    def close(self) -> None:
        if self._models is not None:
            self._models.close()
            self._models = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def session() -> Session:
    return click.get_current_context().find_object(Session)  # type: ignore[return-value]


def validate(raw: dict[str, Any], schema: Any) -> Any:
    """The options through their marshmallow schema; unset options are left out."""
    from marshmallow import ValidationError

    from ledger.errors import InvalidInput
    from ledger.fields import describe

    given = {k: v for k, v in raw.items() if v is not None and v != ()}
    try:
        return schema.load(given)
    except ValidationError as error:
        params = click.get_current_context().command.params
        arguments = frozenset(p.name for p in params if isinstance(p, click.Argument) and p.name)
        raise InvalidInput(describe(error.messages, arguments=arguments)) from None


def command_from(raw: dict[str, Any]) -> Command:
    """The write command that the running CLI command stands for (its path as typed: `claim submit`),
    made from its options by the command's schema."""
    from ledger.commands import schema_for

    context = click.get_current_context()
    path = []
    while context.parent is not None:
        path.append(context.info_name)
        context = context.parent
    return validate(raw, schema_for(" ".join(reversed(path))))


def write(raw: dict[str, Any], human: Callable[[dict], str]) -> None:
    """Validate, carry out and report one write command."""
    result = storage(lambda: session().ledger().handle(command_from(raw)))
    emit(result, human(result))
    if result.get("replayed") and not session().json:
        click.echo(replay_note(result), err=True)


def replay_note(result: dict) -> str:
    """What a repeated --request-id printed: the first result, and what has become of its claim since."""
    replayed = result["replayed"]
    note = (f"Note: request id '{replayed['request_id']}' was carried out at {utc(replayed['first_recorded_at'])}; "
            "this is its result then, and nothing was written now.")
    if "claim" in result:
        status = storage(lambda: session().reader().claim(result["claim"])["status"])
        if status != result.get("status"):
            note += f" The claim is {status} now."
    return note


def storage(call: Callable[[], Any]) -> Any:
    """Run `call` with the drivers' and the library's exceptions turned into storage errors."""
    from storage.errors import storage_errors

    s = session()
    store = s.store
    with storage_errors(store.where, store.secrets):
        return call()


def emit(result: Any, human: str) -> None:
    if session().json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(human)
    behind = result.get("behind") if isinstance(result, dict) else None
    if behind and not session().json:
        click.echo(
            f"Note: these figures are {plural(behind['events'], 'event')} behind the ledger (as of event "
            f"{behind['position']} of {behind['head']}): a catch-up or rebuild is running elsewhere.",
            err=True,
        )


def utc(instant: Any) -> str:
    """An instant (a datetime or its ISO text) in UTC, to the microsecond when it has a fraction,
    written with a Z: two instants a fraction of a second apart never look the same."""
    from datetime import datetime, timezone

    value = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def plural(count: Any, noun: str) -> str:
    """`1 point`, `2.5 points`, `0 endorsements`."""
    return f"{count} {noun}" + ("" if str(count).lstrip("-") == "1" else "s")


# --- progress of long work ------------------------------------------------------------------


def _terminal() -> bool:
    """Whether stderr is a terminal someone watches (tests replace this)."""
    return sys.stderr.isatty()


class Progress:
    """Long work (import, rebuild, verify) seen from a terminal: click's progress bar on stderr while
    it runs, then one line with how much, how long and the rate. Silent when stderr is not a terminal
    (cron mails, pipes) or with --json, so that stdout and stderr stay the command's answer alone.

        with Progress("Importing", total) as progress:
            run(progress=progress.update)       # None when nothing is shown
        progress.done("Imported", events)
    """

    def __init__(self, label: str, total: int | None, unit: str = "events", counts: bool = True):
        self.label, self.total, self.unit, self.counts = label, total, unit, counts  # counts: the bar counts units
        self.shown = _terminal() and not session().json
        self._bar: Any = None
        self._start = 0.0

    def __enter__(self) -> Progress:
        import time

        self._start = time.monotonic()
        if self.shown and self.total:
            self._bar = click.progressbar(length=max(self.total, 1), label=self.label, file=sys.stderr,
                                          show_pos=self.counts, show_eta=True)
            self._bar.__enter__()
        return self

    @property
    def update(self) -> Callable[[int], None] | None:
        """The callback for the work (`progress(n)`: n more done), or None when nothing is shown."""
        return self._bar.update if self._bar is not None else None

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def done(self, what: str, count: int) -> None:
        """`Imported 60,000 events in 3.1 s (19,355 events/s).` on stderr, when shown."""
        import time

        if not self.shown:
            return
        seconds = max(time.monotonic() - self._start, 1e-6)
        click.echo(f"{what} {count:,} {self.unit} in {seconds:.1f} s ({count / seconds:,.0f} {self.unit}/s).", err=True)


def printable(message: str) -> str:
    """`message` as one printable line: a control or format character, a line break or an invalid
    code point that came from the input (a click message quotes arguments as given) is shown as
    its escape (`\\n`, `\\x1b`, `\\u202e`, `\\udcff`), so an error stays one line and cannot drive
    the terminal."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def fail(message: str, exit_code: int, code: str, rule: str | None = None, as_json: bool = False) -> None:
    """Print one error sentence (or JSON) on stderr."""
    message = printable(message)
    if as_json:
        error: dict[str, Any] = {"code": exit_code, "kind": code, "message": message}
        if rule:
            error["rule"] = rule
        click.echo(json.dumps({"error": error}, ensure_ascii=False), err=True)
    else:
        click.echo(message, err=True)
    sys.stderr.flush()
