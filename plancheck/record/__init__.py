"""The chart-check record: every stored CheckRun, its findings, dispositions, manual ticks,
sign-offs, users and an append-only audit log, in the results database (``[results] url``).

Nothing here ever writes to MOSAIQ: the record is plancheck's own database.
"""
