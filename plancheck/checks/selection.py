"""Which rule set checks which beam: chosen from the plan, never a reason to stop a run.

Treatment beams are grouped by modality (photon, electron, proton, ...). One group: the most
specific set whose ``match:`` (and its parents') holds, as before. Several groups (a
prescription with photon and electron fields): each group gets its own most specific set,
and the run is a *composite*: plan-level checks run once (from the set of the group with
the most beams; a check id the others add runs too), per-beam checks of each set run on
the beams of its modality only, implicit comparisons use the tightest tolerance any part
declares. A modality no rule set matches (proton, brachytherapy, kV, ...) is named in the
run ("no rule set for proton fields") and its beams get no per-beam checks, rather than
being checked as photons. Sets that fit equally well are merged, never refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from plancheck.checks.context import CheckContext
from plancheck.checks.results import CheckResult, Status
from plancheck.checks.scope import first_by_priority, plan_beams, treatment_beams
from plancheck.config import Config
from plancheck.rules.expr import ExprError
from plancheck.rules.loader import RuleLibrary
from plancheck.rules.model import BEAM_EACH, ManualItem, RuleCheck, RulePart, RuleSet, Tolerance
from plancheck.table import ParamTable

FALLBACK = "general"


def beam_modality(table: ParamTable, beam: str) -> str:
    """The beam's modality from its most authoritative source, lower case ('' when no source says)."""
    row = first_by_priority([r for r in table.select(param="modality", scope="beam", beam=beam) if r.value is not None])
    return str(row.value).strip().lower() if row else ""


def modality_groups(table: ParamTable) -> dict[str, list[str]]:
    """Treatment beams by modality; beams whose modality no source gives join the largest group."""
    groups: dict[str, list[str]] = {}
    for beam in treatment_beams(table):
        groups.setdefault(beam_modality(table, beam), []).append(beam)
    unknown = groups.pop("", [])
    if groups and unknown:
        max(groups.values(), key=len).extend(unknown)
    elif unknown:
        groups[""] = unknown
    return groups


def _view(table: ParamTable, beams: set[str]) -> ParamTable:
    """The table as if the plan held only these beams (every other scope unchanged)."""
    out = table.copy()
    out.rows = [r for r in table.rows if r.scope != "beam" or r.beam in beams]
    out.deliveries = {k: d for k, d in table.deliveries.items() if k[1] in beams}
    return out


def _applicable(library: RuleLibrary, table: ParamTable, today: dt.datetime) -> list[RuleSet]:
    """The most specific sets whose own ``match:`` and every ancestor's hold (photon-3d only for photons)."""

    def applies(rs: RuleSet) -> bool:
        own = [library.get(name).match for name in rs.lineage]
        scope = CheckContext(table, rs, Config(), today).scope()
        try:
            return any(m is not None for m in own) and all(m is None or m.evaluate(scope) for m in own)
        except ExprError:
            return False

    scored = [(len(rs.lineage), rs) for rs in library.validate() if rs.match is not None and applies(rs)]
    depth = max((d for d, _ in scored), default=0)
    return [rs for d, rs in scored if d == depth]


def _tightest(sets: list[RuleSet]) -> dict[str, Tolerance]:
    out: dict[str, Tolerance] = {}
    for rs in sets:
        for param, tol in rs.tolerances.items():
            old = out.get(param)
            out[param] = Tolerance(min(tol.tolerance, old.tolerance), min(tol.action, old.action)) if old else tol
    return out


def merged(sets: list[RuleSet], *, plan_level_only: bool, parts: tuple[RulePart, ...] = (), unsupported: tuple[str, ...] = ()) -> RuleSet:
    """One set from several: the first declaring a check id, manual item or variable wins."""
    checks: dict[str, RuleCheck] = {}
    manual: dict[str, ManualItem] = {}
    variables: dict[str, Any] = {}
    for rs in sets:
        for cid, check in rs.checks.items():
            if not (plan_level_only and check.for_each in BEAM_EACH):
                checks.setdefault(cid, check)
        for mid, item in rs.manual.items():
            manual.setdefault(mid, item)
        for key, value in rs.vars.items():
            variables.setdefault(key, value)
    name = "+".join(p.rule_set.name for p in parts) if parts else "+".join(rs.name for rs in sets)
    return RuleSet(
        name=name, description="; ".join(rs.description for rs in sets), checks=checks, manual=manual, tolerances=_tightest(sets),
        vars=variables, lineage=(name,), files=tuple(dict.fromkeys(f for rs in sets for f in rs.files)), parts=parts, unsupported=unsupported,
    )


def _best(library: RuleLibrary, table: ParamTable, today: dt.datetime) -> RuleSet | None:
    best = _applicable(library, table, today)
    if len(best) > 1:  # sets that fit equally: all their checks run, none is dropped
        return merged(sorted(best, key=lambda rs: rs.name), plan_level_only=False)
    return best[0] if best else None


def select_rule_set(library: RuleLibrary, table: ParamTable, today: dt.datetime, name: str | None = None) -> RuleSet:
    """The named set (for every beam), or the set or sets that fit the plan's beams (see the module docstring)."""
    if name:
        return library.get(name)
    groups = modality_groups(table)
    if len(groups) <= 1:
        best = _best(library, table, today)
        modality = next(iter(groups), "")
        if best is not None or not modality:
            return best or library.get(FALLBACK)
    parts, unsupported = [], []
    for modality, beams in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):  # the group with most beams first
        best = _best(library, _view(table, set(beams)), today)
        if best is None:
            unsupported.append(modality)
        else:
            parts.append(RulePart(frozenset({modality}), best))
    sets = [p.rule_set for p in parts] or [library.get(FALLBACK)]
    return merged(sets, plan_level_only=True, parts=tuple(parts), unsupported=tuple(unsupported))


def part_filter(table: ParamTable, rule_set: RuleSet, index: int) -> Callable[[str], bool]:
    """Which beams part ``index`` of a composite checks: those of its modality; set-up fields and beams
    of no known modality go to the first (main) part; beams of an unsupported modality to none."""
    part = rule_set.parts[index]

    def keep(beam: str) -> bool:
        modality = beam_modality(table, beam)
        if modality in part.modalities:
            return True
        setup = table.value("setup_field", source=plan_beams(table)[0], beam=beam, scope="beam") is True
        return index == 0 and modality not in rule_set.unsupported and (modality == "" or setup)

    return keep


def unsupported_results(table: ParamTable, rule_set: RuleSet) -> list[CheckResult]:
    """One error per modality no rule set fits, naming its beams: they are not checked as photons."""
    out = []
    for modality in rule_set.unsupported:
        beams = [b for b in treatment_beams(table) if beam_modality(table, b) == modality]
        if beams:
            out.append(CheckResult(
                id="rules.rule_set_for_beam", name="A rule set fits every treatment beam", origin="explicit", status=Status.ERROR,
                message=f"no rule set for {modality} fields ({', '.join(beams)}): their per-beam checks did not run "
                        f"(cross-source comparisons did); add a rule set whose match: fits them",
                details={"modality": modality, "beams": beams},
            ))
    return out
