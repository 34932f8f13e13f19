"""The DICOM RT Plan source against pymedphys on the RT Plans pymedphys ships."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pymedphys
import pytest

from plancheck import deliveries
from plancheck.delivery import Delivery
from plancheck.errors import SourceError
from plancheck.sources.rtplan import load, rows_from_dataset

PMP = Path(pymedphys.__file__).parent
PLANS = [*sorted((PMP / "_experimental/serviceplans/templates").glob("*.dcm")), PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"]


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_control_points_equal_pymedphys(path: Path) -> None:
    ours = deliveries.from_dicom(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymedphys.Delivery.from_dicom(pydicom.dcmread(path, force=True), fraction_group_number=1)
    assert ours.allclose(Delivery.from_pymedphys(theirs), atol=1e-6)


def test_rows_from_vmat_plan() -> None:
    rows, deliveries, warns = rows_from_dataset(load(PLANS[[p.name for p in PLANS].index("vmat_example.dcm")]), "vmat")
    values = {(r.beam, r.param): r.value for r in rows}
    assert values[("1-1", "energy")] == "6X"
    assert values[("1-1", "beam_type")] == "VMAT"
    assert values[("1-2", "gantry_direction")] == "CC"
    assert values[("", "fractions")] == 2
    assert abs(values[("1-1", "mu")] - 157.2387) < 1e-4
    assert set(deliveries) == {"1-1", "1-2"} and not warns


def test_unreadable_dicom_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(SourceError) as info:
        load(bad)
    assert "broken.dcm" in info.value.message
