"""Every shipped check has fixtures (issue 11, item 11): a small table it passes and one it fails.

Checkov keeps, for every check, example inputs named pass and fail. Here the table of
cases below does the same: each case starts from a real RT Plan shipped in pymedphys
(mirrored as MOSAIQ, as the engine tests do), applies a few edits, runs the one check
and names the status it must give. ``test_every_shipped_check_has_a_pass_and_a_fail_case``
fails when a check id in the shipped rule sets has no pass case or no fail case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from plancheck.checks.context import CheckContext
from plancheck.checks.explicit import run_check
from plancheck.checks.results import Status
from plancheck.config import Config
from plancheck.rules.loader import RuleLibrary
from plancheck.table import Param, ParamTable
from plancheck.vocabulary import VOCABULARY
from tests.conftest import STATIC_PLAN, VMAT_PLAN, table_from_plan

TODAY = dt.datetime(2026, 11, 20)
Edit = Callable[[ParamTable], ParamTable]
LIBRARY = RuleLibrary()


def _set(table: ParamTable, scope: str, beams: list[str], item: str, source: str, values: dict[str, Any]) -> ParamTable:
    """Replace the value of each param for these beams (or this record) in one source; add the row where there is none."""
    out = table.copy()
    for param, value in values.items():
        for beam in beams:
            hit = [i for i, r in enumerate(out.rows) if (r.scope, r.beam, r.item, r.param, r.source) == (scope, beam, item, param, source)]
            for i in hit:
                out.rows[i] = replace(out.rows[i], value=value)
            if not hit:
                out.add(Param(scope, beam, param, value, VOCABULARY[param].unit, source, "fixture", item))
    return out


def rx(source: str = "mosaiq", **values: Any) -> Edit:
    return lambda t: _set(t, "prescription", [""], "", source, values)


def beams(which: str = "all", source: str = "mosaiq", **values: Any) -> Edit:
    return lambda t: _set(t, "beam", t.beams() if which == "all" else t.beams()[:1], "", source, values)


def record(scope: str, item: str, source: str = "mosaiq", beam: str = "", **values: Any) -> Edit:
    return lambda t: _set(t, scope, [beam], item, source, values)


def delivery(**values: Any) -> Edit:
    clean = {"qa_mode": False, "partial": False, "overridden": False, "override_comment": "", "delivered_at": "2026-11-19T09:00:00"}
    return record("delivery", "DHS 1", beam="1-1", **(clean | values))


def document(**values: Any) -> Edit:
    clean = {"document_title": "Plan report", "document_approved": True, "document_newest": True}
    return record("document", "plan.pdf", source="plan_pdf", **(clean | values))


def only_source(source: str) -> Edit:
    def edit(t: ParamTable) -> ParamTable:
        out = t.copy()
        out.rows = [r for r in t.rows if r.source == source]
        out.deliveries = {k: d for k, d in t.deliveries.items() if k[0] == source}
        return out

    return edit


def relabel(new: str) -> Edit:
    def edit(t: ParamTable) -> ParamTable:
        old = t.beams()[0]
        out = t.copy()
        out.rows = [replace(r, beam=new) if r.beam == old else r for r in t.rows]
        return out

    return edit


def recorded(shift_mm: float) -> Edit:
    """Monaco and iCOM control points for each beam: the RT Plan's, iCOM's leaf bank 0 shifted."""

    def edit(t: ParamTable) -> ParamTable:
        out = t.copy()
        for (_, beam), d in t.deliveries.items():
            mlc = np.array(d.mlc, dtype=float)
            mlc[:, :, 0] += shift_mm
            out.deliveries[("monaco_tel", beam)] = d
            out.deliveries[("icom", beam)] = d.replace(mlc=mlc)
        return out

    return edit


def electron(t: ParamTable) -> ParamTable:
    return beams(modality="electron", energy="9E", ssd_mm=1000.0)(beams(source="rtplan", modality="electron", energy="9E", ssd_mm=1000.0)(t))


def imrt(t: ParamTable) -> ParamTable:
    return beams(beam_type="STEPNSHOOT")(beams(source="rtplan", beam_type="STEPNSHOOT")(t))


@dataclass(frozen=True)
class Case:
    check: str
    passes: bool
    edits: tuple[Edit, ...] = ()
    rule_set: str = "photon-vmat"
    plan: str = "vmat"

    @property
    def name(self) -> str:
        return f"{self.check}-{'pass' if self.passes else 'fail'}"


def ok(check: str, *edits: Edit, **kw: Any) -> Case:
    return Case(check, True, edits, **kw)


def bad(check: str, *edits: Edit, **kw: Any) -> Case:
    return Case(check, False, edits, **kw)


LAST_CHECK = "2026-11-10T00:00:00"
STATIC = {"plan": "static", "rule_set": "photon-3d"}
IMRT = {"plan": "static", "rule_set": "photon-imrt"}
ELECTRON = {"plan": "static", "rule_set": "electron"}

CASES = [
    # ---- general: initial ----------------------------------------------------------------------------
    ok("plan.independent_source"), bad("plan.independent_source", only_source("mosaiq")),
    ok("rx.approved", rx(rx_approved=True)), bad("rx.approved", rx(rx_approved=False, rx_status="pending")),
    ok("plan.approved", rx(plan_approved=True)), bad("plan.approved", rx(plan_approved=False)),
    ok("rx.dose_consistent"), bad("rx.dose_consistent", rx(total_dose_cgy=120.0)),
    ok("rx.fractions_scheduled", rx(fractions_scheduled=2)), bad("rx.fractions_scheduled", rx(fractions_scheduled=1)),
    ok("beam.naming"), bad("beam.naming", relabel("Arc one (left)")),
    ok("beam.mu_range"), bad("beam.mu_range", beams("first", mu=2500.0)),
    ok("beam.approved", beams(beam_approved=True)), bad("beam.approved", beams(beam_approved=True), beams("first", beam_approved=False)),
    ok("beam.energy_matches_rx", rx(rx_energy="6X")), bad("beam.energy_matches_rx", rx(rx_energy="10X")),
    ok("beam.shared_isocentre"), bad("beam.shared_isocentre", beams("first", source="rtplan", iso_x_mm=5.0)),
    ok("beam.one_machine"), bad("beam.one_machine", beams("first", machine="OTHERLINAC")),
    ok("plan.calc_algorithm", rx(calc_algorithm="Monte Carlo 5.11")), bad("plan.calc_algorithm", rx(calc_algorithm="Pencil Beam 1.0")),
    ok("document.approved", document()), bad("document.approved", document(document_approved=False)),
    ok("document.newest", document()), bad("document.newest", document(document_newest=False)),
    ok("second_check.within_tolerance", beams(source="second_check", mu_diff_percent=1.5, mu_diff_tolerance_percent=5.0)),
    bad("second_check.within_tolerance", beams(source="second_check", mu_diff_percent=7.0, mu_diff_tolerance_percent=5.0)),
    # ---- general: weekly and final -------------------------------------------------------------------------
    ok("rx.unchanged_since_check", rx(last_check_date=LAST_CHECK, rx_edited_date="2026-11-01T10:00:00")),
    bad("rx.unchanged_since_check", rx(last_check_date=LAST_CHECK, rx_edited_date="2026-11-15T10:00:00")),
    ok("beam.unchanged_since_check", rx(last_check_date=LAST_CHECK), beams(beam_edited_date="2026-11-01T10:00:00")),
    bad("beam.unchanged_since_check", rx(last_check_date=LAST_CHECK), beams(beam_edited_date="2026-11-15T10:00:00")),
    ok("rx.fractions_so_far", rx(fractions_delivered=1)), bad("rx.fractions_so_far", rx(fractions_delivered=3)),
    ok("rx.cumulative_dose", rx(fractions_delivered=1, dose_delivered_cgy=50.0)),
    bad("rx.cumulative_dose", rx(fractions_delivered=1, dose_delivered_cgy=80.0)),
    ok("rx.no_treatment_break", rx(longest_break_days=2)), bad("rx.no_treatment_break", rx(longest_break_days=9)),
    ok("delivery.no_qa_mode", delivery()), bad("delivery.no_qa_mode", delivery(qa_mode=True)),
    ok("delivery.complete", delivery()), bad("delivery.complete", delivery(partial=True)),
    ok("delivery.override_commented", delivery(overridden=True, override_comment="couch shift approved")),
    bad("delivery.override_commented", delivery(overridden=True, override_comment="")),
    ok("task.none_overdue", record("task", "QCL 1", task_description="Weekly chart check", task_complete=False, task_due="2026-12-01T00:00:00")),
    bad("task.none_overdue", record("task", "QCL 1", task_description="Weekly chart check", task_complete=False, task_due="2026-11-01T00:00:00")),
    ok("final.fractions_complete", rx(fractions_delivered=2)), bad("final.fractions_complete", rx(fractions_delivered=1)),
    ok("final.total_dose", rx(dose_delivered_cgy=100.0)), bad("final.total_dose", rx(dose_delivered_cgy=80.0)),
    # ---- photon ------------------------------------------------------------------------------------------
    ok("beam.photon_energy"), bad("beam.photon_energy", beams("first", energy="9E")),
    ok("beam.sad"), bad("beam.sad", beams("first", sad_mm=800.0)),
    # ---- photon-3d -----------------------------------------------------------------------------------------
    ok("beam.static", **STATIC), bad("beam.static", beams("first", beam_type="VMAT"), **STATIC),
    ok("rx.technique_3d", rx(technique="3D"), **STATIC), bad("rx.technique_3d", rx(technique="VMAT"), **STATIC),
    # ---- photon-imrt -----------------------------------------------------------------------------------------
    ok("beam.imrt_type", imrt, **IMRT), bad("beam.imrt_type", imrt, beams("first", beam_type="STATIC"), **IMRT),
    ok("rx.technique_imrt", imrt, rx(technique="IMRT"), **IMRT), bad("rx.technique_imrt", imrt, rx(technique="3D"), **IMRT),
    # ---- photon-vmat -----------------------------------------------------------------------------------------
    ok("beam.vmat_type"), bad("beam.vmat_type", beams("first", beam_type="STATIC")),
    ok("beam.arc_rotates"), bad("beam.arc_rotates", beams("first", gantry_stop=90.0)),
    ok("beam.arc_control_points"), bad("beam.arc_control_points", beams("first", control_points=5)),
    ok("rx.technique_vmat", rx(technique="VMAT")), bad("rx.technique_vmat", rx(technique="3D")),
    ok("delivery.gamma", recorded(0.0)), bad("delivery.gamma", recorded(1.0)),
    # ---- electron --------------------------------------------------------------------------------------------
    ok("beam.electron_energy", electron, **ELECTRON), bad("beam.electron_energy", electron, beams("first", energy="6X"), **ELECTRON),
    ok("beam.electron_static", electron, **ELECTRON), bad("beam.electron_static", electron, beams("first", beam_type="VMAT"), **ELECTRON),
    ok("beam.electron_ssd", electron, **ELECTRON), bad("beam.electron_ssd", electron, beams("first", ssd_mm=900.0), **ELECTRON),
]


def shipped_check_ids() -> set[str]:
    return {cid for rs in LIBRARY.validate() for cid in rs.checks}


def test_every_shipped_check_has_a_pass_and_a_fail_case() -> None:
    ids = shipped_check_ids()
    passing = {c.check for c in CASES if c.passes}
    failing = {c.check for c in CASES if not c.passes}
    assert not ids - passing, f"shipped checks with no passing fixture: {sorted(ids - passing)}"
    assert not ids - failing, f"shipped checks with no failing fixture: {sorted(ids - failing)}"
    assert not (passing | failing) - ids, f"fixtures for checks no shipped set declares: {sorted((passing | failing) - ids)}"


_BASES: dict[str, ParamTable] = {}


def base(plan: str) -> ParamTable:
    if plan not in _BASES:
        _BASES[plan] = table_from_plan(VMAT_PLAN if plan == "vmat" else STATIC_PLAN)
    return _BASES[plan]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_check_on_its_fixture(case: Case) -> None:
    rule_set = LIBRARY.get(case.rule_set)
    check = rule_set.checks[case.check]
    table = base(case.plan)
    for edit in case.edits:
        table = edit(table)
    results = run_check(check, CheckContext(table, rule_set, Config(), TODAY, "P1"))
    statuses = [r.status for r in results]
    assert results and Status.ERROR not in statuses, [r.message for r in results]
    if case.passes:
        assert set(statuses) == {Status.PASS}, [r.message for r in results]
    else:
        wanted = Status.WARN if check.level == "warn" else Status.FAIL
        assert wanted in statuses and set(statuses) <= {wanted, Status.PASS}, [r.message for r in results]
