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
    return [r for r in res if r.origin == "implicit" and r.param == param and r.beam == beam]


def test_identical_sources_agree(vmat_table: ParamTable) -> None:
    res = [r for r in results(vmat_table) if r.origin == "implicit"]
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
    assert any(r.origin == "manual" and r.status == Status.MANUAL for r in res)


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
    # the record at fault as data, so a view names it without parsing the message
    assert res["delivery.no_qa_mode"].details["findings"] == [{"item": "DHS 1", "status": "fail", "message": "delivered in QA mode on 2026-11-11 09:00:00"}]
    assert res["delivery.override_commented"].status == Status.FAIL and "DHS 2" in res["delivery.override_commented"].message
    assert res["delivery.complete"].status == Status.PASS


def test_source_error_is_a_result(vmat_table: ParamTable) -> None:
    t = vmat_table.copy()
    t.source_errors["plan_pdf"] = "plan.pdf page 1: no text layer"
    res = results(t)
    assert any(r.id == "source.plan_pdf" and r.status == Status.ERROR for r in res)


def _with_modality(table: ParamTable, beams: list[str], modality: str, energy: str) -> ParamTable:
    out = table.copy()
    swap = {"modality": modality, "energy": energy}
    out.rows = [replace(r, value=swap[r.param]) if r.param in swap and r.scope == "beam" and r.beam in beams else r for r in out.rows]
    return out


def test_photon_and_electron_fields_each_get_their_own_checks() -> None:
    """Issue 10 item 4: a prescription with photon and electron fields stopped the run (exit 2)."""
    from plancheck.checks.engine import select_rule_set
    from tests.conftest import STATIC_PLAN, table_from_plan

    table = table_from_plan(STATIC_PLAN)
    electron = table.beams()[:2]
    mixed = _with_modality(table, electron, "electron", "9E")
    rs = select_rule_set(RuleLibrary(), mixed, TODAY)
    assert rs.name == "photon-3d+electron" and [p.rule_set.name for p in rs.parts] == ["photon-3d", "electron"]
    res = run_checks(mixed, rs, "initial", today=TODAY)
    beams_of = lambda cid: {r.beam for r in res if r.id == cid}  # noqa: E731
    photon = set(table.beams()) - set(electron)
    assert beams_of("beam.electron_energy") == set(electron) and beams_of("beam.photon_energy") == photon
    assert beams_of("beam.static") == photon and beams_of("beam.mu_range") == set(table.beams())
    assert all(r.status == Status.PASS for r in res if r.id in ("beam.electron_energy", "beam.photon_energy"))
    assert len([r for r in res if r.id == "rx.approved"]) == 1  # plan-level checks run once
    assert not [r for r in res if r.id.startswith("rules.")]


def test_unsupported_modality_is_named_not_checked_as_photon() -> None:
    from plancheck.checks.engine import select_rule_set
    from tests.conftest import STATIC_PLAN, table_from_plan

    table = table_from_plan(STATIC_PLAN)
    proton = table.beams()[:1]
    rs = select_rule_set(RuleLibrary(), _with_modality(table, proton, "proton", "150P"), TODAY)
    assert rs.unsupported == ("proton",) and [p.rule_set.name for p in rs.parts] == ["photon-3d"]
    res = run_checks(_with_modality(table, proton, "proton", "150P"), rs, "initial", today=TODAY)
    (named,) = [r for r in res if r.id == "rules.rule_set_for_beam"]
    assert named.status == Status.ERROR and "no rule set for proton fields" in named.message and proton[0] in named.message
    assert not [r for r in res if r.origin == "explicit" and r.beam == proton[0]]  # no photon checks on the proton beam
    assert [r for r in res if r.origin == "implicit" and r.beam == proton[0]]  # cross-source comparison still runs
    everything = _with_modality(table, table.beams(), "proton", "150P")
    only = select_rule_set(RuleLibrary(), everything, TODAY)
    assert only.name == "general" and only.unsupported == ("proton",)
    assert not [r for r in run_checks(everything, only, "initial", today=TODAY) if r.origin == "explicit" and r.beam]


def test_sets_that_fit_equally_are_merged_not_refused(tmp_path) -> None:
    from plancheck.checks.engine import select_rule_set
    from tests.conftest import STATIC_PLAN, table_from_plan

    (tmp_path / "a.yaml").write_text("name: photon-a\nextends: photon\nmatch: has_source('rtplan')\nchecks:\n  - id: a.one\n    expect: mu > 0\n")
    (tmp_path / "b.yaml").write_text("name: photon-b\nextends: photon\nmatch: has_source('rtplan')\nchecks:\n  - id: b.one\n    expect: mu > 0\n")
    rs = select_rule_set(RuleLibrary([tmp_path]), table_from_plan(STATIC_PLAN), TODAY)
    assert {"a.one", "b.one", "beam.static"} <= set(rs.checks) and "photon-a" in rs.name and "photon-3d" in rs.name
