"""Read models built from the event log.

One module per read model — `balances`, `memberships`, `claims` — each with its tables, its
handlers keyed by domain event class, its queries and its check against `replay`, the plain
in-memory fold over the events that answers every "at any date" question from the events
alone. `runner` applies pages of events (`generations`: the tables of each generation;
`bookkeeping`: positions written in the page's transaction); `reader` answers read commands;
`verify` compares every read model with the replay.
"""
