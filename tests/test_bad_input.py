"""Bad input never passes silently and one bad file never loses its source (issue 11, items 2, 3 and 7).

Every case starts from a real file (pymedphys' RT Plans, TRFs from plancheck's writer
following them) and breaks it the way the issue found it broken.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pymedphys
import pytest
from typer.testing import CliRunner

from plancheck import deliveries
from plancheck.cli.main import app
from plancheck.collector import collect
from plancheck.config import Config, Machine
from plancheck.errors import PlancheckError, SourceError
from plancheck.sources import Reading, Request, rtplan, trf
from plancheck.fabricate.focaldata import focaldata_from_rtplan
from plancheck.fabricate.trf import indexed_trf_path, trf_from_delivery
from plancheck.table import ParamTable

PMP = Path(pymedphys.__file__).parent
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
STATIC = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"
runner = CliRunner()


def plan_copy(folder: Path, edit: Callable[[pydicom.Dataset], None] | None = None, source: Path = VMAT) -> tuple[Path, str]:
    """The real plan, edited, saved as the only RT Plan of its patient below ``folder``: (file, patient ID)."""
    ds = pydicom.dcmread(source, force=True)
    if edit:
        edit(ds)
    patient_id = str(ds.PatientID)
    path = folder / patient_id / "RP.plan.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=False)
    return path, patient_id


def read_plan(folder: Path, patient_id: str) -> tuple[dict[tuple[str, str], Any], list[str], Reading]:
    reading = rtplan.read(Request(patient_id, None, Config(dicom_dir=folder)))
    assert reading is not None
    ParamTable().extend(reading.rows)  # every row fits the schema
    return {(r.beam, r.param): r.value for r in reading.rows}, reading.warnings, reading


# ---- RT Plan: what is wrong is named, the rest is read ---------------------------------------
def _zero_fractions(ds: pydicom.Dataset) -> None:
    ds.FractionGroupSequence[0].NumberOfFractionsPlanned = 0


def test_zero_fractions_keeps_beams_and_names_the_element(tmp_path: Path) -> None:
    _, pid = plan_copy(tmp_path, _zero_fractions)
    values, warnings, reading = read_plan(tmp_path, pid)
    assert values[("", "fractions")] == 0 and ("", "dose_per_fraction_cgy") not in values
    assert values[("1-1", "mu")] > 0 and set(reading.deliveries) == {"1-1", "1-2"}
    assert any("NumberOfFractionsPlanned is 0" in w for w in warnings)


def test_no_fraction_group_keeps_beams_and_says_what_was_not_read(tmp_path: Path) -> None:
    _, pid = plan_copy(tmp_path, lambda ds: delattr(ds, "FractionGroupSequence"))
    values, warnings, _ = read_plan(tmp_path, pid)
    assert values[("1-1", "gantry_start")] is not None and ("1-1", "mu") not in values and ("", "fractions") not in values
    assert any("no FractionGroupSequence" in w and "MU" in w for w in warnings)


@pytest.mark.parametrize(("edit", "named"), [
    (lambda ds: delattr(ds.BeamSequence[0], "BeamNumber"), "BeamNumber"),
    (lambda ds: delattr(ds.BeamSequence[0].ControlPointSequence[0], "GantryAngle"), "GantryAngle"),
    (lambda ds: setattr(ds.BeamSequence[0].ControlPointSequence[0], "GantryAngle", "nan"), "GantryAngle"),
    (lambda ds: setattr(ds.BeamSequence[0], "FinalCumulativeMetersetWeight", 0), "FinalCumulativeMetersetWeight"),
    (lambda ds: setattr(ds.FractionGroupSequence[0].ReferencedBeamSequence[0], "BeamMeterset", "1e400"), "BeamMeterset"),
    (lambda ds: delattr(ds.BeamSequence[0], "ControlPointSequence"), "no control points"),
])
def test_one_bad_beam_is_named_and_the_other_kept(tmp_path: Path, edit: Callable[[pydicom.Dataset], None], named: str) -> None:
    _, pid = plan_copy(tmp_path, edit)
    values, warnings, reading = read_plan(tmp_path, pid)
    assert "1-2" in reading.deliveries and values[("1-2", "mu")] > 0
    assert any(named in w for w in warnings), warnings


def test_plan_without_beams_names_it(tmp_path: Path) -> None:
    _, pid = plan_copy(tmp_path, lambda ds: delattr(ds, "BeamSequence"))
    values, warnings, _ = read_plan(tmp_path, pid)
    assert values[("", "beam_count")] == 0 and any("no BeamSequence" in w for w in warnings)


def _limited(func: Callable[[], object], memory_gib: float = 3.0) -> str:
    """Run ``func`` in a forked child under RLIMIT_AS: 'ok', 'typed' or the untyped exception's name."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        outcome = "untyped"
        try:
            resource.setrlimit(resource.RLIMIT_AS, (int(memory_gib * 2**30),) * 2)
            func()
            outcome = "ok"
        except PlancheckError:
            outcome = "typed"
        except BaseException as exc:  # report what escaped
            outcome = type(exc).__name__
        finally:
            os.write(write_fd, outcome.encode())
            os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    result = os.read(read_fd, 200).decode()
    os.close(read_fd)
    return result


def _read_plan_file(path: Path) -> object:
    return rtplan.rows_from_dataset(rtplan.load(path), str(path))


def test_garbage_prefix_never_asks_for_gigabytes(tmp_path: Path) -> None:
    """pydicom read a 70 KB plan with a garbage prefix as lengths of 3-5 GiB: bounded by the file now."""
    data = VMAT.read_bytes()
    outcomes = []
    for seed in range(40):
        rng = random.Random(seed)
        path = tmp_path / f"{seed}.dcm"
        path.write_bytes(rng.randbytes(rng.randint(1, 200)) + data)
        outcomes.append(_limited(functools.partial(_read_plan_file, path)))
    assert set(outcomes) <= {"ok", "typed"}, outcomes


def test_oversized_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtplan, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SourceError, match="too large for an RT Plan"):
        rtplan.load(VMAT)


# ---- a plan source that vanished ------------------------------------------------------------
def _two_sources(tmp_path: Path) -> tuple[Path, Path, str]:
    dicom = tmp_path / "dicom"
    path, pid = plan_copy(dicom)
    focaldata_from_rtplan(path, tmp_path / "FocalData")
    config = tmp_path / "plancheck.toml"
    config.write_text('[folders]\ndicom = "dicom"\nmonaco = "FocalData"\noutput = "results"\n', encoding="utf-8")
    return config, path, pid


def test_emptied_rt_plan_is_named_and_the_check_cannot_pass(tmp_path: Path) -> None:
    config, path, pid = _two_sources(tmp_path)
    before = runner.invoke(app, ["check", pid, "--config", str(config)])
    assert "INCOMPLETE" not in before.output and "Source error" not in before.output
    path.write_bytes(b"")  # `: > RP.plan.dcm`
    after = runner.invoke(app, ["check", pid, "--config", str(config)])
    assert after.exit_code == 1, after.output
    assert "PASS: every automatic check passed" not in after.output
    assert "INCOMPLETE: 1 source not read (rtplan)" in after.output and "RP.plan.dcm" in after.output
    saved = next((tmp_path / "results").rglob("*.json")).read_text(encoding="utf-8")
    assert "RP.plan.dcm" in saved and '"rtplan"' in saved


def test_removed_rt_plan_is_a_source_error(tmp_path: Path) -> None:
    _, path, pid = _two_sources(tmp_path)
    path.unlink()
    table = collect(pid, None, Config(dicom_dir=tmp_path / "dicom", monaco_dir=tmp_path / "FocalData"))
    assert "holds nothing for patient" in table.source_errors["rtplan"]


def test_emptied_icom_archive_is_named_in_the_run(tmp_path: Path) -> None:
    """The iCOM reader names the archive (its own tests); the run names the source that held nothing, in every view."""
    config, _, pid = _two_sources(tmp_path)
    (tmp_path / "icom" / "patients" / f"{pid}_X").mkdir(parents=True)
    (tmp_path / "icom" / "patients" / f"{pid}_X" / "20240101_090000.xz").write_bytes(b"")  # an emptied archive
    config.write_text(config.read_text(encoding="utf-8") + 'icom = "icom"\n', encoding="utf-8")
    table = collect(pid, None, Config(dicom_dir=tmp_path / "dicom", icom_dir=tmp_path / "icom"))
    assert "icom" not in table.source_errors  # no delivery may be due yet: a warning, not a failed run
    assert f"icom: configured, but holds nothing for patient {pid} (plan AVMATNEWSPLIT)" in table.warnings
    result = runner.invoke(app, ["check", pid, "--config", str(config), "--format", "json"])
    assert "icom: configured, but holds nothing" in result.output


def test_deliveries_with_a_mistyped_icom_folder_is_an_error(tmp_path: Path) -> None:
    config, _, pid = _two_sources(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + 'icom = "icomm"\n', encoding="utf-8")
    result = runner.invoke(app, ["deliveries", pid, "--config", str(config)])
    assert result.exit_code == 2 and "icomm" in result.output and "0 deliveries" not in result.output
    no_icom = tmp_path / "no-icom.toml"
    no_icom.write_text('[folders]\ndicom = "dicom"\n', encoding="utf-8")
    result = runner.invoke(app, ["deliveries", pid, "--config", str(no_icom)])
    assert result.exit_code == 2 and "[folders] icom" in result.output


# ---- TRF: one bad file never loses the others --------------------------------------------------
def _trf_pair(root: Path) -> tuple[Path, Path]:
    paths = []
    for label, beam in (("1-1", "10x10"), ("1-2", "05x05")):
        delivery = deliveries.from_dicom(STATIC, beam=beam)
        delivery = delivery.replace(mu=delivery.mu * 40.0 / delivery.total_mu)
        path = indexed_trf_path(root, "P1", "A", "B", label, beam, dt.datetime(2024, 1, 2, 9), "2619")
        paths.append(trf_from_delivery(delivery, path, machine=Machine("2619"), field_label=label))
    return paths[0], paths[1]


def _flip_item_code(data: bytearray) -> None:
    """Bit 1 of the collimator column's item code (2225 -> 2227): the table has no collimator column (KeyError before)."""
    collimator = np.array([2225, 129], "<i2").tobytes()
    data[data.index(collimator)] ^= 0b10


def _flip_date(data: bytearray) -> None:
    """Bit 1 of the header's date text ("24/..." -> "26/..." is fine, "/" -> "-" is not: ValueError before)."""
    data[3] ^= 0b10


@pytest.mark.parametrize("flip", [_flip_item_code, _flip_date])
def test_trf_with_a_flipped_header_bit_keeps_the_other_trf(tmp_path: Path, flip: Callable[[bytearray], None]) -> None:
    bad, _ = _trf_pair(tmp_path)
    data = bytearray(bad.read_bytes())
    flip(data)
    bad.write_bytes(bytes(data))
    reading = trf.read(Request("P1", None, Config(trf_dir=tmp_path)))
    assert reading is not None and set(reading.deliveries) == {"1-2"}
    assert len(reading.warnings) == 1 and str(bad) in reading.warnings[0]
    ParamTable().extend(reading.rows)


def test_trf_with_no_field_name_is_named(tmp_path: Path) -> None:
    bad, _ = _trf_pair(tmp_path)
    data = bad.read_bytes()  # length-prefixed texts: date, UTC offset, then the field "label/name"
    at = 1 + data[0] + 1 + data[1 + data[0]]
    assert data[at + 1:at + 1 + data[at]] == b"1-1/1-1"
    bad.write_bytes(data[:at] + b"\x00" + data[at + 1 + data[at]:])
    reading = trf.read(Request("P1", None, Config(trf_dir=tmp_path)))
    assert reading is not None and set(reading.deliveries) == {"1-2"} and "header" in reading.warnings[0]


def test_an_unreachable_mosaiq_is_named_and_the_folder_sources_still_run(demo_clinic) -> None:
    """A MOSAIQ server that refuses the connection (a closed port on loopback, pymssql for real): one
    clear line for MOSAIQ and for the sources that find their files through it; DICOM and the rest still read."""
    from dataclasses import replace

    from plancheck.collector import collect

    _clinic, cfg = demo_clinic
    table = collect("015112", None, replace(cfg, mosaiq_url="mssql+pymssql://u@127.0.0.1:1/MOSAIQ", mosaiq_timeout_s=2))
    mosaiq = table.source_errors["mosaiq"]
    assert mosaiq.startswith("mssql+pymssql://u@127.0.0.1:1/MOSAIQ: cannot reach MOSAIQ (Unable to connect")
    assert "unexpected" not in mosaiq and "b'" not in mosaiq and "\n" not in mosaiq
    assert table.source_errors["plan_pdf"].startswith("mssql+pymssql://u@127.0.0.1:1/MOSAIQ: MOSAIQ's documents could not be searched: cannot reach MOSAIQ")
    assert {"rtplan", "monaco_tel", "icom"} <= set(table.sources) and not {"rtplan", "monaco_tel", "icom"} & set(table.source_errors)
    # with a plain PDF folder as well, the plan and second-check PDFs are still read from it, and the run says from where
    table = collect("015112", None, replace(cfg, mosaiq_url="mssql+pymssql://u@127.0.0.1:1/MOSAIQ", mosaiq_timeout_s=2, pdf_dir=cfg.documents_dir))
    assert {"plan_pdf", "second_check"} <= set(table.sources) and not {"plan_pdf", "second_check"} & set(table.source_errors)
    said = [w for w in table.warnings if w.startswith("plan_pdf: ")]
    assert len(said) == 1 and said[0].endswith("; read from the other document folders")
    assert said[0].startswith("plan_pdf: mssql+pymssql://u@127.0.0.1:1/MOSAIQ: MOSAIQ's documents could not be searched: cannot reach MOSAIQ (")
