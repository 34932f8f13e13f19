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
