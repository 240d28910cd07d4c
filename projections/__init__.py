"""Read models built from the event log.

`projections.replay` is the plain in-memory fold over the events: the reference that
answers every "at any date" question from the events alone.
"""
