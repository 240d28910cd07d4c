"""The demo register as a list of commands, with a few steps that reach what the demo leaves out.

Used by the projection tests that write it one command at a time (tests/projections/test_equivalence.py,
tests/projections/test_quick.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ledger.demo import script


def demo_steps(today: date) -> list[tuple[str, dict[str, Any]]]:
    """The demo's commands (command, values), then what it does not do: clear endorsements by
    amending the kind; close a network."""
    return [(command, values) for _, command, values in script(today)] + [
        ("claim amend", {"claim": "demo-11", "by": "T-1003", "kind": "answer"}),
        ("claim endorse", {"claim": "demo-11", "by": "T-1001", "statement": "Fatima explained the protocol to us."}),
        ("review approve", {"claim": "demo-11", "reviewer": "R-hvos", "rationale": "Expertise shared."}),
        ("network close", {"id": "wondzorg", "on": today - timedelta(days=10)}),
    ]
