"""Idempotency keys: a `--request-id` remembers the command, its content and its first result.

A `Request` aggregate is saved in the same transaction as the command's own events, so a
key is recorded exactly when the command's effect is. Its id derives from the key: two
processes racing with one key conflict on it, and exactly one wins.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import RequestIdReused

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.app import Ledger
    from ledger.commands import Command


class Request(LedgerAggregate):
    @staticmethod
    def create_id(request_id: str, **_: Any) -> Any:
        return natural_id("request", request_id)

    @event("Recorded")
    def __init__(
        self, request_id: str, command: str, fingerprint: str, result: dict | None, actor: str = ACTING,
        os_user: str = ACTING, owner: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.command = command
        self.fingerprint = fingerprint
        self.result = result


def replayed(ledger: Ledger, command: Command, digest: Callable[[], str]) -> dict | None:
    """The first result of `command`'s --request-id, marked as a repeat; None if the key is new.
    RequestIdReused if the key was used for another command or other content (its fingerprint as
    stored: `digest()`, worked out only for a key used before)."""
    assert command.request_id is not None
    prior = ledger.find(Request, Request.create_id(command.request_id))
    if prior is None:
        return None
    if prior.result is None:  # sealed with the key of a person erased since (SPEC §9)
        raise RequestIdReused(f"request id '{command.request_id}' was used before ({prior.command}) for a person who "
                              "has since been erased; what it asked can no longer be compared, so nothing was done")
    if prior.command == command.path and prior.fingerprint == digest():
        # The first result, marked as a repeat: what it says may have changed since.
        return {**prior.result, "replayed": {"request_id": command.request_id,
                                             "first_recorded_at": prior.created_on.isoformat()}}
    raise RequestIdReused(
        f"request id '{command.request_id}' was used before for a different "
        f"{'command' if prior.command != command.path else 'content'} ({prior.command})"
    )


def fingerprint(command: str, values: dict[str, Any]) -> str:
    """A digest of the command path and its validated options (the key itself excluded)."""
    content = {k: _canonical(v) for k, v in values.items() if k != "request_id"}
    text = json.dumps({"command": command, "values": content}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value
