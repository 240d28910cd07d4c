"""The register's read models by name, in the order they are listed and applied: one module each."""

from __future__ import annotations

from projections.balances import Balances
from projections.claims import Claims
from projections.memberships import Memberships
from projections.model import ReadModel

PROJECTIONS: dict[str, ReadModel] = {model.name: model for model in (Balances(), Memberships(), Claims())}
