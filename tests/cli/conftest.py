"""A small register the CLI's refusal tests start from (tests/cli/test_bad_input.py, test_hostile.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest


@pytest.fixture
def populated(ledger: Any, run: Any) -> Any:
    """R-1 (claimant), R-2, R-3 in wound-care; reviewer V-1; claim `c-1` by R-1, endorsed by R-2."""
    for pid in ("R-1", "R-2", "R-3"):
        ledger.register_professional(id=pid, name=f"Nurse {pid}", group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-1", name="Vera", on=date(2024, 1, 1))
    ledger.register_network(id="wound-care", name="Wondzorg", theme=["wound-care"], group=["nurse"],
                            founded_on=date(2021, 9, 1))
    for pid in ("R-1", "R-2"):
        ledger.join_network(network="wound-care", professional=pid, on=date(2025, 1, 1))
    ledger.submit_claim(professional="R-1", network="wound-care", kind="answer", on=date(2025, 3, 4),
                        hours=Decimal(2), description="d", outcome="o", request_id="c-1")
    ledger.endorse_claim(claim="c-1", by="R-2", statement="Yes")
    return run
