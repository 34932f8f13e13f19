"""Fuzz tests owned by the project: mutated real files through each reader end in rows or a typed error (issue 11, item 8).

A fixed, derandomised budget per reader keeps CI short; ``benchmarks/fuzz.py`` runs the
long campaign with time and memory limits per input. Seeds are real files: pymedphys'
RT Plans, and the TRF, tel.1 and PDF that plancheck's writers make from them.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import pymedphys
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plancheck import deliveries
from plancheck.config import Config, Machine
from plancheck.delivery import Delivery
from plancheck.errors import PlancheckError
from plancheck.sources import Reading, Request, rtplan, trf
from plancheck.sources.monaco.telfile import read_tel
from plancheck.fabricate.focaldata import tel_from_rtplan
from plancheck.sources.monaco.reader import beam_rows
from plancheck.sources.pdfplan.parse import parse_file
from plancheck.sources.pdfplan.source import rows_from_parsed
from plancheck.sources.pdfplan.template import load_templates
from plancheck.fabricate.pdf import write_plan_pdf
from plancheck.fabricate.trf import indexed_trf_path, trf_from_delivery
from plancheck.table import Param, ParamTable

PMP = Path(pymedphys.__file__).parent
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
STATIC = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"
_SEEDS = tempfile.TemporaryDirectory(prefix="plancheck-fuzz-seeds-")  # removed when the test session ends
SEEDS_DIR = Path(_SEEDS.name)
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


# ---- seeds: real files, made once --------------------------------------------------------------
@functools.cache
def plan_seeds() -> tuple[bytes, ...]:
    return VMAT.read_bytes(), STATIC.read_bytes()


def _small(plan: Path, beam: str, mu: float = 10.0) -> Delivery:
    delivery = deliveries.from_dicom(plan, beam=beam)
    return delivery.replace(mu=delivery.mu * mu / delivery.total_mu)


@functools.cache
def trf_seeds() -> tuple[bytes, ...]:
    out = []
    for plan, beam, version in ((STATIC, "10x10", 4), (VMAT, "1-1", 3), (STATIC, "05x05", 1)):
        path = trf_from_delivery(_small(plan, beam), SEEDS_DIR / f"{beam}-{version}.trf", machine=Machine("2619"), field_label="1-1", version=version)
        out.append(path.read_bytes())
    return tuple(out)


@functools.cache
def good_trf() -> bytes:
    path = trf_from_delivery(_small(STATIC, "20x20"), SEEDS_DIR / "good.trf", machine=Machine("2619"), field_label="1-2")
    return path.read_bytes()


@functools.cache
def tel_seeds() -> tuple[bytes, ...]:
    return tuple(tel_from_rtplan(plan, SEEDS_DIR / f"{plan.stem}.tel.1").read_bytes() for plan in (VMAT, STATIC))


@functools.cache
def pdf_seeds() -> tuple[bytes, ...]:
    rows, _, _ = rtplan.rows_from_dataset(rtplan.load(VMAT), str(VMAT))
    return tuple(write_plan_pdf(vendor, rows, SEEDS_DIR / f"{vendor}.pdf").path.read_bytes() for vendor in ("monaco", "radcalc"))


# ---- mutations ---------------------------------------------------------------------------------------
@st.composite
def mutated(draw: st.DrawFn, seeds: Callable[[], tuple[bytes, ...]]) -> bytes:
    """1-4 edits of a seed: bit flips, overwritten runs, huge 32-bit lengths, cuts, inserted runs, a garbage prefix."""
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "overwrite", "length", "cut", "insert", "prefix"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite":
            data[at:at + 8] = draw(st.binary(min_size=1, max_size=8))
        elif op == "length":
            data[at:at + 4] = draw(st.sampled_from([0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFF0])).to_bytes(4, "little")
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 300))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"\x00", b"nan", b"1e400", b"[", b"\xff\xfe", b"9" * 300, b"#" * 40]))
        else:
            data[:0] = draw(st.binary(min_size=1, max_size=200))
    return bytes(data)


def rows_or_typed_error(read: Callable[[], list[Param]]) -> None:
    """The reader gives rows that fit the table, or raises one of plancheck's typed errors: nothing else."""
    try:
        rows = read()
    except PlancheckError:
        return
    ParamTable().extend(rows)


def read_as_file(data: bytes, name: str, read: Callable[[Path], list[Param]]) -> None:
    """``data`` saved as file ``name`` and read by ``read``: rows or a typed error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        rows_or_typed_error(functools.partial(read, path))


def _plan_file_rows(path: Path) -> list[Param]:
    return rtplan.rows_from_dataset(rtplan.load(path), str(path))[0]


def _tel_rows(path: Path) -> list[Param]:
    return [row for beam in read_tel(path).beams for row in beam_rows(beam, beam.label or "1", str(path))]


def _pdf_rows(path: Path) -> list[Param]:
    return rows_from_parsed(parse_file(path, load_templates()))


# ---- one fuzz test per reader --------------------------------------------------------------------
@settings(FUZZ, max_examples=100)
@given(data=mutated(plan_seeds))
def test_fuzz_rtplan(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dicom" / "P"
        folder.mkdir(parents=True)
        (folder / "RP.dcm").write_bytes(data)
        config = Config(dicom_dir=folder.parent)
        for patient_id in ("MVISO", "60x60x60", "P"):  # the seeds' patients, and one no seed names
            rows_or_typed_error(functools.partial(_rtplan_rows, Request(patient_id, None, config)))


def _rtplan_rows(request: Request) -> list[Param]:
    return (rtplan.read(request) or Reading()).rows


@settings(FUZZ, max_examples=20)
@given(data=mutated(trf_seeds))
def test_fuzz_trf_keeps_the_good_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        when = dt.datetime(2024, 1, 2, 9)
        for content, label in ((data, "1-1"), (good_trf(), "1-2")):
            path = indexed_trf_path(tmp, "P1", "A", "B", label, "x", when, "2619")
            path.parent.mkdir(parents=True)
            path.write_bytes(content)
        reading = trf.read(Request("P1", None, Config(trf_dir=Path(tmp))))
        assert reading is not None and "1-2" in reading.deliveries
        ParamTable().extend(reading.rows)


@pytest.mark.parametrize(("seeds", "name", "read"), [
    (plan_seeds, "RP.dcm", _plan_file_rows),
    (tel_seeds, "tel.1", _tel_rows),
    (pdf_seeds, "report.pdf", _pdf_rows),
], ids=["rtplan-file", "tel", "pdf"])
@settings(FUZZ, max_examples=60)
@given(draw=st.data())
def test_fuzz_file_readers(seeds: Callable[[], tuple[bytes, ...]], name: str, read: Callable[[Path], list[Param]], draw: st.DataObject) -> None:
    read_as_file(draw.draw(mutated(seeds)), name, read)
