"""Sign-off: refused until every failure is judged and every manual check ticked, the password asked
again; the signed record PDF lands in the eSCAN folder under the configured name with an audit entry;
a signed run cannot change (the service says so first, the database refuses behind it); amendments."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from plancheck.record.db import session
from plancheck.record.errors import AuthenticationFailed, PermissionDenied, SignedRunFrozen, SignOffRefused
from plancheck.record.findings import dispose, review
from plancheck.record.models import AuditEntry, Run
from plancheck.record.signoff import amend, sign, tick
from plancheck.record.store import store_run
from plancheck.record.users import get_user
from tests.record_runs import AS_OF, PASSWORDS

MEANING = "weekly chart check reviewed"


def _pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_signing_is_refused_until_every_failure_is_judged_and_every_manual_check_ticked(record, weekly_runs) -> None:
    engine, cfg = record
    with session(engine) as s:
        run, _ = store_run(s, weekly_runs["found"], as_of=AS_OF, created_by="batch")
        alice = get_user(s, "alice")
        rv = review(s, run.id)
        with pytest.raises(SignOffRefused) as refused:
            sign(s, run.id, user=alice, password=PASSWORDS["alice"], meaning=MEANING, config=cfg)
        assert refused.value.exit_code == 1
        assert f"finding {rv.new[0].finding.id} (" in refused.value.message and "manual check manual.imaging is not ticked" in refused.value.message
        for v in rv.new:
            if v.result.status != "warn":  # a warning may stay unjudged
                dispose(s, v.finding.id, verdict="accepted", comment="reviewed with the physician", user=alice, run_id=run.id)
        tick(s, run.id, "manual.imaging", ticked=True, user=alice)
        tick(s, run.id, "manual.notes", ticked=True, user=alice)
        tick(s, run.id, "manual.notes", ticked=False, user=alice)  # the latest tick counts
        with pytest.raises(SignOffRefused, match=r"manual check manual\.notes is not ticked"):
            sign(s, run.id, user=alice, password=PASSWORDS["alice"], meaning=MEANING, config=cfg)
        tick(s, run.id, "manual.notes", ticked=True, user=alice)
        with pytest.raises(AuthenticationFailed, match="not accepted"):
            sign(s, run.id, user=alice, password="not-her-password", meaning=MEANING, config=cfg)
        with pytest.raises(PermissionDenied, match="viewer"):
            sign(s, run.id, user=get_user(s, "victor"), password=PASSWORDS["victor"], meaning=MEANING, config=cfg)
        assert not cfg.escan_dir.exists() or not any(cfg.escan_dir.iterdir())  # nothing written by the refused attempts
        signature = sign(s, run.id, user=alice, password=PASSWORDS["alice"], meaning=MEANING, config=cfg)
    path = Path(signature.pdf_path)
    assert path.parent == cfg.escan_dir and path.name == f"00017R_weekly_check_{signature.signed_at.astimezone():%Y%m%d}_run{run.id}.pdf"
    assert [p.name for p in cfg.escan_dir.iterdir()] == [path.name]  # no partial file left beside it
    assert hashlib.sha256(path.read_bytes()).hexdigest() == signature.pdf_sha256
    words = _pdf_text(path)
    for expected in ("Alice Physicist (alice)", MEANING, "manual.imaging", "delivery.no_qa_mode", "accepted (clinically fine)",
                     "reviewed with the physician", "implicit.mu", "00017R"):
        assert expected in words, f"{expected!r} missing from the signed PDF"
    with session(engine) as s:
        stored = s.get_one(Run, run.id)
        assert stored.state == "signed" and stored.signature is not None and stored.signature.user.username == "alice"
        assert stored.signature.meaning == MEANING and stored.signature.signed_at.tzinfo is not None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "run.sign")).one()
        assert (entry.username, entry.target, entry.detail["sha256"]) == ("alice", f"run {run.id}", signature.pdf_sha256)
        assert all(p not in str(a.detail) for a in s.scalars(select(AuditEntry)) for p in PASSWORDS.values())


def _signed_run(engine, cfg, runs) -> int:
    with session(engine) as s:
        run, _ = store_run(s, runs["found"], as_of=AS_OF, created_by="batch")
        alice = get_user(s, "alice")
        rv = review(s, run.id)
        for v in rv.new:
            dispose(s, v.finding.id, verdict="acknowledged", comment="known", user=alice, run_id=run.id)
        for m in rv.manual:
            tick(s, run.id, m.result.check_id, ticked=True, user=alice)
        sign(s, run.id, user=alice, password=PASSWORDS["alice"], meaning=MEANING, config=cfg)
        return run.id


def test_a_signed_run_cannot_change_and_an_amendment_references_it(record, weekly_runs, results_url: str) -> None:
    engine, cfg = record
    run_id = _signed_run(engine, cfg, weekly_runs)
    with session(engine) as s:
        alice = get_user(s, "alice")
        finding_id = review(s, run_id).known[0].finding.id if review(s, run_id).known else review(s, run_id).new[0].finding.id
        for attempt in (lambda: tick(s, run_id, "manual.imaging", ticked=False, user=alice),
                        lambda: dispose(s, finding_id, verdict="false_alarm", comment="no", user=alice, run_id=run_id),
                        lambda: sign(s, run_id, user=alice, password=PASSWORDS["alice"], meaning=MEANING, config=cfg)):
            with pytest.raises(SignedRunFrozen, match=f"run {run_id} is signed by alice on .* and cannot change; record an amendment"):
                attempt()
    with pytest.raises(DBAPIError, match="signed run cannot be changed"), engine.begin() as c:  # behind the service, the database refuses
        c.execute(text(f"UPDATE check_runs SET passed = true WHERE id = {run_id}"))
    with session(engine) as s:
        alice = get_user(s, "alice")
        copy = amend(s, run_id, user=alice, reason="the QA-mode disposition was wrong")
        assert (copy.amends_id, copy.state, copy.patient_id) == (run_id, "open", "00017R")
        rv = review(s, copy.id)
        assert rv.last_signed is not None and rv.last_signed.id == run_id and rv.new == [] and rv.known
        qa = next(v for v in rv.known if v.result.check_id == "delivery.no_qa_mode")
        dispose(s, qa.finding.id, verdict="false_alarm", comment="the QA-mode delivery was the morning output check", user=alice, run_id=copy.id)
        assert review(s, copy.id).known[0].disposition is not None
        for m in rv.manual:
            tick(s, copy.id, m.result.check_id, ticked=True, user=alice)
        signature = sign(s, copy.id, user=alice, password=PASSWORDS["alice"], meaning="amended weekly chart check", config=cfg)
        assert f"signed run {run_id}" in _pdf_text(Path(signature.pdf_path))
        assert [a.detail["amends"] for a in s.scalars(select(AuditEntry).where(AuditEntry.action == "run.amend"))] == [run_id]


def test_the_signed_record_is_named_by_the_configured_pattern_and_never_overwrites(record, weekly_runs) -> None:
    engine, cfg = record
    cfg = replace(cfg, extra={**cfg.extra, "escan": {"signed_file_name": "{patient_id}_signed.pdf"}})
    first = _signed_run(engine, cfg, weekly_runs)
    with session(engine) as s:
        copy = amend(s, first, user=get_user(s, "alice"), reason="again")
        for m in review(s, copy.id).manual:
            tick(s, copy.id, m.result.check_id, ticked=True, user=get_user(s, "alice"))
        sign(s, copy.id, user=get_user(s, "alice"), password=PASSWORDS["alice"], meaning=MEANING, config=cfg)
    assert sorted(p.name for p in cfg.escan_dir.iterdir()) == ["00017R_signed.pdf", "00017R_signed_2.pdf"]
