"""TRF: files from our writer decoded by pymedphys, the source's rows, and malformed files."""

from __future__ import annotations

import datetime as dt
import json
import struct
import warnings
from pathlib import Path

import numpy as np
import pymedphys
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plancheck import deliveries
from plancheck.config import Config, Machine
from plancheck.delivery import Delivery
from plancheck.delivery.timing import beam_timing
from plancheck.errors import SourceError
from plancheck.sources import Request, trf
from plancheck.fabricate.trf import COLUMNS, MLC_STATUS, TrfHeader, indexed_trf_path, trf_from_delivery, write_trf
from plancheck.table import ParamTable

PMP = Path(pymedphys.__file__).parent
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
AGILITY = Machine("2619")


def pmp_delivery(path: Path) -> Delivery:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Delivery.from_pymedphys(pymedphys.Delivery.from_trf(path))


def test_column_codes_are_pymedphys_names() -> None:
    names = json.loads((PMP / "_trf/decode/config.json").read_text())["item_part_names"]
    for column in (*COLUMNS, MLC_STATUS):
        assert names[f"{column.item}_{column.part}"] == column.name


# ---- any table survives the round trip through pymedphys' decoder ---------------------
@st.composite
def tables(draw: st.DrawFn) -> tuple[int, dict[str, np.ndarray]]:
    version = draw(st.sampled_from([1, 2, 3, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = draw(st.integers(1, 12))
    tenths = lambda low, high: rng.integers(low * 10, high * 10, rows) / 10.0  # noqa: E731
    table = {c.name: tenths(-180, 180) for c in COLUMNS if abs(c.scale) == 10.0}
    table["Step Dose/Actual Value (Mu)"] = np.sort(tenths(0, 3000))
    table["Dose/Raw value (1/64th Mu)"] = np.zeros(rows)
    table["Table Isocentric/Scaled Actual (deg)"] = np.zeros(rows)
    table["Linac State/Actual Value (None)"] = rng.choice([39, 40, 41, 42, 46], rows).astype(float)
    table["Wedge Position/Actual Value (None)"] = rng.choice([0, 1, 2], rows).astype(float)
    table["Actual Dose Rate/Actual Value (Mu/min)"] = rng.integers(0, 600, rows).astype(float)
    table["Control point/Actual Value (None)"] = np.arange(rows, dtype=float)
    return version, table


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=tables())
def test_any_table_round_trips(case: tuple[int, dict[str, np.ndarray]], tmp_path: Path) -> None:
    version, table = case
    header = TrfHeader("2619", "1-1", "AP G0", 123.4, dt.datetime(2023, 5, 6, 7, 8, 9), "+10:00", version)
    path = write_trf(tmp_path / "x.trf", header, table)
    head, decoded = pymedphys.trf.read(path)
    assert head["version"].iloc[0] == version and head["field_label"].iloc[0] == "1-1" and head["field_name"].iloc[0] == "AP G0"
    assert head["machine"].iloc[0] == "2619" and head["timezone"].iloc[0] == "+10:00" and head["date"].iloc[0] == "23/05/06 07:08:09 Z"
    for name, values in table.items():
        if name in ("Linac State/Actual Value (None)", "Wedge Position/Actual Value (None)", "Table Isocentric/Scaled Actual (deg)", "Dose/Raw value (1/64th Mu)"):
            continue
        np.testing.assert_allclose(decoded[name].to_numpy(dtype=float), values, atol=1e-9, err_msg=name)
    states = {39: "Move Only", 40: "Pause", 41: "Intersegment", 42: "Radiation On", 46: "Terminated Ok"}
    assert list(decoded["Linac State/Actual Value (None)"]) == [states[int(s)] for s in table["Linac State/Actual Value (None)"]]


@pytest.mark.parametrize("mu", [157.238693, 100.0, 0.1 + 0.2, 158.782211])
def test_header_mu_survives_pymedphys_header_pattern(mu: float, tmp_path: Path) -> None:
    """0.3 and 158.782211 start with a printable byte, which pymedphys would read as part of the machine name."""
    header = TrfHeader("M1", "1-1", "name", mu)
    path = write_trf(tmp_path / "x.trf", header, {"Step Dose/Actual Value (Mu)": np.zeros(2)})
    head, _ = pymedphys.trf.read(path)
    assert head["machine"].iloc[0] == "M1"
    assert head["mu"].iloc[0] == pytest.approx(mu, rel=1e-10)


# ---- a delivery logged along the delivery-time model ---------------------------------------
@pytest.mark.parametrize("version", [1, 3, 4])
def test_trf_from_delivery_reads_back(version: int, tmp_path: Path) -> None:
    planned = deliveries.from_dicom(VMAT, beam="1-1")
    path = trf_from_delivery(planned, tmp_path / "b.trf", machine=AGILITY, field_label="1-1", field_name="G090", version=version)
    theirs = pmp_delivery(path)
    ours = deliveries.from_trf(path)
    assert ours.allclose(theirs, atol=0)
    assert theirs.total_mu == pytest.approx(planned.total_mu, abs=0.05)
    assert theirs.gantry[0] == pytest.approx(planned.gantry[0], abs=0.05) and theirs.gantry[-1] == pytest.approx(planned.gantry[-1], abs=0.05)
    np.testing.assert_allclose(theirs.mlc[-1], planned.mlc[-1], atol=0.05)
    np.testing.assert_allclose(theirs.jaw[0], planned.jaw[0], atol=0.05)
    log = trf.read_trf(path)
    assert log.beam_on_time_s == pytest.approx(beam_timing(planned, AGILITY).beam_on_time_s, abs=0.041)


def test_rows_of_one_trf(tmp_path: Path) -> None:
    planned = deliveries.from_dicom(VMAT, beam="1-2")
    when = dt.datetime(2024, 3, 4, 22, 30)
    path = trf_from_delivery(planned, tmp_path / "b.trf", machine=AGILITY, field_label="1-2", field_name="G270", delivered_at_utc=when, utc_offset="+10:30")
    beam, delivery = trf.trf_rows(trf.read_trf(path))
    table = ParamTable()
    table.extend(beam + delivery)
    values = {r.param: r.value for r in beam}
    assert values["machine"] == "2619" and values["gantry_start"] == 270.0 and values["gantry_stop"] == 210.0
    assert values["gantry_direction"] == "CC" and values["mu"] == pytest.approx(158.8)
    assert {r.param: r.value for r in delivery}["delivered_at"] == "2024-03-05T09:00:00"


def test_source_reads_newest_delivery_per_beam(tmp_path: Path) -> None:
    for label in ("1-1", "1-2"):
        planned = deliveries.from_dicom(VMAT, beam=label)
        for day in (1, 2):
            when = dt.datetime(2024, 1, day, 9, 0)
            path = indexed_trf_path(tmp_path, "MVISO", "MV", "ISO", label, "G", when, "2619")
            scale = 1.0 if day == 2 else 0.5  # the first day was interrupted half way
            trf_from_delivery(planned.replace(mu=planned.mu * scale), path, machine=AGILITY, field_label=label, delivered_at_utc=when)
    broken = indexed_trf_path(tmp_path, "MVISO", "MV", "ISO", "1-1", "G", dt.datetime(2024, 1, 3), "2619")
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\x00garbage")
    reading = trf.read(Request("MVISO", None, Config(trf_dir=tmp_path)))
    assert set(reading.deliveries) == {"1-1", "1-2"}
    assert reading.deliveries["1-1"].total_mu == pytest.approx(157.2, abs=0.05)
    assert len([r for r in reading.rows if r.param == "delivered_mu"]) == 4
    assert len(reading.warnings) == 1 and str(broken) in reading.warnings[0]
    ParamTable().extend(reading.rows)
    assert trf.read(Request("MVISO", None, Config())) is None
    assert "no TRF files" in trf.read(Request("NOBODY", None, Config(trf_dir=tmp_path))).warnings[0]


# ---- malformed files -----------------------------------------------------------------
@pytest.fixture()
def good_trf(tmp_path: Path) -> Path:
    planned = deliveries.from_dicom(VMAT, beam="1-1")
    return trf_from_delivery(planned, tmp_path / "good.trf", machine=AGILITY, field_label="1-1")


def _error(path: Path) -> str:
    with pytest.raises(SourceError) as info:
        trf.read_trf(path)
    return info.value.message


def test_truncated_table_names_the_offset(good_trf: Path) -> None:
    data = good_trf.read_bytes()
    good_trf.write_bytes(data[:-5])
    message = _error(good_trf)
    assert str(good_trf) in message and f"truncated at offset {len(data) - 5}" in message and "row" in message


def test_truncated_header_is_a_source_error(good_trf: Path) -> None:
    good_trf.write_bytes(good_trf.read_bytes()[:60])
    assert "no complete TRF header at offset 0" in _error(good_trf)


def test_header_only_has_no_rows(good_trf: Path, tmp_path: Path) -> None:
    header = TrfHeader("2619", "1-1", "x", 1.0)
    full = write_trf(tmp_path / "one.trf", header, {"Step Dose/Actual Value (Mu)": np.zeros(1)}).read_bytes()
    row = 8 + 4 * len((*COLUMNS, MLC_STATUS))
    good_trf.write_bytes(full[:-row])
    assert "no table rows" in _error(good_trf)


def test_unknown_version_is_named(good_trf: Path) -> None:
    data = bytearray(good_trf.read_bytes())
    count = len(COLUMNS) + 1
    _, head = pymedphys.trf.read(good_trf)  # decodes before we break it
    header_length = len(data) - len(head) * (8 + 4 * count)
    at = header_length - 4 * count - 8
    assert struct.unpack_from("<i", data, at)[0] == 4
    struct.pack_into("<i", data, at, 7)
    good_trf.write_bytes(bytes(data))
    message = _error(good_trf)
    assert f"unknown TRF version 7 at offset {at}" in message


def test_not_a_trf(tmp_path: Path) -> None:
    path = tmp_path / "x.trf"
    path.write_bytes(b"hello world, not a log file")
    assert "no complete TRF header" in _error(path)
