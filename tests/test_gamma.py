"""Gamma against pymedphys.gamma on MU density maps: a plan against itself with one leaf pair shifted 1 mm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pymedphys
import pytest

import plancheck
from plancheck import deliveries
from plancheck.delivery import GridSpec
from plancheck.delivery.gamma import pass_rate
from plancheck.errors import AnalysisError

VMAT = Path(pymedphys.__file__).parent / "_experimental/serviceplans/templates/vmat_example.dcm"
SHIFTED_PAIR = 41  # a leaf pair inside the arc's field


@pytest.fixture(scope="module")
def maps() -> dict[str, Any]:
    plan = deliveries.from_dicom(VMAT)
    mlc = np.array(plan.mlc)
    mlc[:, SHIFTED_PAIR, 0] -= 1.0  # both leaves 1 mm towards +x: the opening moves, its width stays
    mlc[:, SHIFTED_PAIR, 1] += 1.0
    axes = GridSpec().axes()
    return {"axes": (axes["jaw"], axes["mlc"]), "plan": plan.mudensity(), "shifted": plan.replace(mlc=mlc).mudensity()}


def both(maps: dict[str, Any], **options: Any) -> tuple[np.ndarray, np.ndarray]:
    args = (maps["axes"], maps["plan"], maps["axes"], maps["shifted"])
    theirs = pymedphys.gamma(*args, interp_algo="scipy", **options)  # scipy: no JIT compile in the test run
    return plancheck.gamma(*args, **options), theirs


CASES = [
    {"dose_percent_threshold": 2, "distance_mm_threshold": 0.5, "local_gamma": True, "max_gamma": 2},
    {"dose_percent_threshold": 3, "distance_mm_threshold": 3},
    {"dose_percent_threshold": 1, "distance_mm_threshold": 1, "lower_percent_dose_cutoff": 50, "max_gamma": 1.5},
    {"dose_percent_threshold": 2, "distance_mm_threshold": 1, "lower_percent_dose_cutoff": 5, "local_gamma": True},
    {"dose_percent_threshold": 2, "distance_mm_threshold": 0.5, "local_gamma": True, "max_gamma": 2, "skip_once_passed": True},
    {"dose_percent_threshold": 1, "distance_mm_threshold": 0.5, "global_normalisation": 200.0, "interp_fraction": 5},
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_equals_pymedphys(maps: dict[str, Any], options: dict[str, Any]) -> None:
    ours, theirs = both(maps, **options)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert abs(pass_rate(ours) - pass_rate(theirs)) <= 0.1
    assert np.nanmax(np.abs(ours - theirs)) < 1e-6


def test_shifted_leaf_pair_fails_local_gamma_on_its_rows(maps: dict[str, Any]) -> None:
    ours, _ = both(maps, dose_percent_threshold=2, distance_mm_threshold=0.5, local_gamma=True, max_gamma=2)
    rows = np.nonzero(np.nan_to_num(ours) > 1)[0]
    assert len(rows) > 0 and pass_rate(ours) < 99
    leaf_rows = GridSpec().axes()["jaw"][rows]  # leaf pair 41 spans 5..10 mm in the jaw direction
    assert np.all((leaf_rows > 5 - 1.5) & (leaf_rows < 10 + 1.5))
    clean = plancheck.gamma(maps["axes"], maps["plan"], maps["axes"], maps["plan"], 2, 0.5, local_gamma=True, max_gamma=2)
    assert pass_rate(clean) == 100.0 and np.nanmax(clean) == 0.0


def test_one_and_three_dimensions_equal_pymedphys() -> None:
    x = np.arange(-20, 20.5, 0.5)
    ref = np.exp(-(x**2) / 100)
    args = ((x,), ref, (x,), np.roll(ref, 1) * 1.01, 2, 0.5)
    np.testing.assert_allclose(plancheck.gamma(*args, local_gamma=True), pymedphys.gamma(*args, local_gamma=True, interp_algo="scipy"), atol=1e-9)
    z, y = np.arange(-4, 4.5, 1.0), np.arange(-5, 5.5, 1.0)
    zz, yy, xx = np.meshgrid(z, y, x[::2], indexing="ij")
    cube = np.exp(-(xx**2 + yy**2 + zz**2) / 30)
    moved = np.exp(-((xx - 0.6) ** 2 + yy**2 + (zz + 0.3) ** 2) / 30) * 1.01
    axes = (z, y, x[::2])
    options = {"dose_percent_threshold": 2, "distance_mm_threshold": 1, "max_gamma": 1.5}
    np.testing.assert_allclose(plancheck.gamma(axes, cube, axes, moved, **options), pymedphys.gamma(axes, cube, axes, moved, interp_algo="scipy", **options), atol=1e-9)


def test_evaluation_on_another_grid(maps: dict[str, Any]) -> None:
    fine = deliveries.from_dicom(VMAT).mudensity(GridSpec(resolution_mm=0.5)) * 1.01
    axes = GridSpec(resolution_mm=0.5).axes()
    for evaluation_axes in ((axes["jaw"], axes["mlc"]), (axes["jaw"] + 0.2, axes["mlc"] - 0.1)):
        args = (maps["axes"], maps["plan"], evaluation_axes, fine, 1, 1)
        np.testing.assert_allclose(plancheck.gamma(*args), pymedphys.gamma(*args, interp_algo="scipy"), atol=1e-9)


def test_several_criteria_give_a_dict(maps: dict[str, Any]) -> None:
    result = plancheck.gamma(maps["axes"], maps["plan"], maps["axes"], maps["shifted"], [2, 3], 1, max_gamma=2)
    assert set(result) == {(2.0, 1.0), (3.0, 1.0)}
    assert pass_rate(result[(3.0, 1.0)]) >= pass_rate(result[(2.0, 1.0)])


def test_random_subset_repeats(maps: dict[str, Any]) -> None:
    args = (maps["axes"], maps["plan"], maps["axes"], maps["shifted"], 2, 0.5)
    first = plancheck.gamma(*args, random_subset=50)
    assert np.count_nonzero(~np.isnan(first)) == 50
    np.testing.assert_array_equal(first, plancheck.gamma(*args, random_subset=50))


def test_all_zero_reference_is_a_clear_error(maps: dict[str, Any]) -> None:
    zero = np.zeros_like(maps["plan"])
    with pytest.raises(AnalysisError, match="no positive maximum"):
        plancheck.gamma(maps["axes"], zero, maps["axes"], maps["shifted"], 2, 0.5)


def test_mismatched_axes_are_clear_errors(maps: dict[str, Any]) -> None:
    y, x = maps["axes"]
    with pytest.raises(AnalysisError, match="lengths"):
        plancheck.gamma((x, y), maps["plan"], maps["axes"], maps["shifted"], 2, 0.5)
    with pytest.raises(ValueError, match="2-D but evaluation is 1-D"):
        plancheck.gamma(maps["axes"], maps["plan"], (x,), maps["shifted"][0], 2, 0.5)
    with pytest.raises(AnalysisError, match="tuple of 1-D"):
        plancheck.gamma(np.zeros((2, 2)), maps["plan"], maps["axes"], maps["shifted"], 2, 0.5)
