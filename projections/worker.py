"""`projections run`: follow the log and keep every read model caught up until told to stop.

On PostgreSQL the worker LISTENs on the channel the library's recorder NOTIFYs in every
transaction that inserts events, so it wakes as soon as a write commits; it still looks every
`interval` seconds in case a notification was lost with a dropped connection. SQLite has no
notifications: the worker looks every `interval` seconds (default 0.5 s). Each round is an
ordinary catch-up — pages committed with their positions — so a worker that is stopped or
killed resumes from where its last page ended.

The locks are taken per round, not for the worker's lifetime: a nightly `projections rebuild`
or a reader's own catch-up can run between rounds. A round that finds a projection locked
waits for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from projections.registry import PROJECTIONS
from storage.errors import Busy

if TYPE_CHECKING:
    from projections.runner import ReadModels

POLL = 0.5  # seconds between looks at a log that notifies nobody (SQLite)
POLL_NOTIFIED = 10.0  # between looks at one that notifies (PostgreSQL), in case a notification was lost
TICK = 0.2  # longest wait between looks at the stop flag, in seconds


def follow(
    models: ReadModels,
    stopped: Callable[[], bool],
    interval: float | None = None,
    report: Callable[[dict[str, Any]], None] = lambda _: None,
) -> int:
    """Catch up, then wait for new events and catch up again, until `stopped()`; return the position reached."""
    log = models.log
    if interval is None:
        interval = POLL_NOTIFIED if log.notifies else POLL
    names = list(PROJECTIONS)
    position = 0
    with log.listen(TICK) as woken:
        due = 0.0
        while not stopped():
            if time.monotonic() >= due or woken():
                due = time.monotonic() + interval
                try:
                    with models.locked(names):
                        result = models.catch_up_locked(names, stopped=stopped)
                except Busy:
                    due = time.monotonic() + TICK  # a rebuild or a reader holds a lock: look again soon
                    continue
                position = result["head"]
                if any(result["applied"].values()):
                    report(result)
    return position

