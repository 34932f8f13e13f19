"""Implicit checks: the same parameter from two or more sources must agree within its tolerance.

The reference is the most authoritative source holding the value (see
:data:`plancheck.checks.scope.PRIORITY`); every other source is compared with
it. Numbers and angles use the tolerance and action levels of the rule set
(or the vocabulary's defaults); text, dates and flags must be equal.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from plancheck.checks.results import CheckResult, Status
from plancheck.checks.scope import PLAN_SOURCES, PRIORITY
from plancheck.rules.model import Tolerance
from plancheck.table import Param, ParamTable
from plancheck.vocabulary import VOCABULARY


def difference(value_type: str, a: Any, b: Any) -> float:
    """|a - b|, the shorter way round the circle for angles."""
    d = abs(float(a) - float(b))
    return min(d, 360.0 - d) if value_type == "angle" else d


def _equal_text(value_type: str, a: Any, b: Any) -> bool:
    if value_type == "date":
        return str(a)[:10] == str(b)[:10]
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).upper() == " ".join(b.split()).upper()
    return a == b


def compare_param(rows: list[Param], tolerance: Tolerance | None) -> CheckResult:
    """One implicit result for one (beam, param) seen in several sources."""
    rows = sorted(rows, key=lambda r: PRIORITY.index(r.source))
    ref, others = rows[0], rows[1:]
    spec = VOCABULARY[ref.param]
    values = {r.source: r.value for r in rows}
    status, worst_diff, notes = Status.PASS, 0.0, []
    for other in others:
        if spec.value_type in ("number", "angle"):
            tol = tolerance or Tolerance(spec.tolerance or 0.0, spec.action if spec.action is not None else (spec.tolerance or 0.0))
            diff = difference(spec.value_type, ref.value, other.value)
            worst_diff = max(worst_diff, diff)
            if diff > tol.action + 1e-9:
                status = Status.FAIL
                notes.append(f"{other.source} {other.value:g} vs {ref.source} {ref.value:g} (differs by {diff:g} {spec.unit}, action level {tol.action:g})".replace("  ", " "))
            elif diff > tol.tolerance + 1e-9:
                status = Status.WARN if status == Status.PASS else status
                notes.append(f"{other.source} {other.value:g} vs {ref.source} {ref.value:g} (differs by {diff:g} {spec.unit}, tolerance {tol.tolerance:g})".replace("  ", " "))
        elif not _equal_text(spec.value_type, ref.value, other.value):
            status = Status.FAIL
            notes.append(f"{other.source} {other.value!r} vs {ref.source} {ref.value!r}")
    message = "; ".join(notes) if notes else f"agrees across {', '.join(values)}"
    return CheckResult(
        id=f"implicit.{ref.param}",
        name=f"{spec.description or ref.param} agrees across sources",
        origin="implicit",
        status=status,
        message=message,
        beam=ref.beam,
        param=ref.param,
        details={"values": values, "reference": ref.source, "max_difference": worst_diff, "provenance": {r.source: r.provenance for r in rows}},
    )


def beam_presence(table: ParamTable) -> list[CheckResult]:
    """Every treatment beam of one plan source must be in every other plan source."""
    # every plan source that holds this plan counts, even one that lost all its beams
    by_source: dict[str, set[str]] = {
        source: {b for b in table.beams(source) if table.value("setup_field", source=source, beam=b, scope="beam") is not True}
        for source in PLAN_SOURCES
        if source in table.sources
    }
    if len(by_source) < 2:
        return []
    union = set().union(*by_source.values())
    results = []
    for beam in sorted(union):
        missing = [s for s, beams in by_source.items() if beam not in beams]
        results.append(
            CheckResult(
                id="implicit.beam_presence",
                name="Beam present in every plan source",
                origin="implicit",
                status=Status.FAIL if missing else Status.PASS,
                message=f"beam {beam}: missing from {', '.join(missing)}" if missing else f"beam {beam}: in {', '.join(by_source)}",
                beam=beam,
                param="beam_presence",
                details={"sources": sorted(s for s, b in by_source.items() if beam in b)},
            )
        )
    return results


def implicit_checks(table: ParamTable, tolerances: dict[str, Tolerance]) -> list[CheckResult]:
    """Compare every comparable parameter seen in two or more sources."""
    groups: dict[tuple[str, str, str, str], list[Param]] = defaultdict(list)
    for row in table:
        spec = VOCABULARY[row.param]
        if spec.compare and row.value is not None and not row.item:
            groups[row.key()].append(row)
    results = beam_presence(table)
    for key, rows in groups.items():
        sources = {r.source for r in rows}
        if len(sources) < 2:
            continue
        # one value per source: the first a source gave
        unique = list({r.source: r for r in reversed(rows)}.values())
        results.append(compare_param(unique, tolerances.get(key[3])))
    return results
