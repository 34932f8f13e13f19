"""Following findings across runs: what each stored run did to each finding of its patient's prescription.

New (first seen, or back after being resolved), still open (same values), changed (values differ: new
again) or resolved (the check ran and no longer fails there). A check that did not run in this run (a
weekly-only check in an initial run) leaves its findings as they were.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.record.keys import is_finding, item_of, values_hash
from plancheck.record.models import Finding, Result, Run, RunFinding


def _keyed(results: list[Result]) -> dict[tuple[str, str, str], Result]:
    """This run's findings by (check id, beam, item); a repeated key gets ``#2``, ``#3`` so none is lost."""
    out: dict[tuple[str, str, str], Result] = {}
    for r in results:
        if not is_finding(r):
            continue
        key, n = (r.check_id, r.beam, item_of(r)), 1
        while key in out:
            n += 1
            key = (r.check_id, r.beam, f"{item_of(r)}#{n}")
        out[key] = r
    return out


def _findings_of(s: Session, run: Run) -> dict[tuple[str, str, str], Finding]:
    query = select(Finding).where(Finding.patient_id == run.patient_id, Finding.prescription == run.prescription)
    return {(f.check_id, f.beam, f.item): f for f in s.scalars(query)}


def track_findings(s: Session, run: Run) -> None:
    """Link ``run``'s failing results to their findings and record, per finding, what this run did to it."""
    known = _findings_of(s, run)
    results = list(s.scalars(select(Result).where(Result.run_id == run.id).order_by(Result.position)))
    current = _keyed(results)
    for key, result in current.items():
        finding = known.get(key)
        hashed = values_hash(result)
        if finding is None:
            finding = Finding(patient_id=run.patient_id, prescription=run.prescription, check_id=key[0], beam=key[1], item=key[2],
                              status=result.status, message=result.message, values_hash=hashed, first_run_id=run.id, last_run_id=run.id,
                              first_seen=run.as_of, last_seen=run.as_of)
            s.add(finding)
            s.flush()
            change = "new"
        else:
            change = "new" if finding.state == "resolved" else "still_open" if finding.values_hash == hashed else "changed"
            finding.state, finding.resolved_run_id = "open", None
            finding.status, finding.message, finding.values_hash = result.status, result.message, hashed
            finding.last_run_id, finding.last_seen = run.id, run.as_of
        result.finding_id = finding.id
        s.add(RunFinding(run_id=run.id, finding_id=finding.id, change=change))
    ran = {r.check_id for r in results}
    for key, finding in known.items():
        if key not in current and finding.state == "open" and key[0] in ran:
            finding.state, finding.resolved_run_id = "resolved", run.id
            s.add(RunFinding(run_id=run.id, finding_id=finding.id, change="resolved"))
    s.flush()
