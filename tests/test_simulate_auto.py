"""Fault injection on a clean case built from a real RT Plan: caught, escaped, skipped, false alarms."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from plancheck.rules.loader import RuleLibrary
from plancheck.simulate.catalogue import Fault, load_catalogue
from plancheck.simulate.auto import run_matrix
from plancheck.simulate.mutations import Target
from plancheck.table import Param, ParamTable

TODAY = dt.datetime(2026, 11, 20)


def clean_case(table: ParamTable) -> ParamTable:
    """The mirrored RT Plan plus the approvals and schedule a clean MOSAIQ case has."""
    t = table.copy()
    t.rows = [replace(r, value=True) if r.param == "plan_approved" else r for r in t.rows]
    t.add(
        Param("prescription", "", "rx_approved", True, "", "mosaiq", "Site"),
        Param("prescription", "", "rx_status", "approved", "", "mosaiq", "Site"),
    )
    return t


def test_catalogue_has_at_least_25_faults_each_expecting_a_check() -> None:
    faults = load_catalogue()
    assert len(faults) >= 25 and all(f.expect for f in faults)
    assert len({f.id for f in faults}) == len(faults)


def test_matrix_on_clean_vmat_case(vmat_table: ParamTable) -> None:
    faults = [f for f in load_catalogue() if f.kind == "initial"]
    matrix = run_matrix(clean_case(vmat_table), faults, RuleLibrary().get("photon-vmat"), today=TODAY)
    outcomes = {o.id: o for o in matrix.outcomes}
    assert not matrix.false_alarms, matrix.false_alarms
    assert outcomes["mu_scaled_mosaiq"].outcome == "caught" and "implicit.mu" in outcomes["mu_scaled_mosaiq"].caught_by
    assert outcomes["beam_missing"].outcome == "caught"
    assert outcomes["prescription_unapproved"].outcome == "caught"
    # the table has no scheduled sessions: the fault that needs them is skipped, never "caught"
    assert outcomes["fractions_not_scheduled"].outcome == "skipped"


def test_a_fault_the_rules_do_not_catch_is_escaped(vmat_table: ParamTable) -> None:
    silent = Fault("beam_renamed_everywhere", "beam description changed in every source", "initial",
                   (Target("set", "*", "beam_name", amount="OTHER"),), ("implicit.beam_name",), "test")
    matrix = run_matrix(clean_case(vmat_table), [silent], RuleLibrary().get("photon-vmat"), today=TODAY)
    assert matrix.outcomes[0].outcome == "escaped" and matrix.exit_code == 1


def test_isocentre_shift_in_one_source_is_caught_by_the_shared_isocentre_check(vmat_table: ParamTable) -> None:
    """The defect: beam.shared_isocentre read MOSAIQ first and stayed silent on an RT Plan shift."""
    (fault,) = [f for f in load_catalogue() if f.id == "isocentre_shift"]
    matrix = run_matrix(clean_case(vmat_table), [fault], RuleLibrary().get("photon-vmat"), today=TODAY)
    (o,) = matrix.outcomes
    assert o.outcome == "caught" and {"beam.shared_isocentre", "implicit.iso_x_mm"} <= set(o.caught_by) and not o.silent


def test_silent_expected_check_is_its_own_outcome_and_exit_1(vmat_table: ParamTable) -> None:
    """A fault caught by one check while another expected check ran and said nothing."""
    fault = Fault("mu_scaled_quietly", "MU scaled in MOSAIQ", "initial", (Target("scale", "mosaiq", "mu", amount=1.03),),
                  ("implicit.mu", "beam.mu_range"), "test")
    matrix = run_matrix(clean_case(vmat_table), [fault], RuleLibrary().get("photon-vmat"), today=TODAY)
    (o,) = matrix.outcomes
    assert o.outcome == "expected_silent" and o.silent == ["beam.mu_range"] and "implicit.mu" in o.caught_by
    assert o.label == "caught by others; expected check silent"
    assert matrix.exit_code == 1
    data = matrix.to_dict()
    assert data["expected_silent"] == [{"id": "mu_scaled_quietly", "silent": ["beam.mu_range"], "caught_by": o.caught_by}]
    assert data["counts"]["expected_silent"] == 1 and data["faults"][0]["label"] == o.label
    matrix.accept_silent = True
    assert matrix.exit_code == 0


def test_expected_check_that_does_not_apply_is_not_silent(vmat_table: ParamTable) -> None:
    """A one-field plan: beam.shared_isocentre has nothing to compare and does not apply."""
    table = clean_case(vmat_table)
    first = table.beams()[0]
    table.rows = [r for r in table.rows if r.scope != "beam" or r.beam == first]
    (fault,) = [f for f in load_catalogue() if f.id == "isocentre_shift"]
    (o,) = run_matrix(table, [fault], RuleLibrary().get("photon-vmat"), today=TODAY).outcomes
    assert o.outcome == "caught" and o.not_applicable == ["beam.shared_isocentre"] and not o.silent


def test_matrix_terminal_and_html_show_the_silent_outcome(vmat_table: ParamTable, tmp_path) -> None:
    from rich.console import Console

    from plancheck.report.matrix import render_matrix_terminal, write_matrix_html

    fault = Fault("quiet", "MU scaled", "initial", (Target("scale", "mosaiq", "mu", amount=1.03),), ("implicit.mu", "beam.mu_range"), "test")
    matrix = run_matrix(clean_case(vmat_table), [fault], RuleLibrary().get("photon-vmat"), today=TODAY)
    console = Console(record=True, width=200)
    render_matrix_terminal(matrix, console)
    text = console.export_text()
    assert "caught by others; expected check silent" in text and "beam.mu_range (silent)" in text
    html = write_matrix_html(matrix, tmp_path / "m.html").read_text()
    assert "Expected checks that stayed silent" in html and "caught by others; expected check silent" in html


def _catalogue(tmp_path, text: str):
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    return path


def test_catalogue_validated_on_load_every_problem_with_line(tmp_path) -> None:
    import pytest

    from plancheck.rules.loader import RuleProblems

    text = (
        "faults:\n"
        "  - id: a\n    changes: [{op: scale, source: mosaiq, param: mu, amount: lots}]\n    expect: [implicit.mu]\n"
        "  - id: b\n    changes: [{op: set, source: mosaiq, param: energy, amount: 10X}]\n    expect: [delivery.gama]\n"
        "  - id: c\n    changes: [{op: shift_leaf_bank, source: icom, amount: [3, 1.0]}]\n    expect: [delivery.gamma]\n"
        "  - id: d\n    changes: [{op: offset, source: mosaiq, param: energy, amount: 2}]\n    expect: [implicit.energy]\n"
        "  - id: e\n    changes: [{op: set, source: linac, param: fractions, amount: many}]\n    expect: [implicit.fractions]\n"
        "  - id: a\n    changes: [{op: set, source: mosaiq, param: mu, amount: 1}]\n    expect: [implicit.mu]\n"
    )
    with pytest.raises(RuleProblems) as info:
        load_catalogue(_catalogue(tmp_path, text))
    messages = [p.message for p in info.value.problems]
    assert any("faults.yaml:3" in m and "scale needs a finite number" in m for m in messages)
    assert any("faults.yaml:7" in m and "'delivery.gama'" in m and "did you mean 'delivery.gamma'" in m for m in messages)
    assert any("faults.yaml:9" in m and "shift_leaf_bank" in m for m in messages)
    assert any("faults.yaml:12" in m and "offset does not work on energy" in m for m in messages)
    assert any("faults.yaml:15" in m and "source 'linac'" in m for m in messages)
    assert any("faults.yaml:15" in m and "finite number for fractions" in m for m in messages)
    assert any("fault a declared twice" in m for m in messages)
    assert len(messages) == 7, messages


def test_catalogue_yaml_problems_are_rule_errors(tmp_path) -> None:
    import pytest

    from plancheck.errors import RuleError

    with pytest.raises(RuleError, match=r"faults\.yaml:2.*written twice"):
        load_catalogue(_catalogue(tmp_path, "faults: []\nfaults: []\n"))
    with pytest.raises(RuleError, match="needs `faults:`"):
        load_catalogue(_catalogue(tmp_path, "fault: []\n"))
