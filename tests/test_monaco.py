"""Monaco tel.1: our writer read by pymedphys, our reader against pymedphys, the FocalData finder and the source."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pymedphys
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plancheck import deliveries as loaders
from plancheck.config import Config
from plancheck.delivery import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Request
from plancheck.sources.monaco import layout as L
from plancheck.sources.monaco.matching import PlanBeams, match_beams
from plancheck.sources.monaco.reader import read
from plancheck.sources.monaco.telfile import read_tel
from plancheck.fabricate.tel import write_tel
from plancheck.sources.monaco.focaldata import find_plans, make_patient_dir, patient_dirs, patient_name
from plancheck.fabricate.focaldata import focaldata_from_rtplan, tel_from_rtplan
from plancheck.sources.rtplan import load, rows_from_dataset
from plancheck.table import ParamTable

PMP = Path(pymedphys.__file__).parent
PLANS = [*sorted((PMP / "_experimental/serviceplans/templates").glob("*.dcm")), PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"]
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
VERSIONS = ("5.51.10", "5.11")


def pymedphys_reads(path: Path) -> Delivery:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Delivery.from_pymedphys(pymedphys.Delivery.from_monaco(path))


def beams_of(plan: Path) -> dict[str, Delivery]:
    return rows_from_dataset(load(plan), str(plan))[1]


# ---- writer -> pymedphys, and our reader -> pymedphys -----------------------------
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("annotate", [True, False], ids=["annotated", "bare"])
@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_written_tel_reads_back_in_pymedphys_and_ours(plan: Path, version: str, annotate: bool, tmp_path: Path) -> None:
    beams = beams_of(plan)
    tel = write_tel(beams, tmp_path / "tel.1", monaco_version=version, annotate=annotate)
    theirs = pymedphys_reads(tel)
    assert theirs.allclose(Delivery.merge(*beams.values()), atol=1e-6)
    ours = read_tel(tel)
    assert ours.layout.name == ("5.51.10" if version == "5.51.10" else "standard")
    assert ours.delivery().allclose(theirs, atol=1e-9)
    assert loaders.from_monaco(tel).allclose(theirs, atol=1e-9)


def matched(tel: Path, beams: dict[str, Delivery], name: str = "rtplan") -> dict[str, Delivery]:
    """The tel.1's beams by the plan label each was matched to (every one must match)."""
    matches = match_beams(read_tel(tel), [PlanBeams(name, beams)])
    assert all(m.status == "matched" for m in matches), [m.reason for m in matches]
    return {m.label: m.beam.delivery() for m in matches}


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_beams_are_matched_to_the_plan_in_plan_order(plan: Path, tmp_path: Path) -> None:
    """Static, step-and-shoot and arc beams: the blocks cut by the plan's control-point counts, in plan order."""
    beams = beams_of(plan)
    tel = write_tel(beams, tmp_path / "tel.1")
    matches = match_beams(read_tel(tel), [PlanBeams("rtplan", beams)])
    assert [m.label for m in matches] == list(beams)
    assert all(m.status == "matched" and "in plan order" in m.reason for m in matches)
    for m in matches:
        assert m.beam.delivery().allclose(beams[m.label], atol=1e-6), m.label


def test_bare_dynamic_beams_are_split_where_mu_restarts(tmp_path: Path) -> None:
    beams = beams_of(VMAT)
    tel = read_tel(write_tel(beams, tmp_path / "tel.1"))
    assert [b.label for b in tel.beams] == ["1", "2"]
    for ours, theirs in zip(tel.beam_deliveries().values(), beams.values(), strict=True):
        assert ours.allclose(theirs, atol=1e-6)
    assert loaders.from_monaco(tel.path, beam="2").allclose(beams["1-2"], atol=1e-6)


def test_static_beams_without_a_plan_are_named_unmatched(tmp_path: Path) -> None:
    plan = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"
    tel = read_tel(write_tel(beams_of(plan), tmp_path / "tel.1"))
    assert len(tel.beams) == 1 and tel.has_static  # ten static beams: MU never restarts
    (only,) = match_beams(tel, [])
    assert (only.status, only.label) == ("unmatched", "tel.1 beam 1") and "no plan to match it to" in only.reason


def test_beams_out_of_plan_order_are_matched_by_content_and_twins_are_ambiguous(tmp_path: Path) -> None:
    arc1, arc2 = beams_of(VMAT).values()
    tel = read_tel(write_tel({"x": arc2, "y": arc1, "z": arc2}, tmp_path / "tel.1"))
    first, second, third = match_beams(tel, [PlanBeams("rtplan", {"A": arc1, "B": arc2, "C": arc2})])
    assert (second.status, second.label) == ("matched", "A") and "not in plan order" in second.reason
    for twin, number in ((first, 1), (third, 3)):
        assert (twin.status, twin.label) == ("ambiguous", f"tel.1 beam {number}")
        assert "fit beams B, C of rtplan" in twin.reason


def test_mu_differing_from_the_plan_is_noted_in_order_and_unmatched_out_of_order(tmp_path: Path) -> None:
    arc1, arc2 = beams_of(VMAT).values()
    more = arc1.replace(mu=np.asarray(arc1.mu) * 1.05)
    in_order = match_beams(read_tel(write_tel({"a": more, "b": arc2}, tmp_path / "a.tel.1")), [PlanBeams("rtplan", {"1-1": arc1, "1-2": arc2})])
    assert [m.label for m in in_order] == ["1-1", "1-2"] and all(m.matched for m in in_order)
    assert f"MU {more.total_mu:.2f} here, {arc1.total_mu:.2f} in rtplan" in in_order[0].reason
    swapped = match_beams(read_tel(write_tel({"b": arc2, "a": more}, tmp_path / "b.tel.1")), [PlanBeams("rtplan", {"1-1": arc1, "1-2": arc2})])
    assert (swapped[0].status, swapped[0].label) == ("matched", "1-2")
    assert swapped[1].status == "unmatched" and "no beam of rtplan has its" in swapped[1].reason


def test_the_first_plan_all_beams_fit_is_used(tmp_path: Path) -> None:
    arc1, arc2 = beams_of(VMAT).values()
    tel = read_tel(write_tel({"a": arc1, "b": arc2}, tmp_path / "tel.1"))
    other = beams_of(PLANS[0])
    matches = match_beams(tel, [PlanBeams("RT Plan other.dcm in the plan folder", other), PlanBeams("mosaiq", {"1": arc1, "2": arc2})])
    assert [m.label for m in matches] == ["1", "2"] and "matched to beam 1 of mosaiq in plan order" in matches[0].reason


def _loosen(text: str) -> str:
    """What pymedphys' pattern also accepts: padded MLC values, whole numbers for angles and jaws, CRLF."""
    from plancheck.sources.monaco import layout as L

    lines = text.splitlines()
    whole = lambda v: str(int(float(v))) if float(v).is_integer() else v  # noqa: E731
    for start in range(0, len(lines), L.BLOCK_LINES):
        for k in range(L.MLC_ROWS):
            lines[start + k] = ",".join(f"{float(v):11.6f}" for v in lines[start + k].split(","))
        gantry = start + L.FIRST_PARAMETER_LINE
        first, angle = lines[gantry].split(",")
        lines[gantry] = f"{first},{whole(angle)}"
        lines[gantry + 1] = ",".join(whole(v) for v in lines[gantry + 1].split(","))
        lines[gantry + 4] = ",".join(whole(v) for v in lines[gantry + 4].split(","))
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("version", VERSIONS)
def test_loose_number_formats_read_as_pymedphys_reads_them(version: str, tmp_path: Path) -> None:
    beams = beams_of(VMAT)
    path = write_tel(beams, tmp_path / "tel.1", monaco_version=version, annotate=False)
    path.write_bytes(_loosen(path.read_text()).encode())
    assert b",90\r\n" in path.read_bytes()
    theirs = pymedphys_reads(path)
    assert len(theirs) == 63 and theirs.allclose(Delivery.merge(*beams.values()), atol=1e-6)
    assert read_tel(path).delivery().allclose(theirs, atol=1e-9)


def test_step_and_shoot_is_written_as_static_segments(tmp_path: Path) -> None:
    d = beams_of(PLANS[0])["AP"]
    mlc = np.concatenate([d.mlc, d.mlc + 5.0, d.mlc - 3.0])
    sns = Delivery([0, 10, 10, 30, 30, 31.5], [0] * 6, [0] * 6, mlc, np.concatenate([d.jaw] * 3))
    path = loaders.to_tel(sns, tmp_path / "tel.1", label="SNS")
    text = path.read_text()
    assert text.count("\n2,2\n") == 3 and "\n1,1\n" not in text
    assert pymedphys_reads(path).allclose(sns, atol=1e-6)
    beam = read_tel(path).beams[0]
    assert beam.control_points == 6 and all(beam.static)


# ---- hypothesis: any small delivery survives the round trip -----------------------
@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Delivery]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    beams = {}
    for b in range(draw(st.integers(1, 3))):
        n = draw(st.integers(2, 6))
        steps = rng.uniform(0, 20, n - 1) * (rng.uniform(size=n - 1) > 0.2)
        mu = np.concatenate([[0.0], np.cumsum(steps)])
        gantry = rng.uniform(-179.5, 179.5, n)
        coll = np.full(n, rng.uniform(-179.5, 179.5))
        mlc = rng.uniform(-150, 150, (n, 80, 2))
        jaw = rng.uniform(-200, 200, (n, 2))
        beams[f"B{b}"] = Delivery(mu, gantry, coll, mlc, jaw)
    return beams


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(beams=deliveries(), version=st.sampled_from(VERSIONS))
def test_any_delivery_round_trips(beams: dict[str, Delivery], version: str, tmp_path: Path) -> None:
    tel = write_tel(beams, tmp_path / "tel.1", monaco_version=version)
    theirs = pymedphys_reads(tel)
    assert theirs.allclose(Delivery.merge(*beams.values()), atol=1e-6)
    assert read_tel(tel).delivery().allclose(theirs, atol=1e-9)
    back = matched(tel, beams)
    assert list(back) == list(beams)
    for label, delivery in beams.items():
        assert back[label].allclose(delivery, atol=1e-6)


# ---- malformed files -----------------------------------------------------------------
@pytest.fixture()
def vmat_tel(tmp_path: Path) -> Path:
    return tel_from_rtplan(VMAT, tmp_path / "tel.1")


def _error(path: Path) -> str:
    with pytest.raises(SourceError) as info:
        read_tel(path)
    return info.value.message


def test_unknown_layout_names_the_collimator_line(tmp_path: Path) -> None:
    path = tel_from_rtplan(VMAT, tmp_path / "tel.1", annotate=False)
    lines = path.read_text().splitlines()
    lines[31] = lines[31] + ",0.0,0.0"  # the first collimator line: 3 -> 5 values
    path.write_text("\n".join(lines) + "\n")
    message = _error(path)
    assert f"{path} line 32" in message and "unknown Monaco layout" in message and "5 values" in message


def test_layout_must_stay_the_same_through_the_file(vmat_tel: Path) -> None:
    lines = vmat_tel.read_text().splitlines()
    lines[L.BLOCK_LINES + L.FIRST_PARAMETER_LINE + 1] = "0.000000"  # the second block's collimator line: 3 -> 1 value
    vmat_tel.write_text("\n".join(lines) + "\n")
    message = _error(vmat_tel)
    assert f"line {L.BLOCK_LINES + L.FIRST_PARAMETER_LINE + 2}" in message
    assert "expected 3 values on the collimator line (the 5.51.10 layout), got 1" in message


def test_truncated_file_names_the_block(vmat_tel: Path) -> None:
    lines = vmat_tel.read_text().splitlines()
    vmat_tel.write_text("\n".join(lines[:-10]) + "\n")
    message = _error(vmat_tel)
    assert "file ends inside the control point that starts at line" in message and "truncated" in message


def test_broken_mlc_row_names_its_line(vmat_tel: Path) -> None:
    lines = vmat_tel.read_text().splitlines()
    lines[L.BLOCK_LINES + 4] = lines[L.BLOCK_LINES + 4].rsplit(",", 1)[0]  # 9 positions
    vmat_tel.write_text("\n".join(lines) + "\n")
    message = _error(vmat_tel)
    assert f"{vmat_tel} line {L.BLOCK_LINES + 5}" in message and "expected MLC row 5 of 16" in message


def test_file_without_control_points(tmp_path: Path) -> None:
    path = tmp_path / "tel.1"
    path.write_text("not a plan\n")
    assert "no control points" in _error(path)


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    assert "cannot read tel.1" in _error(tmp_path / "nowhere" / "tel.1")


# ---- FocalData finder and the source ------------------------------------------------
def _tree(root: Path) -> tuple[Path, Path]:
    old = focaldata_from_rtplan(VMAT, root, plan="OLDPLAN")
    new = focaldata_from_rtplan(VMAT, root, plan="NEWPLAN")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    os.utime(new, (1_700_000_000, 1_700_000_000))
    make_patient_dir(root, "OTHER", "DOE^JANE")
    return old, new


def test_finder_lists_plans_newest_first_at_any_depth(tmp_path: Path) -> None:
    _old, new = _tree(tmp_path)
    for root in (tmp_path, tmp_path / "Clinic", tmp_path / "Clinic" / "1~Clinical"):
        plans = find_plans(root, "MVISO")
        assert [p.name for p in plans] == ["NEWPLAN", "OLDPLAN"]
        assert plans[0].tel_paths == (new,)
    assert find_plans(tmp_path, "OTHER") == [] and find_plans(tmp_path, "MVIS") == []
    assert patient_name(patient_dirs(tmp_path, "MVISO")[0]) == "MV^ISO"


def collected_rtplan(plan: Path) -> ParamTable:
    """The table as the collector holds it when the Monaco source reads: the RT Plan source's rows and beams."""
    rows, beams, _ = rows_from_dataset(load(plan), str(plan))
    table = ParamTable()
    table.extend(rows)
    table.deliveries.update({("rtplan", label): d for label, d in beams.items()})
    return table


def test_source_reads_newest_or_named_plan(tmp_path: Path) -> None:
    _tree(tmp_path)
    config = Config(monaco_dir=tmp_path)
    newest = read(Request("MVISO", None, config, collected_rtplan(VMAT)))
    assert newest is not None and not newest.warnings
    labels = {r.value for r in newest.rows if r.param == "plan_label"}
    assert labels == {"NEWPLAN"} and set(newest.deliveries) == {"1-1", "1-2"}
    named = read(Request("MVISO", "oldplan", config))
    assert {r.value for r in named.rows if r.param == "plan_label"} == {"OLDPLAN"}
    missing = read(Request("MVISO", "NOPLAN", config))
    assert not missing.rows and "NEWPLAN" in missing.warnings[0]
    assert "no Monaco plan" in read(Request("NOBODY", None, config)).warnings[0]
    assert read(Request("MVISO", None, Config())) is None
    with pytest.raises(SourceError, match="FocalData folder not found"):
        read(Request("MVISO", None, Config(monaco_dir=tmp_path / "absent")))


@pytest.mark.parametrize("plan", [VMAT, PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"], ids=lambda p: p.name)
def test_source_rows_agree_with_the_rt_plan(plan: Path, tmp_path: Path) -> None:
    focaldata_from_rtplan(plan, tmp_path)
    ds = pydicom.dcmread(plan, force=True)
    reading = read(Request(str(ds.PatientID), None, Config(monaco_dir=tmp_path), collected_rtplan(plan)))
    table = ParamTable()
    table.extend(reading.rows)  # validates every row against the vocabulary
    rt_rows, rt_deliveries, _ = rows_from_dataset(load(plan), str(plan))
    rt = {(r.beam, r.param): r.value for r in rt_rows}
    compared = 0
    for row in reading.rows:
        if row.scope == "beam":
            expected = rt[(row.beam, row.param)]
            if isinstance(expected, float):
                assert row.value == pytest.approx(expected, abs=1e-3), (row.beam, row.param)
            else:
                assert row.value == expected, (row.beam, row.param)
            compared += 1
    assert compared == 9 * len(rt_deliveries)
    assert all("in plan order" in row.provenance for row in reading.rows if row.scope == "beam")
    assert table.value("beam_count", source="monaco_tel") == rt[("", "beam_count")]
    assert table.value("patient_name", source="monaco_tel") == rt[("", "patient_name")]


def test_tel_takes_beam_names_from_the_rt_plan_in_its_folder(tmp_path: Path) -> None:
    tel = focaldata_from_rtplan(VMAT, tmp_path)
    config = Config(monaco_dir=tmp_path)
    unnamed = read(Request("MVISO", None, config))
    assert set(unnamed.deliveries) == {"tel.1 beam 1", "tel.1 beam 2"}
    assert len(unnamed.warnings) == 2 and "no plan to match it to" in unnamed.warnings[0] and f"{tel} line 1:" in unnamed.warnings[0]
    shutil.copy(VMAT, tel.parent / "RP.vmat.dcm")
    named = read(Request("MVISO", None, config))
    assert set(named.deliveries) == {"1-1", "1-2"} and not named.warnings
    assert all("of RT Plan RP.vmat.dcm in the plan folder in plan order" in r.provenance for r in named.rows if r.scope == "beam")


# ---- the demo clinic: a tel.1 with or without plancheck's comment lines reads the same ----------
def _monaco_rows(config: Config, patient_id: str) -> tuple[set[tuple], list[str]]:
    from plancheck.collector import collect

    table = collect(patient_id, None, config, only=("mosaiq", "rtplan", "monaco_tel"))
    assert "monaco_tel" not in table.source_errors, table.source_errors
    rows = {(r.scope, r.beam, r.param, r.value, r.unit, r.provenance) for r in table.select(source="monaco_tel")}
    return rows, [w for w in table.warnings if w.startswith("monaco_tel:")]


def test_every_demo_patient_reads_the_same_with_or_without_comment_lines(demo_clinic, tmp_path: Path) -> None:
    import dataclasses

    clinic, config = demo_clinic
    copies = {}
    for annotate in (True, False):
        root = shutil.copytree(config.monaco_dir, tmp_path / f"annotate-{annotate}")
        for tel in root.rglob("*tel.1"):
            patient_id = tel.parents[2].name.rpartition("~")[2]
            tel_from_rtplan(clinic.rt_plans[patient_id], tel, annotate=annotate)
            assert ("# beam:" in tel.read_text()) is annotate
        copies[annotate] = dataclasses.replace(config, monaco_dir=root)
    assert len(clinic.rt_plans) >= 4
    for patient_id, rt_plan in clinic.rt_plans.items():
        with_lines, warned = _monaco_rows(copies[True], patient_id)
        without, warned_without = _monaco_rows(copies[False], patient_id)
        assert {r[:5] for r in with_lines} == {r[:5] for r in without}, patient_id
        assert not warned and not warned_without, patient_id
        # and they are the RT Plan's beams, under its labels, with its values
        rt_rows, rt_beams, _ = rows_from_dataset(load(rt_plan), str(rt_plan))
        rt = {(r.beam, r.param): r.value for r in rt_rows}
        beam_rows = [r for r in without if r[0] == "beam"]
        assert {r[1] for r in beam_rows} == set(rt_beams), patient_id
        for _, beam, param, value, _, provenance in beam_rows:
            assert value == (pytest.approx(rt[(beam, param)], abs=1e-3) if isinstance(value, float) else rt[(beam, param)]), (patient_id, beam, param)
            assert "of rtplan in plan order" in provenance


def test_static_beams_out_of_plan_order_are_matched_by_their_shape(tmp_path: Path) -> None:
    """Ten static fields with the same gantry and control-point count: only jaws and leaves tell them apart."""
    beams = beams_of(PMP / "tests/dicom/data/rtplan/06MV_plan.dcm")
    reordered = dict(reversed(beams.items()))
    back = matched(write_tel(reordered, tmp_path / "tel.1"), beams)
    assert set(back) == set(beams)
    for label, delivery in back.items():
        assert delivery.allclose(beams[label], atol=1e-6), label


def test_deliveries_lists_the_tel_beams_with_their_match(demo_clinic, tmp_path: Path) -> None:
    import dataclasses

    from rich.console import Console
    from typer.testing import CliRunner

    from plancheck.cli.deliveries import _tel_beams
    from plancheck.cli.main import app
    from plancheck.collector import collect

    clinic, config = demo_clinic
    shown = CliRunner().invoke(app, ["deliveries", "015112", "--config", str(clinic.database.parent / "plancheck.toml")])
    assert "tel.1 beams" in shown.output and "matched to beam 1-2 of rtplan in plan order" in shown.output, shown.output
    # twins written out of plan order: named ambiguous, with the candidates, in the listing and in the warnings
    root = shutil.copytree(config.monaco_dir, tmp_path / "FocalData")
    (tel,) = root.glob("*/*/*~015112/plan/*/tel.1")
    arc1, arc2 = beams_of(clinic.rt_plans["015112"]).values()
    write_tel({"a": arc2, "b": arc1, "c": arc2}, tel)
    table = collect("015112", None, dataclasses.replace(config, monaco_dir=root), only=("mosaiq", "rtplan", "monaco_tel"))
    console = Console(width=250, record=True)
    console.print(_tel_beams(table))
    text = console.export_text()
    assert "ambiguous: beam 1-2 of rtplan fits tel.1 beams 1, 3 alike" in text
    assert "matched to beam 1-1 of rtplan by MU and shape" in text and "not in plan order" in text
    assert sum("tel.1 beam" in w and "ambiguous" in w for w in table.warnings) == 2
    assert set(table.deliveries_of("monaco_tel")) == {"tel.1 beam 1", "1-1", "tel.1 beam 3"}
