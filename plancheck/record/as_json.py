"""The record as plain data (``--format json`` and the web API): runs, reviews, dispositions, users.
Never a password hash; times as ISO 8601 with their UTC offset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.record.models import Disposition, Run, RunFinding, User
from plancheck.record.review import FindingView, ManualView, Review


def when(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def user_dict(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role, "auth": user.auth, "active": user.active,
            "created": when(user.created)}


def run_dict(s: Session, run: Run) -> dict[str, Any]:
    """A run's summary: what was checked, its outcome, its state and signature, what it did to its findings."""
    changes: dict[str, int] = {}
    for rf in s.scalars(select(RunFinding).where(RunFinding.run_id == run.id)):
        changes[rf.change] = changes.get(rf.change, 0) + 1
    sig = run.signature
    return {"id": run.id, "patient_id": run.patient_id, "prescription": run.prescription, "check_kind": run.check_kind,
            "as_of": when(run.as_of), "created": when(run.created), "created_by": run.created_by, "rule_set": run.rule_set,
            "version": run.version, "passed": run.passed, "counts": run.counts, "state": run.state, "amends": run.amends_id,
            "findings": changes,
            "signature": None if sig is None else {"by": sig.user.username, "at": when(sig.signed_at), "meaning": sig.meaning,
                                                   "pdf": sig.pdf_path, "pdf_sha256": sig.pdf_sha256}}


def disposition_dict(d: Disposition | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"id": d.id, "verdict": d.verdict, "comment": d.comment, "assignee": d.assignee, "by": d.user.username,
            "by_name": d.user.display_name, "at": when(d.created), "run": d.run_id}


def finding_dict(v: FindingView) -> dict[str, Any]:
    r = v.result
    return {"finding": v.finding.id, "check_id": r.check_id, "name": r.name, "beam": r.beam, "item": v.finding.item, "status": r.status,
            "message": r.message, "change": v.change, "since_signed": v.since_signed, "folded": v.folded,
            "needs_disposition": v.needs_disposition, "first_seen": when(v.finding.first_seen),
            "disposition": disposition_dict(v.disposition), "earlier": disposition_dict(v.earlier)}


def manual_dict(m: ManualView) -> dict[str, Any]:
    tick = m.tick
    return {"check_id": m.result.check_id, "name": m.result.name, "ticked": m.ticked,
            "by": tick.user.username if tick else None, "at": when(tick.created) if tick else None}


def review_dict(s: Session, review: Review) -> dict[str, Any]:
    return {"run": run_dict(s, review.run), "last_signed": review.last_signed.id if review.last_signed else None,
            "new": [finding_dict(v) for v in review.new], "known": [finding_dict(v) for v in review.known],
            "resolved": [{"finding": f.id, "check_id": f.check_id, "beam": f.beam, "item": f.item, "message": f.message} for f in review.resolved],
            "manual": [manual_dict(m) for m in review.manual], "blockers": review.blockers()}
