"""The application: carries out the register's commands on the event store.

`ledger.app.Ledger` loads aggregates, calls their command methods and saves what changed in
one transaction; `ledger.store` turns `--db` into the store's settings; `ledger.schemas`
validates every input; `ledger.importer` applies JSON Lines all-or-nothing.
"""
