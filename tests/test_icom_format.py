"""iCOM format: plancheck's writer read by pymedphys, plancheck's reader against pymedphys, damaged streams, the source."""

from __future__ import annotations

import datetime as dt
import lzma
import re
from pathlib import Path

import numpy as np
import pymedphys
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymedphys._icom import mappings

from plancheck import deliveries as loaders
from plancheck.config import Config
from plancheck.delivery import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Request
from plancheck.sources.icom import fields as F
from plancheck.sources.icom import source
from plancheck.sources.icom.deliveries import beam_on_time_s, relevant_control_points
from plancheck.sources.icom.reader import iter_items, message_starts, read_icom
from plancheck.fabricate.icom import encode_message, state_items, write_icom_stream

PMP = Path(pymedphys.__file__).parent
PLANS = [*sorted((PMP / "_experimental/serviceplans/templates").glob("*.dcm")), PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"]
START = dt.datetime(2024, 5, 1, 9, 0, 0)
PATIENT = dict(patient_id="015112", patient_name="DOE^JANE", machine="LINAC1", start=START)


def pymedphys_reads(stream: bytes) -> Delivery:
    return Delivery.from_pymedphys(pymedphys.Delivery.from_icom(stream))


def filtered(d: Delivery) -> Delivery:
    """The delivery as an iCOM reader gives it back: MU rises from 0, still control points dropped."""
    steps = np.concatenate([[0.0], np.clip(np.diff(d.mu), 0, None)])
    mu = np.cumsum(steps)
    keep = relevant_control_points(mu)
    return Delivery(mu[keep], d.gantry[keep], d.collimator[keep], d.mlc[keep], d.jaw[keep])


def test_field_table_matches_pymedphys_mappings() -> None:
    ours = {f.label: f for f in F.FIELDS}
    for label, (key, kind, where) in mappings.ICOM.items():
        assert re.fullmatch(key, ours[label].signature), label  # pymedphys' keys are regular expressions
        assert ours[label].type is kind, label
        assert ours[label].multiplicity == where, label
        assert ours[label].group.to_bytes(2, "little")[1:] in (b"0", b"\x00", b"p", b"P"), label


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_rtplan_streams_read_back_by_pymedphys_and_by_us(path: Path) -> None:
    from plancheck.sources.rtplan import load, rows_from_dataset

    _, beams, _ = rows_from_dataset(load(path), str(path))
    for label, delivery in beams.items():
        stream = write_icom_stream(delivery, field_id=label, **PATIENT)
        theirs = pymedphys_reads(stream)
        assert theirs.allclose(filtered(delivery), atol=1e-6), label
        assert loaders.from_icom(stream).allclose(theirs, atol=1e-9), label


finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    n = draw(st.integers(2, 8))
    steps = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 50.0, **finite)), min_size=n - 2, max_size=n - 2))
    first = draw(st.floats(0.01, 50.0, **finite))  # some MU is delivered
    mu = np.cumsum([0.0, first, *steps])
    gantry = draw(st.lists(st.floats(-179.99, 180.0, **finite), min_size=n, max_size=n))
    coll = draw(st.lists(st.floats(-179.99, 180.0, **finite), min_size=n, max_size=n))
    mlc = np.array(draw(st.lists(st.floats(-200.0, 200.0, **finite), min_size=n * 160, max_size=n * 160))).reshape(n, 80, 2)
    jaw = np.array(draw(st.lists(st.floats(-200.0, 200.0, **finite), min_size=2 * n, max_size=2 * n))).reshape(n, 2)
    return Delivery(mu, gantry, coll, mlc, jaw)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(deliveries())
def test_generated_deliveries_round_trip(delivery: Delivery) -> None:
    stream = write_icom_stream(delivery, **PATIENT)
    theirs = pymedphys_reads(stream)
    assert theirs.allclose(filtered(delivery), atol=1e-6)
    assert loaders.from_icom(stream).allclose(theirs, atol=1e-9)


def vmat() -> Delivery:
    return loaders.from_dicom(PMP / "_experimental/serviceplans/templates/vmat_example.dcm", "1-1")


def test_records_carry_patient_machine_field_energy_and_wrapping_counter() -> None:
    d = vmat()
    long = Delivery.merge(*[d] * 5)  # 315 messages: the counter wraps
    stream = write_icom_stream(long, field_id="1-1", energy="10FFF", rate_hz=4.0, first_counter=250, **PATIENT)
    records = read_icom(stream).records
    assert len(records) == len(long)
    first = records[0]
    assert (first.patient_id, first.patient_name, first.machine, first.field_id) == ("015112", "DOE, JANE", "LINAC1", "1-1")
    assert (first.energy, first.radiation_type) == ("10 MV FFF", "PHOTON")
    assert [r.counter for r in records[:8]] == [250, 251, 252, 253, 254, 255, 0, 1]
    assert records[4].timestamp == START + dt.timedelta(seconds=1)
    assert first.mlc.shape == (80, 2) and first.jaw.shape == (2,)
    assert np.allclose(first.mlc, long.mlc[0], atol=1e-6) and np.allclose(first.jaw, long.jaw[0], atol=1e-6)
    assert records[-1].mu == pytest.approx(long.mu[-1], abs=1e-6)
    assert first.total_mu == pytest.approx(long.mu[-1], abs=1e-6)


def test_to_icom_xz_and_from_icom_path(tmp_path: Path) -> None:
    d = vmat()
    path = loaders.to_icom(d, tmp_path / "beam.xz", field_id="1-1", **PATIENT)
    assert path.read_bytes().startswith(b"\xfd7zXZ")
    assert loaders.from_icom(path).allclose(filtered(d), atol=1e-6)
    assert loaders.from_icom(path).allclose(pymedphys_reads(lzma.decompress(path.read_bytes())), atol=1e-9)


def test_not_available_values_are_skipped_as_pymedphys_does() -> None:
    d = vmat()
    gantry = F.BY_NAME["gantry"]
    messages = []
    for i in range(3):
        items = [(F.BY_NAME["patient_id"], "015112"), (F.BY_NAME["mu"], f"{d.mu[i]:.7f}"), (gantry, F.NOT_AVAILABLE)]
        items += state_items(float(d.gantry[i]), float(d.collimator[i]), d.mlc[i], d.jaw[i], 7)
        messages.append(encode_message(START, i, items))
    stream = b"".join(messages)
    assert loaders.from_icom(stream).allclose(pymedphys_reads(stream), atol=1e-9)
    assert read_icom(stream).records[0].gantry == pytest.approx(d.gantry[0])


# ---- damaged streams ---------------------------------------------------------------


def stream_of(n: int = 6) -> bytes:
    d = vmat()
    return write_icom_stream(Delivery(d.mu[:n], d.gantry[:n], d.collimator[:n], d.mlc[:n], d.jaw[:n]), field_id="1-1", **PATIENT)


def test_truncated_stream_names_file_and_offset(tmp_path: Path) -> None:
    stream = stream_of()
    last = message_starts(stream)[-1]
    path = tmp_path / "cut.raw"
    path.write_bytes(stream[: last + 500])
    with pytest.raises(SourceError) as info:
        read_icom(path)
    assert "cut.raw byte" in info.value.message and "truncated" in info.value.message
    reading = read_icom(path, strict=False)
    assert len(reading.records) == 5 and f"message at byte {last}" in reading.issues[0].message


def test_stream_cut_at_an_item_boundary_is_caught_by_the_declared_length() -> None:
    stream = stream_of()
    last = message_starts(stream)[-1]
    offsets = [offset for offset, *_ in iter_items(stream, last + F.ITEMS_OFFSET, len(stream))]
    cut = stream[: offsets[-1]]  # the last jaw position item is gone, every item left is whole
    with pytest.raises(SourceError) as info:
        read_icom(cut)
    assert "truncated" in info.value.message and f"byte {len(cut)}" in info.value.message


def test_garbage_between_messages_is_a_recorded_skip() -> None:
    stream = stream_of()
    starts = message_starts(stream)
    garbage = bytes(range(200, 240)) * 3
    damaged = stream[: starts[2]] + garbage + stream[starts[2] :]
    reading = read_icom(damaged)
    assert len(reading.records) == 6
    assert len(reading.issues) == 1
    assert f"byte {starts[2]}" in reading.issues[0].message and "no iCOM item" in reading.issues[0].message
    assert loaders.from_icom(damaged).allclose(loaders.from_icom(stream), atol=1e-12)
    assert loaders.from_icom(damaged).allclose(pymedphys_reads(damaged), atol=1e-9)


def test_message_with_missing_mlc_items_names_offset() -> None:
    d = vmat()
    items = [(F.BY_NAME["patient_id"], "015112"), (F.BY_NAME["mu"], "1.0")]
    items += state_items(float(d.gantry[0]), float(d.collimator[0]), d.mlc[0], d.jaw[0], 7)
    device = items.index((F.DEVICE_TYPE, "MLCX"))
    del items[device + 1 : device + 11]  # ten leaf positions missing
    good = stream_of(2)
    bad = encode_message(START, 2, items)
    with pytest.raises(SourceError) as info:
        read_icom(good + bad)
    message = info.value.message
    assert "MLCX block has 150 of 160 positions" in message and f"message at byte {len(good)}" in message
    assert re.search(r"byte \d+", message)
    assert len(read_icom(good + bad, strict=False).records) == 2


def test_truncated_xz_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "20240501_090000.xz"
    packed = lzma.compress(stream_of(20), format=lzma.FORMAT_XZ)
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SourceError) as info:
        read_icom(path)
    assert f"20240501_090000.xz byte {len(packed) // 2}" in info.value.message and "truncated" in info.value.message
    partial = read_icom(path, strict=False)
    assert partial.issues and len(partial.records) < 20


def test_not_an_icom_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is no stream\n" * 5)
    with pytest.raises(SourceError, match="no iCOM message found"):
        read_icom(path)


# ---- the source ----------------------------------------------------------------


def archive(root: Path, d: Delivery, when: dt.datetime, field_id: str, **kw: object) -> Path:
    folder = root / "patients" / "015112_DOE, JANE"
    return loaders.to_icom(d, folder / f"{when:%Y%m%d_%H%M%S}.xz", patient_id="015112", patient_name="DOE^JANE", machine="LINAC1", start=when, field_id=field_id, **kw)


def partial_of(d: Delivery, fraction: float) -> Delivery:
    """The same beam stopped part way: the total MU stays the plan's (written from the full one)."""
    n = int(len(d) * fraction)
    return Delivery(d.mu[:n], d.gantry[:n], d.collimator[:n], d.mlc[:n], d.jaw[:n])


def test_source_rows_newest_per_field_every_delivery_listed(tmp_path: Path) -> None:
    d = vmat()
    day1, day2 = dt.datetime(2024, 5, 1, 9), dt.datetime(2024, 5, 2, 9)
    archive(tmp_path, d, day1, "1-1")
    archive(tmp_path, d, day2, "1-1")
    archive(tmp_path, d, day2 + dt.timedelta(minutes=5), "1-1")  # again the same day
    unreadable = tmp_path / "unknown_error_in_record" / "015112_DOE, JANE"
    unreadable.mkdir(parents=True)
    (unreadable / "20240502_091000.xz").write_bytes(lzma.compress(b"broken"))
    reading = source.read(Request("015112", None, Config(icom_dir=tmp_path)))
    assert reading is not None
    rows = {(r.scope, r.beam, r.item, r.param): r.value for r in reading.rows}
    assert rows[("beam", "1-1", "", "mu")] == pytest.approx(d.total_mu, abs=1e-3)
    assert rows[("beam", "1-1", "", "energy")] == "6X"
    assert rows[("beam", "1-1", "", "machine")] == "LINAC1"
    assert rows[("beam", "1-1", "", "gantry_start")] == pytest.approx(d.gantry[0] % 360, abs=0.01)
    assert rows[("beam", "1-1", "", "beam_on_time_s")] > 0
    assert rows[("patient", "", "", "patient_name")] == "DOE^JANE"
    delivered_at = sorted(v for (scope, _, _, p), v in rows.items() if scope == "delivery" and p == "delivered_at")
    assert delivered_at == ["2024-05-01T09:00:00", "2024-05-02T09:00:00", "2024-05-02T09:05:00"]
    newest = next(r for r in reading.rows if r.scope == "beam" and r.param == "mu")
    assert "20240502_090500.xz" in newest.provenance
    assert list(reading.deliveries) == ["1-1"] and reading.deliveries["1-1"].allclose(filtered(d), atol=1e-6)
    assert any("delivered 2 times on 2024-05-02" in w for w in reading.warnings)
    assert any("could not read" in w and "20240502_091000.xz" in w for w in reading.warnings)


def test_source_flags_partial_delivery_and_returns_none_without_folder(tmp_path: Path) -> None:
    d = vmat()
    full = write_icom_stream(d, field_id="1-1", **PATIENT)
    starts = message_starts(full)
    folder = tmp_path / "patients" / "015112_DOE, JANE"
    folder.mkdir(parents=True)
    (folder / "20240501_090000.xz").write_bytes(lzma.compress(full[: starts[30]]))
    reading = source.read(Request("015112", None, Config(icom_dir=tmp_path)))
    partial = [r for r in reading.rows if r.param == "partial"]
    assert partial and partial[0].value is True
    assert any("(partial)" in w for w in reading.warnings)
    assert source.read(Request("015112", None, Config())) is None
    with pytest.raises(SourceError, match="iCOM folder not found"):
        source.read(Request("015112", None, Config(icom_dir=tmp_path / "missing")))


def test_beam_on_time_counts_from_the_message_before_mu_rises() -> None:
    d = Delivery([0, 0, 0, 10, 20, 30, 30], [0] * 7, [0] * 7, np.zeros((7, 80, 2)), np.zeros((7, 2)))
    records = read_icom(write_icom_stream(d, rate_hz=1.0, **PATIENT)).records
    assert beam_on_time_s(records) == 3.0  # messages 2 to 5, one second apart
