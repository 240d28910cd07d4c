"""The first event of a migrated store (`studyledger migrate`, ledger/migrate.py), and `audit verify`'s
check of it: which store it was moved from, and that store's digest then.

Without the old store, `audit verify` says where the store came from and the digest to compare;
with it (`--migrated-from OLD`), OLD's own chain is checked and its digest recomputed: a store
changed since, or another store, is a problem like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id

if TYPE_CHECKING:
    from ledger.app import Ledger
    from ledger.migrate import Opener
    from storage.config import Store


class Migration(LedgerAggregate):
    """The first event of a migrated store: which store it was moved from, and that store's digest then."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return natural_id("migration")

    @event("Migrated")
    def __init__(self, old_digest: str, old_events: int, old_store: str, migrated_at: datetime,
                 actor: str = ACTING, os_user: str = ACTING) -> None:
        self.old_digest = old_digest
        self.old_events = old_events
        self.old_store = old_store
        self.migrated_at = migrated_at


def verify_migration(ledger: Ledger, old_store: Store | None = None,
                     opener: Opener | None = None) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """Where the store was migrated from (None if it was not), problems, notes. With `old_store`, also
    that OLD's own chain holds and its digest is still the one recorded when it was migrated."""
    from ledger.audit import verify_chain
    from ledger.integrity import digest
    from ledger.migrate import reading

    found = ledger.find(Migration, Migration.create_id())
    if found is None:
        problems = [] if old_store is None else [
            "--migrated-from was given, but this store was not migrated from another (it holds no Migrated event)"]
        return None, problems, []
    info = {"store": found.old_store, "digest": found.old_digest, "events": found.old_events,
            "migrated_at": found.migrated_at.isoformat()}
    problems: list[str] = []
    first = next(ledger.event_log.notifications(size=1), None)
    if first is None or first.originator_id != found.id or first.originator_version != 1:
        problems.append("the Migrated event is not the first event of the log, as a migration writes it")
    if old_store is None:
        note = (f"migrated on {info['migrated_at'][:10]} from {found.old_store}, whose digest then was "
                f"{found.old_digest} ({found.old_events} events); check it with --migrated-from OLD")
        return info, problems, [note]
    with reading(old_store, opener) as old:
        report, _ = verify_chain(old)
        if not report.ok:
            problems.append(f"the old store at {old_store.where} fails its own chain check: {report.problems[0]}")
            return info, problems, []
        now = digest(report.head, report.seal)
        if now == found.old_digest:
            return info, problems, [f"the old store at {old_store.where} has the digest recorded when it was "
                                    f"migrated ({now}): nothing in it has changed since"]
        prefix, _ = verify_chain(old, found.old_digest)
    if not prefix.problems:
        problems.append(f"the old store at {old_store.where} holds {report.events_checked - found.old_events} "
                        f"event(s) written after it was migrated ({found.old_events} were moved): they are not "
                        "in this store")
    else:
        problems.append(f"the old store at {old_store.where} is not the one this store was migrated from, or its "
                        f"history has changed since: its digest is {now}, the migration recorded {found.old_digest}")
    return info, problems, []
