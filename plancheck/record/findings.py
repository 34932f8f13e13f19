"""Findings that carry over from run to run, and a physicist's disposition of each.

A failing, warning or error result is a *finding*, keyed by patient, prescription, check id, beam and
item (the parameter, or the explicit check's item). Each stored run says what it did to each finding:
*new*, *still_open*, *changed* (its values differ from last time, so it is new again) or *resolved*
(the check ran and no longer fails there). A check that did not run leaves its findings as they were.
A disposition judges a finding's values: when they change, the old judgement no longer covers it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.record.audit import audit
from plancheck.record.errors import RecordUsageError
from plancheck.record.keys import values_hash
from plancheck.record.models import VERDICTS, Disposition, Finding, Result, Run, User
from plancheck.record.review import Review, build_review
from plancheck.record.signoff import refuse_if_signed
from plancheck.record.tracking import track_findings
from plancheck.record.users import require

__all__ = ["dispose", "get_finding", "review", "track_findings"]


def get_finding(s: Session, finding_id: int) -> Finding:
    finding = s.get(Finding, finding_id)
    if finding is None:
        raise RecordUsageError(f"no finding {finding_id}", fix="see `plancheck review RUN` for a run's findings")
    return finding


def _result_in(s: Session, run: Run, finding: Finding) -> Result:
    result = s.scalars(select(Result).where(Result.run_id == run.id, Result.finding_id == finding.id)).first()
    if result is None:
        raise RecordUsageError(f"finding {finding.id} is not a finding of run {run.id}", fix=f"see `plancheck review {run.id}`")
    return result


def dispose(s: Session, finding_id: int, *, verdict: str, comment: str, assignee: str = "", user: User, run_id: int | None = None) -> Disposition:
    """Judge a finding: ``verdict`` acknowledged, accepted, to_be_fixed (with ``assignee``) or false_alarm, with a comment.
    With ``run_id`` it judges the values that run found (refused once that run is signed); else the latest values."""
    require(user, "physicist")
    if verdict not in VERDICTS:
        raise RecordUsageError(f"unknown verdict {verdict!r}", fix=f"use one of {', '.join(VERDICTS)}")
    if not comment.strip():
        raise RecordUsageError("a disposition needs a comment", fix="say why, e.g. --comment 'QA-mode delivery was the morning output check'")
    if verdict == "to_be_fixed" and not assignee.strip():
        raise RecordUsageError("to_be_fixed needs who fixes it", fix="pass --assignee NAME")
    finding = get_finding(s, finding_id)
    hashed = finding.values_hash
    if run_id is not None:
        run = s.get(Run, run_id)
        if run is None:
            raise RecordUsageError(f"no stored run {run_id}")
        refuse_if_signed(s, run)
        hashed = values_hash(_result_in(s, run, finding))
    disposition = Disposition(finding_id=finding.id, run_id=run_id, verdict=verdict, comment=comment.strip(), assignee=assignee.strip(),
                              values_hash=hashed, user_id=user.id)
    s.add(disposition)
    s.flush()
    s.refresh(finding, ["dispositions"])
    audit(s, user.username, "finding.dispose", f"finding {finding.id}", verdict=verdict, run=run_id, assignee=assignee.strip())
    return disposition


def review(s: Session, run_id: int) -> Review:
    """A run for review: findings new since the last signed check first, known ones folded, resolved, manual checks."""
    return build_review(s, run_id)
