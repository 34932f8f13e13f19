"""Check results as data: a fixed status vocabulary, one result per check, and the CheckRun."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from plancheck.table import ParamTable


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"

    def __str__(self) -> str:
        return self.value


# worst first: a summary takes the worst status of its parts
SEVERITY = [Status.ERROR, Status.FAIL, Status.WARN, Status.MANUAL, Status.PASS, Status.NOT_APPLICABLE]


def worst(statuses: list[Status]) -> Status:
    for status in SEVERITY:
        if status in statuses:
            return status
    return Status.NOT_APPLICABLE


@dataclass
class CheckResult:
    """The outcome of one check (for one beam, where it is per beam)."""

    id: str
    name: str
    origin: str  # implicit | explicit | manual: which part of plancheck produced it
    status: Status
    message: str = ""
    beam: str = ""
    param: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d


@dataclass
class CheckRun:
    """Everything a report needs: the table, every result and the figures."""

    patient_id: str
    plan: str
    check_kind: str  # initial | weekly | final
    rule_set: str
    table: ParamTable
    results: list[CheckResult]
    created: str = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0).isoformat())
    version: str = ""
    warnings: list[str] = field(default_factory=list)
    as_of: str = ""  # the moment the checks looked at (ISO 8601; `--today`), when not when the run was created

    @property
    def automatic(self) -> list[CheckResult]:
        return [r for r in self.results if r.origin != "manual"]

    @property
    def manual(self) -> list[CheckResult]:
        return [r for r in self.results if r.origin == "manual"]

    def by_status(self, status: Status) -> list[CheckResult]:
        return [r for r in self.results if r.status == status]

    @property
    def passed(self) -> bool:
        """True when no automatic check failed or errored."""
        return not any(r.status in (Status.FAIL, Status.ERROR) for r in self.automatic)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "plan": self.plan,
            "check_kind": self.check_kind,
            "rule_set": self.rule_set,
            "created": self.created,
            "as_of": self.as_of,
            "version": self.version,
            "passed": self.passed,
            "counts": self.counts(),
            "warnings": list(self.warnings),
            "source_errors": dict(self.table.source_errors),
            "sources": self.table.sources,
            "results": [r.to_dict() for r in self.results],
            "table": self.table.to_records(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def save_json(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path
