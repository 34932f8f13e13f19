"""A stored run as the check page and the API show it: the report's view of the run (sources as columns,
odd values marked), each value's provenance, the differences, the gamma pages, and the record's review
(findings new since the last signed check first, known ones with their disposition, manual checks and ticks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.record.findings import review
from plancheck.record.models import Disposition, Run
from plancheck.record.review import FindingView, Review
from plancheck.record.store import get_run
from plancheck.report.failures import Disagreement, disagreements, failure_line, number
from plancheck.report.html import Figure, embed_figure
from plancheck.report.json import run_from_dict
from plancheck.report.view import ReportView, build_view


@dataclass
class CheckPage:
    """Everything the check page draws for one stored run."""

    run: Run
    checkrun: CheckRun
    view: ReportView
    provenance: dict[tuple[str, str, str, str], str]  # (scope, beam, param, source) -> where the value was read
    differences: dict[tuple[str, str], str]  # (beam, param) -> "+4.77 MU, +3.0 %"
    odd_status: dict[tuple[str, str], str]  # (beam, param) -> fail | warn | error: how the odd value is marked
    lines: dict[tuple[str, str], str] = field(default_factory=dict)  # (check id, beam) -> the failure in one line, as the reports say it
    gamma: list[tuple[CheckResult, list[Figure]]] = field(default_factory=list)
    review: Review | None = None

    @property
    def summary(self) -> str:
        """The report's one-line verdict, with the manual checks as the record has them ticked (not as the run left them)."""
        line = re.sub(r"; \d+ manual checks? to tick$", "", self.view.summary)
        manual = self.review.manual if self.review else []
        if manual:
            line += f"; manual checks ticked: {sum(m.ticked for m in manual)} of {len(manual)}"
        return line


def _difference(found: list[Disagreement]) -> str:
    parts = []
    for d in found:
        text = f"{number(d.difference, signed=True)} {d.unit}".rstrip() if d.difference is not None else f"{d.odd_value} vs {d.agreed_value}"
        if d.percent is not None:
            text += f", {d.percent:+.1f} %"
        parts.append(f"{'/'.join(d.odd)}: {text}")
    return "; ".join(parts)


def stored_checkrun(run: Run) -> CheckRun:
    """The stored run as a CheckRun, dated as of its check (the review window ends there, not when it was computed)."""
    checkrun = run_from_dict(run.payload, where=f"stored run {run.id}")
    checkrun.created = run.as_of.astimezone().replace(tzinfo=None).isoformat()
    return checkrun


def check_page(s: Session, run_id: int) -> CheckPage:
    run = get_run(s, run_id)
    checkrun = stored_checkrun(run)
    provenance: dict[tuple[str, str, str, str], list[str]] = {}
    for row in checkrun.table:
        provenance.setdefault((row.scope, row.beam, row.param, row.source), []).append(row.provenance)
    bad = (Status.FAIL, Status.WARN, Status.ERROR)
    implicit = [r for r in checkrun.results if r.origin == "implicit" and r.status in bad and r.param]
    figure_dirs = tuple(Path(d) for d in (run.report_dir,) if d)
    view = build_view(checkrun)
    return CheckPage(
        run=run, checkrun=checkrun, view=view,
        lines={(f.check_id, f.beam): failure_line(f) for f in view.failures},
        provenance={k: "; ".join(v) for k, v in provenance.items()},
        differences={(r.beam, r.param): _difference(disagreements(r)) for r in implicit},
        odd_status={(r.beam, r.param): r.status.value for r in implicit},
        gamma=[(r, [embed_figure(f, figure_dirs) for f in r.figures]) for r in checkrun.results if "pass_percent" in r.details],
        review=review(s, run_id),
    )


def run_json(s: Session, run_id: int) -> dict[str, Any]:
    """The run for the API: what was checked, every result, and the review (findings, ticks, signature)."""
    page = check_page(s, run_id)
    run = page.run
    return {
        "id": run.id, "patient_id": run.patient_id, "prescription": run.prescription, "check_kind": run.check_kind,
        "as_of": run.as_of.isoformat(), "created": run.created.isoformat(), "created_by": run.created_by, "state": run.state,
        "rule_set": run.rule_set, "version": run.version, "passed": run.passed, "counts": run.counts, "summary": page.summary,
        "results": [{"position": r.position, "check_id": r.check_id, "name": r.name, "origin": r.origin, "status": r.status, "beam": r.beam,
                     "param": r.param, "message": r.message, "finding_id": r.finding_id} for r in run.results],
        "review": review_json(page.review),
        "signature": None if run.signature is None else {
            "by": run.signature.user.username, "at": run.signature.signed_at.isoformat(), "meaning": run.signature.meaning,
            "pdf": run.signature.pdf_path, "pdf_sha256": run.signature.pdf_sha256},
    }


def _disposition(d: Disposition | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"id": d.id, "verdict": d.verdict, "comment": d.comment, "assignee": d.assignee, "by": d.user.username, "at": d.created.isoformat(),
            "run_id": d.run_id}


def _finding(v: FindingView) -> dict[str, Any]:
    r = v.result
    return {"finding_id": v.finding.id, "check_id": r.check_id, "name": r.name, "status": r.status, "beam": r.beam, "item": v.finding.item,
            "message": r.message, "change": v.change, "since_signed": v.since_signed, "folded": v.folded, "needs_disposition": v.needs_disposition,
            "disposition": _disposition(v.disposition), "earlier_disposition": _disposition(v.earlier), "first_seen": v.finding.first_seen.isoformat()}


def review_json(rv: Review | None) -> dict[str, Any]:
    """The review as data: new findings first, known ones (folded), resolved, manual checks with their ticks, what blocks signing."""
    if rv is None:
        return {}
    return {
        "last_signed_run": rv.last_signed.id if rv.last_signed else None,
        "new": [_finding(v) for v in rv.new],
        "known": [_finding(v) for v in rv.known],
        "resolved": [{"finding_id": f.id, "check_id": f.check_id, "beam": f.beam, "item": f.item, "message": f.message} for f in rv.resolved],
        "manual": [{"check_id": m.result.check_id, "name": m.result.name, "ticked": m.ticked,
                    "by": m.tick.user.username if m.tick else None, "at": m.tick.created.isoformat() if m.tick else None} for m in rv.manual],
        "blockers": rv.blockers(),
    }
