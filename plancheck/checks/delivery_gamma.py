"""The ``delivery.gamma`` check type: the MU density of a delivery against the plan's, by gamma.

Where the evaluation source has recordings (iCOM), every recorded delivery in the
collected table (since the last chart check, for weekly checks) is matched to its plan beam and MOSAIQ
record and compared; unmatched and ambiguous deliveries are listed with the
reason, never guessed. With any other pair of sources (tel.1, RT Plan, MOSAIQ,
TRF) the control points of each beam in both are compared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plancheck.checks.context import CheckContext
from plancheck.checks.results import CheckResult, Status
from plancheck.delivery.comparison import Comparison
from plancheck.delivery.comparison import compare
from plancheck.delivery.matching import match_in_table
from plancheck.delivery.model import Delivery
from plancheck.paths import path_in
from plancheck.rules.model import RuleCheck

DEFAULTS: dict[str, Any] = {
    "reference": "monaco_tel",
    "evaluation": "icom",
    "dose_percent": 2.0,
    "distance_mm": 0.5,
    "local": True,
    "max_gamma": 2.0,
    "min_pass_percent": 95.0,
    "lower_cutoff_percent": 20.0,
    "interp_fraction": 10,
    "grid_mm": 1.0,
    "since_last_check": True,
}
# what each `with:` key must be (checked when the rule file loads): a misspelt key is an error, never ignored
ACCEPTS: dict[str, str] = {
    "reference": "source", "evaluation": "source", "dose_percent": "positive", "distance_mm": "positive", "local": "bool",
    "max_gamma": "positive", "min_pass_percent": "percent", "lower_cutoff_percent": "percent", "interp_fraction": "count",
    "grid_mm": "positive", "since_last_check": "bool",
}


@dataclass
class Pair:
    """One delivery paired with its plan beam."""

    beam: str
    label: str
    reference: Delivery
    evaluation: Delivery
    when: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)


def _icom_comparisons(check: RuleCheck, ctx: CheckContext, p: dict[str, Any], refs: dict[str, Delivery]) -> tuple[list[Pair], list[CheckResult]]:
    since = None
    if p["since_last_check"] and ctx.table.select(param="last_check_date"):
        since = dt.datetime.fromisoformat(str(ctx.table.select(param="last_check_date")[0].value))
    comparisons, others = [], []
    matches = match_in_table(ctx.table, ctx.patient_id, p["reference"], p["evaluation"], since)
    for m in matches:
        rec = m.recording
        if m.status != "matched":
            others.append(CheckResult(check.id, check.name, "explicit", Status.WARN, f"delivery {rec.key} (field {rec.field_id}) {m.status}: {'; '.join(m.reasons)}",
                                      details={"delivery": rec.key, "match": m.status}))
            continue
        notes = list(m.reasons) + ([f"MOSAIQ record {m.record}"] if m.record else [])
        comparisons.append(Pair(m.beam, rec.key, refs[m.beam], rec.delivery, rec.start, notes))
    if not matches:
        others.append(CheckResult(check.id, check.name, "explicit", Status.NOT_APPLICABLE,
                                  f"no {p['evaluation']} delivery recorded" + (f" since the last chart check ({since:%Y-%m-%d})" if since else "")))
    return comparisons, others


def _figure(ctx: CheckContext, c: Pair, outcome: Comparison) -> list[str]:
    """The comparison page (a PNG in the run's figure folder; none when the run keeps no figures). The check keeps
    the comparison beside it; the report writer draws the page from it (plancheck.report.pages)."""
    if ctx.figure_dir is None:
        return []
    page = path_in(ctx.figure_dir, f"gamma_{c.beam}_{c.label}", suffix=".png")
    page.unlink(missing_ok=True)  # a page of an earlier run of this delivery: drawn again from this comparison, never shown stale
    outcome.save(page.with_suffix(".npz"))
    return [str(page)]


def _compare(ctx: CheckContext, c: Pair, p: dict[str, Any]) -> Comparison:
    plan = next((str(r.value) for r in ctx.table.select(param="plan_label")), "")
    return compare(
        c.reference, c.evaluation, patient=ctx.patient_id, plan=plan, beam=c.beam,
        delivered_at=f"{c.when:%Y-%m-%d %H:%M}" if c.when else "", files=[c.label, f"plan: {p['reference']}"],
        grid=c.reference.grid(float(p["grid_mm"])), dose_percent_threshold=float(p["dose_percent"]),
        distance_mm_threshold=float(p["distance_mm"]), lower_percent_dose_cutoff=float(p["lower_cutoff_percent"]),
        interp_fraction=float(p["interp_fraction"]), max_gamma=float(p["max_gamma"]), local_gamma=bool(p["local"]),
    )


def run_gamma_check(check: RuleCheck, ctx: CheckContext) -> list[CheckResult]:
    p = {**DEFAULTS, **check.params}
    refs = ctx.table.deliveries_of(p["reference"])
    if not refs:
        return [CheckResult(check.id, check.name, "explicit", Status.NOT_APPLICABLE, f"no {p['reference']} control points to compare against")]
    if any(source == p["evaluation"] for source, _ in ctx.table.recordings):
        comparisons, results = _icom_comparisons(check, ctx, p, refs)
    else:
        evals = ctx.table.deliveries_of(p["evaluation"])
        comparisons = [Pair(b, p["evaluation"], refs[b], evals[b]) for b in refs if b in evals]
        results = [] if comparisons else [CheckResult(check.id, check.name, "explicit", Status.NOT_APPLICABLE, f"no {p['evaluation']} control points for the plan's beams")]
    criteria = f"{'local' if p['local'] else 'global'} {p['dose_percent']:g} %/{p['distance_mm']:g} mm, cutoff {p['lower_cutoff_percent']:g} %, max gamma {p['max_gamma']:g}"
    for c in comparisons:
        outcome = _compare(ctx, c, p)
        ok = outcome.pass_rate >= float(p["min_pass_percent"])
        when = f" delivered {c.when:%Y-%m-%d %H:%M}" if c.when else ""
        results.append(CheckResult(
            check.id, check.name, "explicit", Status.PASS if ok else Status.FAIL,
            f"{c.label}{when}: {outcome.pass_rate:.1f} % pass ({criteria}; needs {float(p['min_pass_percent']):g} %), max gamma {outcome.max_gamma:.2f}",
            beam=c.beam,
            details={"pass_percent": round(outcome.pass_rate, 3), "max_gamma": outcome.max_gamma, "points": int(np.count_nonzero(~np.isnan(outcome.gamma))),
                     "delivery": c.label, "reference": p["reference"], "evaluation": p["evaluation"], "notes": c.notes},
            figures=_figure(ctx, c, outcome),
        ))
    return results
