"""A run under review: its findings (new since the last signed check first, known ones folded with who
judged them and when), the findings it resolved, and its manual checks with their latest tick."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.record.keys import NEEDS_DISPOSITION, latest_disposition, valid_disposition, values_hash
from plancheck.record.models import Disposition, Finding, ManualTick, Result, Run, RunFinding, Signature
from plancheck.record.store import get_run


@dataclass
class FindingView:
    """One finding as this run found it."""

    finding: Finding
    result: Result
    change: str  # what this run did to it: new | still_open | changed
    since_signed: bool  # not in the last signed check with these values: shown first
    disposition: Disposition | None  # the latest judgement of these very values
    earlier: Disposition | None  # the latest judgement of other values (a changed finding's old verdict)

    @property
    def folded(self) -> bool:
        """Known from the last signed check, values unchanged, judged: shown folded."""
        return not self.since_signed and self.disposition is not None

    @property
    def needs_disposition(self) -> bool:
        return self.result.status in NEEDS_DISPOSITION and self.disposition is None


@dataclass
class ManualView:
    result: Result
    tick: ManualTick | None  # the latest tick or untick

    @property
    def ticked(self) -> bool:
        return self.tick is not None and self.tick.ticked


@dataclass
class Review:
    run: Run
    new: list[FindingView]
    known: list[FindingView]
    resolved: list[Finding]
    manual: list[ManualView]
    last_signed: Run | None  # the check the new findings are new since

    @property
    def findings(self) -> list[FindingView]:
        return self.new + self.known

    def blockers(self) -> list[str]:
        """Why the run cannot be signed yet (empty when it can)."""
        out = [f"finding {v.finding.id} ({v.result.check_id}{' beam ' + v.result.beam if v.result.beam else ''}) has no disposition"
               for v in self.findings if v.needs_disposition]
        out += [f"manual check {m.result.check_id} is not ticked" for m in self.manual if not m.ticked]
        return out


def signed_before(s: Session, run: Run) -> Run | None:
    """The latest signed check of the run's patient and prescription stored before it."""
    query = (select(Run).join(Signature, Signature.run_id == Run.id)
             .where(Run.patient_id == run.patient_id, Run.prescription == run.prescription, Run.id < run.id))
    return s.scalars(query.order_by(Signature.signed_at.desc(), Run.id.desc()).limit(1)).first()


def latest_ticks(s: Session, run_id: int) -> dict[str, ManualTick]:
    ticks = s.scalars(select(ManualTick).where(ManualTick.run_id == run_id).order_by(ManualTick.id))
    return {t.check_id: t for t in ticks}


def _view(result: Result, finding: Finding, change: str, judged_before: set[tuple[int, str]]) -> FindingView:
    hashed = values_hash(result)
    current = valid_disposition(finding, hashed)
    latest = latest_disposition(finding)
    return FindingView(finding, result, change, (finding.id, hashed) not in judged_before, current, latest if latest is not current else None)


def build_review(s: Session, run_id: int) -> Review:
    run = get_run(s, run_id)
    changes = {rf.finding_id: rf.change for rf in s.scalars(select(RunFinding).where(RunFinding.run_id == run.id))}
    before = signed_before(s, run)
    judged_before = {(r.finding_id, values_hash(r)) for r in before.results if r.finding_id is not None} if before else set()
    views = [_view(r, s.get_one(Finding, r.finding_id), changes.get(r.finding_id, "still_open"), judged_before)
             for r in run.results if r.finding_id is not None]
    resolved = [s.get_one(Finding, fid) for fid, change in changes.items() if change == "resolved"]
    ticks = latest_ticks(s, run.id)
    manual = [ManualView(r, ticks.get(r.check_id)) for r in run.results if r.origin == "manual"]
    new = [v for v in views if not v.folded]
    return Review(run, new, [v for v in views if v.folded], resolved, manual, before)
