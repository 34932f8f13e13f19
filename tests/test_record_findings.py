"""Findings carry over: new, still open, changed (new again), resolved; a check that did not run leaves
its findings alone; the review shows what is new since the last signed check first and folds the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from plancheck.record.db import session
from plancheck.record.errors import PermissionDenied, RecordUsageError
from plancheck.record.findings import dispose, review
from plancheck.record.models import Finding, RunFinding
from plancheck.record.signoff import sign, tick
from plancheck.record.store import store_run
from plancheck.record.users import get_user
from tests.record_runs import AS_OF, PASSWORDS

FAILING = ("fail", "warn", "error")


def _changes(s, run_id: int) -> dict[tuple[str, str, str], str]:
    rows = s.execute(select(Finding.check_id, Finding.beam, Finding.item, RunFinding.change).join(RunFinding, RunFinding.finding_id == Finding.id)
                     .where(RunFinding.run_id == run_id))
    return {(c, b, i): change for c, b, i, change in rows}


def test_findings_are_new_then_still_open_changed_or_resolved(record, weekly_runs) -> None:
    engine, _cfg = record
    found, edited, initial = weekly_runs["found"], weekly_runs["edited"], weekly_runs["initial"]
    failing = [r for r in found.automatic if r.status.value in FAILING]
    with session(engine) as s:
        first, _ = store_run(s, found, as_of=AS_OF - dt.timedelta(days=7), created_by="batch")
        assert set(_changes(s, first.id).values()) == {"new"} and len(_changes(s, first.id)) == len(failing) > 5
        assert all(r.finding_id for r in first.results if r.status in FAILING and r.origin != "manual")
        second, _ = store_run(s, edited, as_of=AS_OF, created_by="batch")
        changes = _changes(s, second.id)
    assert changes[("implicit.energy", "1-2", "energy")] == "resolved"
    assert changes[("implicit.mu", "1-2", "mu")] == "changed"
    assert changes[("delivery.no_qa_mode", "", "")] == changes[("implicit.birth_date", "", "birth_date")] == "still_open"
    with session(engine) as s:
        third, _ = store_run(s, initial, as_of=AS_OF, created_by="batch")  # an initial check does not run the weekly delivery checks
        qa_mode = s.scalars(select(Finding).where(Finding.check_id == "delivery.no_qa_mode")).one()
        assert qa_mode.state == "open" and ("delivery.no_qa_mode", "", "") not in _changes(s, third.id)
        energy = s.scalars(select(Finding).where(Finding.check_id == "implicit.energy")).one()
        assert energy.state == "open" and _changes(s, third.id)[("implicit.energy", "1-2", "energy")] == "new"  # back after being resolved


def _judge_all(s, run_id: int, username: str = "alice") -> None:
    alice = get_user(s, username)
    for view in review(s, run_id).new:
        dispose(s, view.finding.id, verdict="acknowledged", comment=f"seen: {view.result.check_id}", user=alice, run_id=run_id)
    for m in review(s, run_id).manual:
        tick(s, run_id, m.result.check_id, ticked=True, user=alice)


def test_review_shows_new_since_the_last_signed_check_first_and_known_ones_folded(record, weekly_runs) -> None:
    engine, cfg = record
    with session(engine) as s:
        last_week, _ = store_run(s, weekly_runs["found"], as_of=AS_OF - dt.timedelta(days=7), created_by="batch")
        before = review(s, last_week.id)
        assert before.known == [] and before.last_signed is None and before.new and all(v.since_signed for v in before.new)
        _judge_all(s, last_week.id)
        sign(s, last_week.id, user=get_user(s, "alice"), password=PASSWORDS["alice"], meaning="weekly chart check reviewed", config=cfg)
    with session(engine) as s:
        this_week, _ = store_run(s, weekly_runs["edited"], as_of=AS_OF, created_by="batch")
        now = review(s, this_week.id)
        assert now.last_signed is not None and now.last_signed.id == last_week.id
        assert [(v.result.check_id, v.change) for v in now.new] == [("implicit.mu", "changed")]
        mu = now.new[0]
        assert mu.disposition is None and mu.earlier is not None and mu.earlier.user.username == "alice" and mu.needs_disposition
        known = {v.result.check_id: v for v in now.known}
        assert "delivery.no_qa_mode" in known and "implicit.mu" not in known and "implicit.energy" not in known
        qa = known["delivery.no_qa_mode"]
        assert qa.folded and qa.disposition is not None and qa.disposition.user.username == "alice" and qa.disposition.created is not None
        assert [f.check_id for f in now.resolved] == ["implicit.energy"]
        assert now.blockers() == [f"finding {mu.finding.id} (implicit.mu beam 1-2) has no disposition",
                                  *(f"manual check {m.result.check_id} is not ticked" for m in now.manual)]


def test_a_disposition_needs_a_verdict_a_comment_an_assignee_to_fix_and_a_physicist(record, weekly_runs) -> None:
    engine, _cfg = record
    with session(engine) as s:
        run, _ = store_run(s, weekly_runs["found"], as_of=AS_OF, created_by="batch")
        finding = review(s, run.id).new[0].finding
        alice, victor = get_user(s, "alice"), get_user(s, "victor")
        for kwargs, words in (({"verdict": "fine"}, "unknown verdict"), ({"verdict": "accepted", "comment": " "}, "needs a comment"),
                              ({"verdict": "to_be_fixed"}, "needs who fixes it")):
            with pytest.raises(RecordUsageError, match=words) as caught:
                dispose(s, finding.id, **{"comment": "why", **kwargs}, user=alice)
            assert caught.value.exit_code == 2
        with pytest.raises(PermissionDenied, match="victor is a viewer") as refused:
            dispose(s, finding.id, verdict="accepted", comment="fine", user=victor)
        assert refused.value.exit_code == 1
        with pytest.raises(RecordUsageError, match="no finding 99999"):
            dispose(s, 99999, verdict="accepted", comment="fine", user=alice)
        d = dispose(s, finding.id, verdict="to_be_fixed", comment="dosimetry to re-export", assignee="dosimetry", user=alice, run_id=run.id)
        assert (d.verdict, d.assignee, d.user.username, d.values_hash) == ("to_be_fixed", "dosimetry", "alice", finding.values_hash)
        assert review(s, run.id).new[0].disposition == d
