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
    from ledger.store import Store
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
            from marshmallow import ValidationError

            from ledger.errors import InvalidInput
            from ledger.schemas import StoreSettings
            from ledger.store import resolve

            if self.db and "\x00" in self.db:
                raise InvalidInput("Invalid input: --db must not contain NUL characters.")
            store = resolve(self.db)
            settings = {k: v for k, v in store.settings.items() if k != "POSTGRES_SCHEMA"}
            given = {"settings": settings}
            if "POSTGRES_SCHEMA" in store.settings:
                given["schema"] = store.settings["POSTGRES_SCHEMA"]
            try:
                StoreSettings().load(given)
            except ValidationError as error:  # the value itself is not repeated: it may hold anything
                problems = error.messages if isinstance(error.messages, dict) else {}
                name = "--db ?schema=" if "schema" in problems else "--db"
                problem = (problems.get("schema") or problems.get("_schema") or ["is invalid"])[0]
                raise InvalidInput(f"Invalid input: {name} {problem}.") from None
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

            self._models = ReadModels(self.ledger())
        return self._models

    def reader(self) -> Reader:
        from projections.reader import Reader

        return Reader(self.read_models())

    def close(self) -> None:
        if self._models is not None:
            self._models.close()
            self._models = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def session() -> Session:
    return click.get_current_context().find_object(Session)  # type: ignore[return-value]


def validate(command: str, raw: dict[str, Any], *, schema: Any = None) -> dict[str, Any]:
    """The command's options through its marshmallow schema; unset options are left out."""
    from marshmallow import ValidationError

    from ledger.errors import InvalidInput
    from ledger.schemas import describe, schema_for

    given = {k: v for k, v in raw.items() if v is not None and v != ()}
    try:
        return (schema or schema_for(command)).load(given)
    except ValidationError as error:
        params = click.get_current_context().command.params
        arguments = frozenset(p.name for p in params if isinstance(p, click.Argument) and p.name)
        raise InvalidInput(describe(error.messages, arguments=arguments)) from None


def write(command: str, raw: dict[str, Any], human: Callable[[dict], str]) -> None:
    """Validate, carry out and report one write command."""
    values = validate(command, raw)
    result = storage(lambda: session().ledger().run(command, values))
    emit(result, human(result))


def storage(call: Callable[[], Any]) -> Any:
    """Run `call` with storage errors turned into the ledger's exit-coded errors."""
    from ledger.errors import storage_errors

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
            f"Note: these figures are {behind['events']} event(s) behind the ledger (as of event "
            f"{behind['position']} of {behind['head']}): a catch-up or rebuild is running elsewhere.",
            err=True,
        )


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain text table, columns as wide as their widest cell; a control character or line break
    in a cell is shown as its escape (SPEC §8: tables never print control characters)."""
    from cli.exports import shown

    if not rows:
        return ""
    cells = [headers] + [[shown(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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


REQUEST_ID = click.option(
    "--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing."
)
