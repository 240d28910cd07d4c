"""Every write command, declared once: a dataclass of its options, each with the marshmallow field
that validates it (its schema is made from them), and its handler.

One module per area (policy, people, networks, claims, reviews, keys). Adding a command is a
dataclass with `@command(path)` and a handler with `@carry_out.register`, in its area's
module: the CLI, the importer and `Ledger.handle` find it by its path or its class.
"""

from ledger.commands import claims, keys, networks, people, policy, reviews  # noqa: F401  (they register)
from ledger.commands.base import COMMANDS, Command, carry_out, schema_for

__all__ = ["COMMANDS", "Command", "carry_out", "schema_for"]
