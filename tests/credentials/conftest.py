"""The register the credential tests issue from (tests/support/credentials.py builds it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.credentials import a_register
from tests.support.snapshots import Snapshots


@pytest.fixture
def register(run: Any, clock: Any, tmp_path: Path, db_url: str, snapshots: Snapshots) -> dict[str, Any]:
    return snapshots.register("credentials", db_url, clock, lambda: a_register(run, clock, tmp_path), tmp_path)
