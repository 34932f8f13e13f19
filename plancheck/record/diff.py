"""What changed between two stored runs of a patient: collected values (per source) and result statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from plancheck.record.models import Run
from plancheck.record.store import get_run

ABSENT = "—"


@dataclass
class RunDiff:
    a: Run
    b: Run
    values: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (where, param, source, before, after)
    results: list[tuple[str, str, str, str]] = field(default_factory=list)  # (check, beam, before, after): status, and message where it changed

    @property
    def empty(self) -> bool:
        return not self.values and not self.results

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.id, "b": self.b.id,
                "values": [dict(zip(("where", "param", "source", "before", "after"), v, strict=True)) for v in self.values],
                "results": [dict(zip(("check_id", "beam", "before", "after"), r, strict=True)) for r in self.results]}


def _values(run: Run) -> dict[tuple[str, str, str, str, str], str]:
    out: dict[tuple[str, str, str, str, str], str] = {}
    for row in run.payload.get("table", []):
        scope, beam, item, param, source = (str(row.get(k, "") or "") for k in ("scope", "beam", "item", "param", "source"))
        out[(scope, beam, item, param, source)] = f"{row.get('value')}{' ' + row['unit'] if row.get('unit') else ''}"
    return out


def _outcomes(run: Run) -> dict[tuple[str, str, str], str]:
    return {(r.check_id, r.beam, r.param): f"{r.status}: {r.message}" if r.message else r.status for r in run.results}


def run_diff(s: Session, a_id: int, b_id: int) -> RunDiff:
    """Run ``a_id`` against run ``b_id``: each collected value and each result that differs (— where absent)."""
    diff = RunDiff(get_run(s, a_id), get_run(s, b_id))
    va, vb = _values(diff.a), _values(diff.b)
    for key in sorted(set(va) | set(vb)):
        if va.get(key) != vb.get(key):
            scope, beam, item, param, source = key
            where = f"beam {beam}" if beam else (f"{scope} {item}" if item else scope)
            diff.values.append((where, param, source, va.get(key, ABSENT), vb.get(key, ABSENT)))
    ra, rb = _outcomes(diff.a), _outcomes(diff.b)
    for check_id, beam, param in sorted(set(ra) | set(rb)):
        before, after = ra.get((check_id, beam, param), ABSENT), rb.get((check_id, beam, param), ABSENT)
        if before != after:
            diff.results.append((check_id if not param or param in check_id else f"{check_id} {param}", beam, before, after))
    return diff
