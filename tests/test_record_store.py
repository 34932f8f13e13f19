"""Storing real CheckRuns of the demo clinic: every result kept, an unchanged patient stored once."""

from __future__ import annotations

import datetime as dt

from plancheck.api import check
from plancheck.record.db import open_record, session
from plancheck.record.models import AuditEntry, Result
from plancheck.record.store import get_run, last_signed, runs_of, store_run

AS_OF = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


def test_a_stored_run_keeps_every_result_and_an_unchanged_patient_is_stored_once(demo_clinic, results_url: str) -> None:
    _clinic, cfg = demo_clinic
    engine = open_record(results_url)
    run = check("00017R", kind="weekly", config=cfg)
    with session(engine) as s:
        stored, new = store_run(s, run, as_of=AS_OF, created_by="batch")
        again, new_again = store_run(s, check("00017R", kind="weekly", config=cfg), as_of=AS_OF + dt.timedelta(days=1), created_by="batch")
        assert new and not new_again and again.id == stored.id
    with session(engine) as s:
        kept = get_run(s, stored.id)
        assert [(r.check_id, r.status, r.beam, r.message) for r in kept.results] == [(r.id, r.status.value, r.beam, r.message) for r in run.results]
        assert not kept.passed and kept.counts["fail"] == run.counts()["fail"] > 0
        assert kept.payload["table"] and set(kept.sources) == set(run.table.sources)
        assert [r.id for r in runs_of(s, "00017R")] == [stored.id] and last_signed(s, "00017R") is None
        assert [a.action for a in s.query(AuditEntry)] == ["run.store"]
        assert s.query(Result).count() == len(run.results)
