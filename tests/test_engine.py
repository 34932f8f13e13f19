"""The check engine on tables built from real RT Plans: implicit, explicit, manual, errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from plancheck.checks.engine import run_checks
from plancheck.checks.results import Status
from plancheck.rules.loader import RuleLibrary
from plancheck.table import Param, ParamTable

TODAY = dt.datetime(2026, 11, 20)


def edit(table: ParamTable, source: str, beam: str, param: str, value: object) -> ParamTable:
    out = table.copy()
    out.rows = [replace(r, value=value) if (r.source, r.beam, r.param) == (source, beam, param) else r for r in out.rows]
    return out


def results(table: ParamTable, kind: str = "initial", rules: str = "photon-vmat"):
    return run_checks(table, RuleLibrary().get(rules), kind, today=TODAY)


def implicit(res, param: str, beam: str = ""):
    return [r for r in res if r.kind == "implicit" and r.param == param and r.beam == beam]


def test_identical_sources_agree(vmat_table: ParamTable) -> None:
    res = [r for r in results(vmat_table) if r.kind == "implicit"]
    assert res and all(r.status == Status.PASS for r in res)


def test_mu_mismatch_fails_naming_beam(vmat_table: ParamTable) -> None:
    res = results(edit(vmat_table, "mosaiq", "1-2", "mu", 163.55))
    (mu,) = implicit(res, "mu", "1-2")
    assert mu.status == Status.FAIL and mu.beam == "1-2" and "mosaiq" in mu.message and "rtplan" in mu.message
    assert implicit(res, "mu", "1-1")[0].status == Status.PASS


def test_tolerance_and_action_levels(vmat_table: ParamTable) -> None:
    base = 157.2387
    assert implicit(results(edit(vmat_table, "mosaiq", "1-1", "mu", base + 0.3)), "mu", "1-1")[0].status == Status.PASS
    assert implicit(results(edit(vmat_table, "mosaiq", "1-1", "mu", base + 0.8)), "mu", "1-1")[0].status == Status.WARN
    assert implicit(results(edit(vmat_table, "mosaiq", "1-1", "mu", base + 1.5)), "mu", "1-1")[0].status == Status.FAIL


def test_angles_compare_round_the_circle(vmat_table: ParamTable) -> None:
    t = edit(edit(vmat_table, "mosaiq", "1-1", "collimator", 359.95), "rtplan", "1-1", "collimator", 0.03)
    assert implicit(results(t), "collimator", "1-1")[0].status == Status.PASS


def test_text_mismatch_and_missing_beam(vmat_table: ParamTable) -> None:
    t = edit(vmat_table, "mosaiq", "1-2", "energy", "10X")
    t.rows = [r for r in t.rows if not (r.source == "rtplan" and r.beam == "1-1")]
    res = results(t)
    assert implicit(res, "energy", "1-2")[0].status == Status.FAIL
    presence = [r for r in res if r.id == "implicit.beam_presence" and r.beam == "1-1"]
    assert presence[0].status == Status.FAIL and "rtplan" in presence[0].message


def test_explicit_checks_per_beam_and_missing_values(vmat_table: ParamTable) -> None:
    res = results(edit(vmat_table, "mosaiq", "1-1", "mu", 2500.0))
    by_id = {(r.id, r.beam): r for r in res}
    assert by_id[("beam.mu_range", "1-1")].status == Status.FAIL
    assert "2500" in by_id[("beam.mu_range", "1-1")].message
    assert by_id[("beam.mu_range", "1-2")].status == Status.PASS
    # no prescription approval row anywhere: the check cannot run, so it is an error, not a pass
    assert by_id[("rx.approved", "")].status == Status.ERROR and "rx_approved" in by_id[("rx.approved", "")].message
    assert any(r.kind == "manual" and r.status == Status.MANUAL for r in res)


def test_per_record_checks_aggregate(vmat_table: ParamTable) -> None:
    t = vmat_table.copy()
    for i, (qa, over, comment) in enumerate([(False, False, ""), (True, False, ""), (False, True, "")]):
        item = f"DHS {i}"
        t.add(
            Param("delivery", "1-1", "qa_mode", qa, "", "mosaiq", item, item),
            Param("delivery", "1-1", "overridden", over, "", "mosaiq", item, item),
            Param("delivery", "1-1", "override_comment", comment, "", "mosaiq", item, item),
            Param("delivery", "1-1", "partial", False, "", "mosaiq", item, item),
            Param("delivery", "1-1", "delivered_at", f"2026-11-1{i}T09:00:00", "", "mosaiq", item, item),
        )
    res = {r.id: r for r in results(t, "weekly")}
    assert res["delivery.no_qa_mode"].status == Status.FAIL and "DHS 1" in res["delivery.no_qa_mode"].message
    assert res["delivery.override_commented"].status == Status.FAIL and "DHS 2" in res["delivery.override_commented"].message
    assert res["delivery.complete"].status == Status.PASS


def test_source_error_is_a_result(vmat_table: ParamTable) -> None:
    t = vmat_table.copy()
    t.source_errors["plan_pdf"] = "plan.pdf page 1: no text layer"
    res = results(t)
    assert any(r.id == "source.plan_pdf" and r.status == Status.ERROR for r in res)
