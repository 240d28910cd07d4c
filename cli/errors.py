"""The one mapping of errors to exit codes, and to the kind a `--json` error names.

Exit codes: 0 done; 1 refused by a ledger rule; 2 invalid input or usage; 3 conflict with a
concurrent change (safe to retry); 4 storage unavailable or failing. The errors themselves carry
no code: the domain, the application and the storage seam each raise their own classes.
"""

from __future__ import annotations

from domain.errors import DomainError
from ledger.errors import InvalidInput, LedgerError
from storage.errors import Conflict, InvalidAddress, StorageFailure

# The first class an error is an instance of gives its exit code and kind: subclasses first.
EXIT_CODES: tuple[tuple[type[Exception], int, str], ...] = (
    (DomainError, 1, "refused"),
    (InvalidInput, 2, "invalid-input"),
    (InvalidAddress, 2, "invalid-input"),
    (Conflict, 3, "conflict"),
    (StorageFailure, 4, "storage"),
    (LedgerError, 1, "refused"),
)


def classify(error: BaseException) -> tuple[int, str] | None:
    """(exit code, kind) of an error the program raises on purpose; None for any other."""
    for cls, code, kind in EXIT_CODES:
        if isinstance(error, cls):
            return code, kind
    return None
