"""What changed between two stored runs of a patient: values (per source), results (status), findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from plancheck.record.models import Run
from plancheck.record.store import get_run
from plancheck.report.view import fmt_param


@dataclass
class RunDiff:
    a: Run
    b: Run
    values: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (where, param, source, before, after)
    results: list[tuple[str, str, str, str]] = field(default_factory=list)  # (check, beam, before, after)

    @property
    def empty(self) -> bool:
        return not self.values and not self.results


def _values(run: Run) -> dict[tuple[str, str, str, str, str], str]:
    out: dict[tuple[str, str, str, str, str], str] = {}
    for row in run.payload.get("table", []):
        key = (str(row.get("scope", "")), str(row.get("beam", "")), str(row.get("item", "")), str(row.get("param", "")), str(row.get("source", "")))
        out[key] = fmt_param(key[3], row.get("value"))
    return out


def _statuses(run: Run) -> dict[tuple[str, str, str], str]:
    return {(r.check_id, r.beam, r.param): r.status for r in run.results}


def run_diff(s: Session, a_id: int, b_id: int) -> RunDiff:
    """Run ``a_id`` against run ``b_id``: each value and each result status that differs (— where absent)."""
    a, b = get_run(s, a_id), get_run(s, b_id)
    diff = RunDiff(a, b)
    va, vb = _values(a), _values(b)
    for key in sorted(set(va) | set(vb)):
        if va.get(key) != vb.get(key):
            scope, beam, item, param, source = key
            where = f"beam {beam}" if beam else (f"{scope} {item}" if item else scope)
            diff.values.append((where, param, source, va.get(key, "—"), vb.get(key, "—")))
    sa, sb = _statuses(a), _statuses(b)
    for check in sorted(set(sa) | set(sb)):
        if sa.get(check) != sb.get(check):
            diff.results.append((check[0] + (f" ({check[2]})" if check[2] else ""), check[1], sa.get(check, "—"), sb.get(check, "—")))
    return diff
