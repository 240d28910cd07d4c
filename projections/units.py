"""How the read models store and show times, points and ids: pure, and light enough for
`projections.quick` (no SQLAlchemy, no library).

Times are stored as integer microseconds since the epoch (UTC) and points as integer cents,
so sums and comparisons are exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from domain.values import format_points

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(instant: datetime) -> int:
    """An aware instant as integer microseconds since the epoch."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def cents(amount: Decimal) -> int:
    hundredfold = amount * 100
    assert hundredfold == hundredfold.to_integral_value(), f"points have at most two decimals: {amount}"
    return int(hundredfold)


def points_text(cents: int | None) -> str:
    return format_points(Decimal(cents or 0) / 100)


def instant_text(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).isoformat()


def uuid_text(hex_: str) -> str:
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"
