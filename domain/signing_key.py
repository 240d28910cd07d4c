"""The register's signing keys: the public halves of the Ed25519 keys that sign its credentials.

One aggregate for the register. `keys init` records the first key; `keys rotate` records a
new one and, in the same event, the end of the old one's validity. A key is valid from the
instant it was recorded up to (not including) the instant it was rotated out. Only public
keys are here (Multikey strings, `z6Mk…`); the private key lives in a file the operator keeps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import DomainError


class SigningKeysRule(DomainError):
    """Refusals about the register's signing keys (not one of SPEC §1's numbered rules)."""


class KeysAlreadyInitialised(SigningKeysRule):
    pass


class NoSigningKey(SigningKeysRule):
    pass


class KeyAlreadyUsed(SigningKeysRule):
    pass


class SigningKeys(LedgerAggregate):
    @staticmethod
    def create_id(**_: Any) -> Any:
        return natural_id("signing-keys")

    @event("Initialised")
    def __init__(
        self, public_key: str, valid_from: datetime, issuer_name: str, issuer_url: str | None, register_uri: str,
        actor: str = ACTING, os_user: str = ACTING,
    ) -> None:
        self.issuer_name = issuer_name
        self.issuer_url = issuer_url
        self.register_uri = register_uri  # the register's own stable id, whatever its current key
        self.keys: list[dict[str, Any]] = [{"public_key": public_key, "valid_from": valid_from, "valid_until": None}]

    @property
    def current(self) -> dict[str, Any]:
        current = self.keys[-1]
        assert current["valid_until"] is None, "the last key recorded is the one in use"
        return current

    def rotate(self, public_key: str, at: datetime) -> None:
        if any(k["public_key"] == public_key for k in self.keys):
            raise KeyAlreadyUsed(f"the key {public_key} was recorded before; a rotation needs a new key")
        assert at >= self.current["valid_from"], "recording instants do not go back"
        self._rotated(public_key, self.current["public_key"], at)

    @event("Rotated")
    def _rotated(
        self, public_key: str, retired_key: str, at: datetime, actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.keys[-1]["valid_until"] = at
        self.keys.append({"public_key": public_key, "valid_from": at, "valid_until": None})

    def key(self, public_key: str) -> dict[str, Any] | None:
        return next((k for k in self.keys if k["public_key"] == public_key), None)

    def valid_at(self, public_key: str, instant: datetime) -> bool:
        """Was `public_key` the register's key at `instant` (from its recording, until rotated out)?"""
        found = self.key(public_key)
        return (found is not None and found["valid_from"] <= instant
                and (found["valid_until"] is None or instant < found["valid_until"]))
