"""The demo's record: two users and last week's signed weekly check of 00017R, dated from the demo's today,
so this week's check shows the planted errors that happened since as new and last week's findings folded."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from plancheck.api import check
from plancheck.demo.mosaiq_db import DEMO_TODAY, PATIENTS
from plancheck.demo.record import build_demo_record
from plancheck.record.db import open_record, session
from plancheck.record.findings import review
from plancheck.record.models import Run
from plancheck.record.store import store_run
from plancheck.record.users import authenticate, list_users

# happened after last week's check: the override and the overdue task are in the last days, the linac
# recorded the leaf pair yesterday; the QA-mode fraction was the second of the course, before it
NEW_SINCE_LAST_WEEK = {"delivery.override_commented", "task.none_overdue", "delivery.gamma"}


def test_this_weeks_check_shows_what_is_new_first_and_last_weeks_findings_folded(demo_clinic, results_url: str, tmp_path: Path) -> None:
    cfg = replace(demo_clinic[1], results_url=results_url, escan_dir=tmp_path / "escan")
    built = build_demo_record(cfg)
    last_week = DEMO_TODAY - dt.timedelta(days=7)
    assert built.signed_at.date() == last_week.date()
    engine = open_record(results_url)
    with session(engine) as s:
        assert {(u.username, u.role) for u in list_users(s)} == {("morgan", "admin"), ("alice", "physicist")}
        assert authenticate(s, "alice", built.passwords["alice"], cfg).username == "alice"
        signed = s.get_one(Run, built.signed_run)
        assert signed.state == "signed" and signed.as_of.date() == last_week.date() and Path(signed.signature.pdf_path).exists()
        this_week, new = store_run(s, check("00017R", kind="weekly", config=cfg, today=DEMO_TODAY), as_of=DEMO_TODAY.astimezone(), created_by="batch")
        rv = review(s, this_week.id)
        assert new and rv.last_signed is not None and rv.last_signed.id == built.signed_run
        new_checks = [v.result.check_id for v in rv.new]
        known = {v.result.check_id: v for v in rv.known}
        assert set(new_checks) >= NEW_SINCE_LAST_WEEK and not set(new_checks) & set(known)
        weekly_planted = {c for e in PATIENTS[1].planted if e.kind == "weekly" for c in e.caught_by}
        assert weekly_planted <= set(new_checks) | set(known), "a planted weekly error is neither new nor known"
        qa = known["delivery.no_qa_mode"]
        assert qa.folded and qa.disposition is not None and qa.disposition.user.username == "alice"
        assert qa.disposition.created.astimezone().date() == last_week.date() and qa.disposition.verdict == "accepted"
        assert all(v.disposition is None for v in rv.new) and len(rv.blockers()) == len([v for v in rv.new if v.needs_disposition]) + len(rv.manual)
