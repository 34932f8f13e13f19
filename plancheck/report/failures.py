"""The one list of failures a report leads with: explicit and cross-source checks alike, each in words.

A cross-source (implicit) result becomes one line per disagreement: the source
(or sources) out of step, their value, the value the others agree on, and the
difference in the parameter's unit (and in % for MU and dose), e.g.
``beam 1-2 MU: mosaiq 163.55 vs plan_pdf/rtplan/monaco_tel 158.78 (+4.77 MU, +3.0 %)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from plancheck.checks.results import SEVERITY, CheckResult, CheckRun, Status
from plancheck.checks.scope import PRIORITY
from plancheck.report.labels import short_name
from plancheck.table import ParamTable
from plancheck.vocabulary import VOCABULARY

BAD = (Status.ERROR, Status.FAIL, Status.WARN)
PERCENT_UNITS = ("MU", "cGy")
_RANK = {status: i for i, status in enumerate(SEVERITY)}
_SECONDS = re.compile(r"\b(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d):\d\d(?:\.\d+)?\b")


@dataclass(frozen=True)
class Disagreement:
    """Sources whose value stands apart from the value most sources agree on."""

    beam: str
    param: str
    odd: tuple[str, ...]
    odd_value: Any
    agreed: tuple[str, ...]
    agreed_value: Any
    unit: str = ""
    difference: float | None = None  # odd - agreed, in unit (angles the short way round)
    percent: float | None = None  # of the agreed value, for MU and dose

    def line(self) -> str:
        where = f"beam {self.beam} " if self.beam else ""
        text = f"{where}{short_name(self.param)}: {'/'.join(self.odd)} {number(self.odd_value)} vs {'/'.join(self.agreed)} {number(self.agreed_value)}"
        parts = []
        if self.difference is not None:
            parts.append(f"{number(self.difference, signed=True)} {self.unit}".rstrip())
        if self.percent is not None:
            parts.append(f"{self.percent:+.1f} %")
        return f"{text} ({', '.join(parts)})" if parts else text


@dataclass(frozen=True)
class Failure:
    """A check that failed, could not run or warned, told in words."""

    status: Status
    check_id: str
    name: str
    beam: str
    lines: list[str]
    figures: list[str] = field(default_factory=list)
    cross_source: bool = False  # an implicit check: its lines name beam and parameter themselves

    @property
    def text(self) -> str:
        return "; ".join(self.lines)


def failure_line(failure: Failure) -> str:
    """One failure in one line (the closing box, the HTML summary): the disagreement itself, or the check's name and message."""
    if failure.cross_source and failure.lines:
        return "; ".join(failure.lines)
    where = f"beam {failure.beam} · " if failure.beam else ""
    return f"{where}{failure.name}: {failure.text}"


def number(value: Any, *, signed: bool = False) -> str:
    """A value for a sentence: floats to at most two decimals, without trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:+.2f}" if signed else f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rank(source: str) -> int:
    return PRIORITY.index(source) if source in PRIORITY else len(PRIORITY)


def _close(value_type: str, a: Any, b: Any, tolerance: float) -> bool:
    if value_type in ("number", "angle"):
        try:
            return abs(_signed(value_type, float(a), float(b))) <= tolerance + 1e-9
        except (TypeError, ValueError):
            return a == b
    if value_type == "date":
        return str(a)[:10] == str(b)[:10]
    return " ".join(str(a).split()).upper() == " ".join(str(b).split()).upper()


def _signed(value_type: str, a: float, b: float) -> float:
    d = a - b
    return (d + 180.0) % 360.0 - 180.0 if value_type == "angle" else d


def _groups(values: dict[str, Any], value_type: str, tolerance: float) -> list[list[str]]:
    """Sources grouped by agreement, largest group first (ties: the most authoritative source's group)."""
    left = sorted(values, key=_rank)
    groups = []
    while left:
        best = max(([s for s in left if _close(value_type, values[s], values[c], tolerance)] for c in left), key=len)
        groups.append(best)
        left = [s for s in left if s not in best]
    return groups


def disagreements(result: CheckResult) -> list[Disagreement]:
    """The odd sources out of one implicit result (empty where its details hold no values)."""
    values = result.details.get("values") if isinstance(result.details, dict) else None
    spec = VOCABULARY.get(result.param)
    if not isinstance(values, dict) or len(values) < 2 or spec is None:
        return []
    groups = _groups(values, spec.value_type, spec.tolerance or 0.0)
    agreed = groups[0]
    ref = values[agreed[0]]
    out = []
    for odd in groups[1:]:
        value = values[odd[0]]
        diff = pct = None
        if spec.value_type in ("number", "angle"):
            try:
                diff = _signed(spec.value_type, float(value), float(ref))
                pct = 100.0 * diff / float(ref) if spec.unit in PERCENT_UNITS and float(ref) else None
            except (TypeError, ValueError):
                diff = None
        out.append(Disagreement(result.beam, result.param, tuple(odd), value, tuple(agreed), ref, spec.unit, diff, pct))
    return out


def odd_cells(implicit: list[CheckResult]) -> dict[tuple[str, str], frozenset[str]]:
    """(beam, param) -> the sources whose value is out of step, from the failing and warning implicit results."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for result in implicit:
        if result.status in BAD:
            odd = {s for d in disagreements(result) for s in d.odd}
            out[(result.beam, result.param)] = out.get((result.beam, result.param), frozenset()) | odd
    return out


def item_labels(table: ParamTable) -> dict[str, str]:
    """Readable names for record ids: ``DHS 5012`` -> ``beam 1-2, fraction 2``; a task or document by its title."""
    labels: dict[str, str] = {}
    fraction = {r.item: r.value for r in table if r.scope == "delivery" and r.param == "fraction_number" and r.value is not None}
    for row in table:
        if not row.item or row.item in labels:
            continue
        if row.scope == "delivery":
            where = f"beam {row.beam}" if row.beam else "a delivery"
            frac = fraction.get(row.item)
            labels[row.item] = f"{where}, fraction {number(frac)}" if frac is not None else where
        elif row.scope == "task":
            labels[row.item] = "QCL task"
        elif row.scope == "document":
            labels[row.item] = "document"
    return labels


def readable_message(result: CheckResult, labels: dict[str, str]) -> str:
    """The result's message, its records at fault (``details["findings"]``) named as people know them."""
    findings = result.details.get("findings") if isinstance(result.details, dict) else None
    named = (f"{labels.get(f['item'], f['item'])}: {f['message']}" for f in findings or ())
    message = "; ".join(named) if findings else result.message
    return _SECONDS.sub(r"\1 \2", message)


def failures(run: CheckRun) -> list[Failure]:
    """Every automatic check that failed, errored or warned, worst first; cross-source checks as disagreements."""
    labels = item_labels(run.table)
    out = []
    for r in sorted((r for r in run.automatic if r.status in BAD), key=lambda r: _rank_status(r.status)):
        if r.origin == "implicit":
            label = short_name(r.param) if r.param in VOCABULARY else ""
            where = f"beam {r.beam} " if r.beam else ""
            lines = [d.line() for d in disagreements(r)] or [f"{where}{label}: {r.message}" if label else r.message]
            name = f"Sources agree: {label}" if label else r.name
        else:
            lines, name = [readable_message(r, labels)], r.name or r.id
        out.append(Failure(r.status, r.id, name, r.beam, lines, list(r.figures), cross_source=r.origin == "implicit"))
    return out


def _rank_status(status: Status) -> int:
    return _RANK[status]
