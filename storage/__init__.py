"""Where the events and the read models are stored: the one place that knows SQL and the drivers.

`storage.config` turns `--db` into a store's settings; `storage.eventlog` is the seam over the
stored events (its engine halves: `storage.sqlite`, `storage.postgres`); `storage.readmodels` and
`storage.locks` serve the read models; `storage.quick` reads a balance through the bare driver;
`storage.errors` says what failed, with no exit code (the CLI maps them).
"""
