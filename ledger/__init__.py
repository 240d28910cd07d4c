"""The application: carries out the register's commands on the event store.

`ledger.app.Ledger` loads aggregates, calls their command methods and saves what changed in
one transaction; `ledger.schemas` validates every input; `ledger.importer` applies JSON Lines
all-or-nothing. Where and how the events are stored is the `storage` package's.
"""
