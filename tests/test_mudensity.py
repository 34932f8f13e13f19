"""MU density against pymedphys' metersetmap, point by point, on shipped RT Plans and generated deliveries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymedphys
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plancheck import deliveries as loaders
from plancheck.delivery import Delivery, GridSpec, grid
from plancheck.delivery.mudensity import _clip_product_sum, _clip_sum, mudensity
from plancheck.errors import AnalysisError, PlancheckError

PMP = Path(pymedphys.__file__).parent
TEMPLATES = PMP / "_experimental/serviceplans/templates"
TOLERANCE = 1e-3  # of the map maximum, at every point


def assert_matches_pymedphys(delivery: Delivery, resolution: float | None = None) -> None:
    kwargs = {} if resolution is None else {"grid_resolution": resolution}
    theirs = delivery.to_pymedphys().metersetmap(**kwargs)
    ours = delivery.mudensity(None if resolution is None else GridSpec(resolution_mm=resolution))
    assert ours.shape == theirs.shape
    scale = max(float(np.max(np.abs(theirs))), 1e-12)
    assert np.max(np.abs(ours - theirs)) <= TOLERANCE * scale


@pytest.mark.parametrize("name", ["vmat_example.dcm", "FFF_example.dcm", "24mm_x_20mm_rectangle.dcm"])
@pytest.mark.parametrize("resolution", [None, 0.5, 2.5])
def test_shipped_plans_equal_pymedphys(name: str, resolution: float | None) -> None:
    assert_matches_pymedphys(loaders.from_dicom(TEMPLATES / name), resolution)


@pytest.mark.parametrize("beam", ["02x02", "10x10", "40x40"])
def test_static_fields_equal_pymedphys(beam: str) -> None:
    assert_matches_pymedphys(loaders.from_dicom(PMP / "tests/dicom/data/rtplan/06MV_plan.dcm", beam=beam))


def test_each_vmat_arc_alone() -> None:
    for beam in ("1-1", "1-2"):
        assert_matches_pymedphys(loaders.from_dicom(TEMPLATES / "vmat_example.dcm", beam=beam), 1.0)


@pytest.mark.parametrize("resolution", [0.25, 0.5, 1.0, 2.5, 5.0])
def test_axes_equal_pymedphys_grid(resolution: float) -> None:
    ours, theirs = GridSpec(resolution_mm=resolution).axes(), pymedphys.metersetmap.grid(grid_resolution=resolution)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])
    np.testing.assert_array_equal(grid(grid_resolution=resolution)["jaw"], theirs["jaw"])


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[Delivery, float]:
    """Small deliveries: moving leaves (sometimes on exact pixel edges, sometimes crossed), moving jaws, idle MU steps."""
    n = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    snap = draw(st.sampled_from([0.0, 0.5, 0.25]))  # round positions onto pixel edges and centres
    centre = rng.uniform(-20, 20, (n, 80, 1))
    half = np.abs(rng.normal(8, 6, (n, 80, 2)))
    if draw(st.booleans()):
        half[:, rng.integers(0, 80, 10), :] *= -0.3  # a few crossed pairs
    mlc = np.concatenate([half[:, :, :1] - centre, half[:, :, 1:] + centre], axis=2)
    jaw = np.stack([rng.uniform(-30, 60, n), rng.uniform(-30, 60, n)], axis=1)
    jaw = np.where(jaw.sum(axis=1, keepdims=True) < 0, -jaw, jaw)
    if draw(st.booleans()):
        jaw[:] = jaw[0]
    if snap:
        mlc, jaw = np.round(mlc / snap) * snap, np.round(jaw / snap) * snap
    steps = rng.choice([0.0, 0.0, 1.0, 5.0, 20.0], n - 1)
    steps[rng.integers(0, n - 1)] = 5.0  # pymedphys cannot map a delivery without MU
    mu = np.concatenate([[0.0], np.cumsum(steps)])
    resolution = draw(st.sampled_from([1.0, 0.5, 2.5]))
    return Delivery(mu, np.zeros(n), np.zeros(n), mlc, jaw), resolution


@settings(max_examples=15, deadline=None, derandomize=True)
@given(deliveries())
def test_generated_deliveries_equal_pymedphys(case: tuple[Delivery, float]) -> None:
    delivery, resolution = case
    assert_matches_pymedphys(delivery, resolution)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.floats(-30, 30), st.floats(-3, 3), st.floats(-30, 30), st.floats(-3, 3), st.integers(2, 60),
)
def test_closed_form_sums_equal_brute_force(a: float, b: float, c: float, d: float, n: int) -> None:
    k = np.arange(n)
    f, g = np.clip(a + b * k, 0, 1), np.clip(c + d * k, 0, 1)
    args = [np.array([v], dtype=float) for v in (a, b, c, d, n)]
    assert _clip_sum(args[0], args[1], args[4])[0] == pytest.approx(f.sum(), abs=1e-9)
    assert _clip_product_sum(*args)[0] == pytest.approx((f * g).sum(), abs=1e-9)


def test_idle_and_single_control_point_give_zero_map() -> None:
    mlc = np.full((3, 80, 2), 10.0)
    jaw = np.full((3, 2), 10.0)
    assert not np.any(mudensity(np.zeros(3), mlc, jaw))
    assert not np.any(mudensity(np.array([5.0]), mlc[:1], jaw[:1]))


def test_bad_grid_and_positions_are_clear_errors() -> None:
    delivery = loaders.from_dicom(TEMPLATES / "24mm_x_20mm_rectangle.dcm")
    with pytest.raises(AnalysisError, match="does not divide"):
        delivery.mudensity(GridSpec(resolution_mm=0.3))
    far = delivery.replace(mlc=np.asarray(delivery.mlc) + 250.0)
    with pytest.raises(PlancheckError, match="beyond half the maximum leaf gap"):
        far.mudensity()
    with pytest.raises(ValueError):  # AnalysisError is a ValueError, as pymedphys raises
        far.mudensity()
