"""Value types and vocabulary: claim kinds and statuses, points, identifiers, dates."""

from __future__ import annotations

import re
from datetime import MAXYEAR, date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# The actor of the register office's own commands (registrations, policy, keys).
REGISTER = "register"

KINDS = ("question", "answer", "co-construction", "facilitation")

SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
RETURNED = "returned"
WITHDRAWN = "withdrawn"
REVOKED = "revoked"
STATUSES = (SUBMITTED, APPROVED, REJECTED, RETURNED, WITHDRAWN, REVOKED)
# A live claim still stands on the facts of its activity date (rule 8); the others are final.
LIVE = (SUBMITTED, RETURNED, APPROVED)

IDENTIFIER = re.compile(r"\A[A-Za-z0-9._-]{1,64}\Z")

CENT = Decimal("0.01")
MAX_HOURS = Decimal(40)


def points(value: Decimal | int | str) -> Decimal:
    """An exact amount of points with two decimal places at most (rounded half up)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_points(amount: Decimal) -> str:
    """Points as the JSON output shows them: "12.5", "3", "0.25" — never a float."""
    return format(points(amount).normalize(), "f")


def add_years(day: date, years: int) -> date:
    """`day` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def cycle_containing(registered_on: date, at: date, cycle_years: int) -> tuple[date, date]:
    """The registration cycle (first day, last day) that contains `at`.

    Cycles are counted from the registration date; a date before registration falls in
    the first cycle.
    """
    assert cycle_years >= 1

    def start_of(n: int) -> date | None:
        """The first day of cycle n; None when it lies beyond the calendar (after 9999-12-31)."""
        return add_years(registered_on, n * cycle_years) if registered_on.year + n * cycle_years <= MAXYEAR else None

    k = max(0, (at.year - registered_on.year) // cycle_years)
    while k > 0 and start_of(k) > at:  # type: ignore[operator]  # cycle k starts in at's year or before
        k -= 1
    while (following := start_of(k + 1)) is not None and following <= at:
        k += 1
    start = start_of(k)
    assert start is not None
    # The cycle that would run past the calendar ends with it.
    end = following - timedelta(days=1) if following is not None else date.max
    return start, end
