"""Automatic fault injection: apply each catalogued fault alone to a clean case, run the checks,
and build the detection matrix (fault by check), the escapes and the clean run's false alarms."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from plancheck.checks.engine import run_checks
from plancheck.checks.results import CheckResult, Status
from plancheck.config import Config
from plancheck.rules.model import RuleSet
from plancheck.simulate.catalogue import Fault
from plancheck.simulate.mutations import NotApplicable, apply
from plancheck.table import ParamTable

ALARM = (Status.FAIL, Status.WARN, Status.ERROR)


def _key(r: CheckResult) -> tuple[str, str, str]:
    return (r.id, r.beam, r.param)


def alarms(results: list[CheckResult]) -> dict[tuple[str, str, str], CheckResult]:
    return {_key(r): r for r in results if r.status in ALARM}


def newly_alarmed(clean: list[CheckResult], faulty: list[CheckResult]) -> list[CheckResult]:
    """Results that raise an alarm with the fault and did not (or not as badly) without it."""
    before = {_key(r): r.status for r in clean}
    return [r for r in faulty if r.status in ALARM and (before.get(_key(r)) not in ALARM or (before[_key(r)] == Status.WARN and r.status != Status.WARN))]


@dataclass
class FaultOutcome:
    id: str
    description: str
    kind: str
    expected: list[str]
    caught_by: list[str]
    outcome: str  # caught | caught_unexpected | escaped | skipped
    messages: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def missed_expected(self) -> list[str]:
        return [e for e in self.expected if e not in self.caught_by]


@dataclass
class DetectionMatrix:
    patient_id: str
    rule_set: str
    outcomes: list[FaultOutcome]
    false_alarms: list[dict[str, Any]]

    @property
    def checks(self) -> list[str]:
        seen: dict[str, None] = {}
        for o in self.outcomes:
            for c in o.expected + o.caught_by:
                seen.setdefault(c, None)
        return sorted(seen)

    def by_outcome(self, outcome: str) -> list[FaultOutcome]:
        return [o for o in self.outcomes if o.outcome == outcome]

    @property
    def exit_code(self) -> int:
        return 1 if self.by_outcome("escaped") or self.false_alarms else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "rule_set": self.rule_set,
            "faults": [asdict(o) for o in self.outcomes],
            "escaped": [o.id for o in self.by_outcome("escaped")],
            "caught_only_unexpectedly": [o.id for o in self.by_outcome("caught_unexpected")],
            "skipped": [o.id for o in self.by_outcome("skipped")],
            "false_alarms": self.false_alarms,
            "checks": self.checks,
        }


def run_matrix(
    table: ParamTable,
    faults: list[Fault],
    rule_set: RuleSet,
    *,
    config: Config | None = None,
    today: dt.datetime,
    patient_id: str = "",
    progress: Callable[[Fault], None] | None = None,
) -> DetectionMatrix:
    """Apply each fault alone to ``table`` (a clean case) and record which checks catch it."""
    clean = {kind: run_checks(table, rule_set, kind, config, today, patient_id) for kind in sorted({f.kind for f in faults})}
    false_alarms = [
        {"kind": kind, "id": r.id, "beam": r.beam, "status": r.status.value, "message": r.message}
        for kind, results in clean.items()
        for r in results
        if r.status in ALARM
    ]
    outcomes = []
    for fault in faults:
        if progress:
            progress(fault)
        try:
            faulty_table = apply(table, list(fault.changes))
        except NotApplicable as exc:
            outcomes.append(FaultOutcome(fault.id, fault.description, fault.kind, list(fault.expect), [], "skipped", reason=str(exc)))
            continue
        new = newly_alarmed(clean[fault.kind], run_checks(faulty_table, rule_set, fault.kind, config, today, patient_id))
        caught = sorted({r.id for r in new})
        if not caught:
            outcome = "escaped"
        elif set(caught) & set(fault.expect):
            outcome = "caught"
        else:
            outcome = "caught_unexpected"
        outcomes.append(FaultOutcome(fault.id, fault.description, fault.kind, list(fault.expect), caught, outcome, [r.message for r in new][:6]))
    return DetectionMatrix(patient_id, rule_set.name, outcomes, false_alarms)
