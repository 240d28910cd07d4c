"""The application's own errors beside the domain's rules: a refusal (`LedgerError`) and input that
is not valid (`InvalidInput`).

They carry no exit code: the CLI maps each class to one (cli/errors.py). Storage failures and
conflicts are the storage seam's (storage/errors.py).
"""

from __future__ import annotations


class LedgerError(Exception):
    """A command refused by the application (not by a rule of the domain)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(LedgerError):
    """Input that is not valid: nothing was tried."""
