"""The application: carries out the register's commands on the event store.

`ledger.app.Ledger.handle` carries out one command of `ledger.commands` (each declared there once:
its options, the schema that validates them, its handler): it loads aggregates, calls their
command methods and saves what changed in one transaction (`ledger.unit_of_work`);
`ledger.importer` applies JSON Lines all-or-nothing through the same commands. Where and how the events are stored is the `storage` package's.
"""

from ledger import dataclass_code, lazy_patterns

lazy_patterns.install()  # before any module here imports marshmallow: see ledger/lazy_patterns.py
dataclass_code.install()  # before any module here makes an event class: see ledger/dataclass_code.py
