"""Rule files: shipped sets validate, bad files name file and line, inheritance and clinic overlays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plancheck.checks.engine import select_rule_set
from plancheck.errors import RuleError
from plancheck.rules.loader import RuleLibrary
from tests.conftest import STATIC_PLAN, VMAT_PLAN, table_from_plan

TODAY = dt.datetime(2026, 11, 20)


def test_shipped_rule_sets_resolve_with_inheritance() -> None:
    lib = RuleLibrary()
    assert {"general", "photon", "photon-3d", "photon-imrt", "photon-vmat", "electron"} <= set(lib.names)
    vmat = lib.get("photon-vmat")
    assert vmat.lineage == ("photon-vmat", "photon", "general")
    assert "rx.approved" in vmat.checks and "beam.vmat_type" in vmat.checks
    assert vmat.vars["mu_max"] == 2000 and lib.get("general").vars["mu_max"] == 999
    for kind in ("initial", "weekly", "final"):
        assert vmat.checks_for(kind) and vmat.manual_for(kind)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "name: bad\nextends: general\nchecks:\n  - id: x\n    expect: mu > 1\n   name: broken indent\n")
    with pytest.raises(RuleError) as info:
        RuleLibrary([tmp_path])
    assert "bad.yaml:" in info.value.message and "YAML" in info.value.message


def test_bad_expression_names_line(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", "name: x\nextends: general\nchecks:\n  - id: one\n    expect: mu > 1\n  - id: two\n    expect: __import__('os')\n")
    with pytest.raises(RuleError) as info:
        RuleLibrary([tmp_path]).get("x")
    assert "x.yaml:7" in info.value.message and "unknown function" in info.value.message


def test_unknown_key_and_kind(tmp_path: Path) -> None:
    write(tmp_path, "k.yaml", "name: k\nchecks:\n  - id: one\n    expect: mu > 1\n    kinds: [daily]\n")
    with pytest.raises(RuleError, match="daily"):
        RuleLibrary([tmp_path]).get("k")
    write(tmp_path, "k.yaml", "name: k\nchecks:\n  - id: one\n    expcet: mu > 1\n")
    with pytest.raises(RuleError) as info:
        RuleLibrary([tmp_path]).get("k")
    messages = [p.message for p in info.value.problems]  # type: ignore[attr-defined]
    assert any("k.yaml:4" in m and "expcet" in m and "did you mean 'expect'" in m for m in messages)
    assert any("k.yaml:3" in m and "needs `expect:`" in m for m in messages)


def test_circular_extends(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nextends: b\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a\n")
    with pytest.raises(RuleError, match="circle"):
        RuleLibrary([tmp_path]).get("a")


def test_clinic_overlay_overrides_and_removes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "general.yaml",
        "name: general\nvars:\n  mu_max: 500\nremove: [beam.naming]\nchecks:\n"
        "  - id: rx.approved\n    name: Our approval rule\n    expect: rx_approved and present('rx_approved_by')\n",
    )
    lib = RuleLibrary([tmp_path])
    vmat = lib.get("photon-vmat")
    assert "beam.naming" not in vmat.checks
    assert vmat.checks["rx.approved"].name == "Our approval rule"
    assert lib.get("general").vars["mu_max"] == 500 and vmat.vars["mu_max"] == 2000


def test_selection_by_match() -> None:
    lib = RuleLibrary()
    assert select_rule_set(lib, table_from_plan(VMAT_PLAN), TODAY).name == "photon-vmat"
    assert select_rule_set(lib, table_from_plan(STATIC_PLAN), TODAY).name == "photon-3d"
    assert select_rule_set(lib, table_from_plan(VMAT_PLAN), TODAY, "photon").name == "photon"


def test_electron_course_selects_the_electron_rules() -> None:
    from dataclasses import replace

    table = table_from_plan(STATIC_PLAN)
    swap = {"modality": "electron", "energy": "9E"}
    table.rows = [replace(r, value=swap[r.param]) if r.param in swap and r.scope == "beam" else r for r in table.rows]
    rs = select_rule_set(RuleLibrary(), table, TODAY)
    assert rs.name == "electron" and "beam.electron_energy" in rs.checks
