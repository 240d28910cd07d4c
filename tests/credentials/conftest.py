"""The register the credential tests issue from (tests/support/credentials.py builds it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.credentials import a_register


@pytest.fixture
def register(run: Any, clock: Any, tmp_path: Path) -> dict[str, Any]:
    return a_register(run, clock, tmp_path)
