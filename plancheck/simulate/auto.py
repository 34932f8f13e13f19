"""Automatic fault injection: apply each catalogued fault alone to a clean case, run the checks,
and build the detection matrix (fault by check), the escapes, the expected checks that stayed
silent while others caught the fault, and the clean run's false alarms."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any
from collections.abc import Callable

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


# outcome -> what a QA lead reads
OUTCOMES = {
    "caught": "caught",
    "expected_silent": "caught by others; expected check silent",
    "caught_unexpected": "caught only by other checks (the expected ones do not apply here)",
    "escaped": "escaped",
    "skipped": "skipped",
}


@dataclass
class FaultOutcome:
    id: str
    description: str
    kind: str
    expected: list[str]
    caught_by: list[str]
    outcome: str  # a key of OUTCOMES
    messages: list[str] = field(default_factory=list)
    reason: str = ""
    silent: list[str] = field(default_factory=list)  # expected checks that ran on the faulty case and raised nothing
    not_applicable: list[str] = field(default_factory=list)  # expected checks that do not apply to this case (or are not in its rule set)

    @property
    def missed_expected(self) -> list[str]:
        return [e for e in self.expected if e not in self.caught_by]

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]


@dataclass
class DetectionMatrix:
    patient_id: str
    rule_set: str
    outcomes: list[FaultOutcome]
    false_alarms: list[dict[str, Any]]
    accept_silent: bool = False  # a silent expected check does not make the exit code 1

    @property
    def checks(self) -> list[str]:
        seen: dict[str, None] = {}
        for o in self.outcomes:
            for c in o.expected + o.caught_by:
                seen.setdefault(c, None)
        return sorted(seen)

    def by_outcome(self, outcome: str) -> list[FaultOutcome]:
        return [o for o in self.outcomes if o.outcome == outcome]

    def counts(self) -> dict[str, int]:
        return {k: len(self.by_outcome(k)) for k in OUTCOMES}

    @property
    def exit_code(self) -> int:
        silent = self.by_outcome("expected_silent") and not self.accept_silent
        return 1 if self.by_outcome("escaped") or self.false_alarms or silent else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "rule_set": self.rule_set,
            "faults": [asdict(o) | {"label": o.label} for o in self.outcomes],
            "counts": self.counts(),
            "escaped": [o.id for o in self.by_outcome("escaped")],
            "expected_silent": [{"id": o.id, "silent": o.silent, "caught_by": o.caught_by} for o in self.by_outcome("expected_silent")],
            "caught_only_unexpectedly": [o.id for o in self.by_outcome("caught_unexpected")],
            "skipped": [o.id for o in self.by_outcome("skipped")],
            "false_alarms": self.false_alarms,
            "accept_silent": self.accept_silent,
            "checks": self.checks,
        }


def judge(fault: Fault, clean: list[CheckResult], faulty: list[CheckResult]) -> FaultOutcome:
    """The outcome of one fault: which checks newly alarmed, and which expected ones stayed silent."""
    new = newly_alarmed(clean, faulty)
    caught = sorted({r.id for r in new})
    ran = {r.id for r in faulty if r.status != Status.NOT_APPLICABLE}
    silent = [e for e in fault.expect if e not in caught and e in ran]
    not_applicable = [e for e in fault.expect if e not in caught and e not in ran]
    if not caught:
        outcome = "escaped"
    elif silent:
        outcome = "expected_silent"
    elif set(caught) & set(fault.expect):
        outcome = "caught"
    else:
        outcome = "caught_unexpected"
    return FaultOutcome(fault.id, fault.description, fault.kind, list(fault.expect), caught, outcome, [r.message for r in new][:6],
                        silent=silent, not_applicable=not_applicable)


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
        outcomes.append(judge(fault, clean[fault.kind], run_checks(faulty_table, rule_set, fault.kind, config, today, patient_id)))
    return DetectionMatrix(patient_id, rule_set.name, outcomes, false_alarms)
