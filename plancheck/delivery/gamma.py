"""Gamma index with ``pymedphys.gamma``'s arguments and search, vectorised in numpy.

The search is pymedphys': for every reference point at or above the lower dose
cutoff, the evaluation dose is interpolated (multilinear) on shells of growing
distance (points spaced by a tenth of the distance criterion by default) and
gamma is the smallest combined dose and distance term found; a point stops once
no farther shell can lower it. Where the reference points lie on the evaluation
grid (the usual case: two MU density maps), each shell point is a single shift
of the whole evaluation image, so a shell is evaluated by slicing the image over
the box of points still searching rather than interpolating point by point.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator, Sequence

import numpy as np

from plancheck.errors import AnalysisError

log = logging.getLogger(__name__)

DEFAULT_RAM = int(2**30 * 1.5)  # bytes the point-by-point search may use, as pymedphys' default
_OUTSIDE = 1e300  # evaluation dose beyond the grid: never the closest (pymedphys uses inf)
_SNAP = 1e-9  # shifts within this fraction of a pixel of a grid line are on it


def gamma(
    axes_reference: Any,
    dose_reference: Any,
    axes_evaluation: Any,
    dose_evaluation: Any,
    dose_percent_threshold: Any,
    distance_mm_threshold: Any,
    lower_percent_dose_cutoff: float = 20,
    interp_fraction: float = 10,
    max_gamma: float | None = None,
    local_gamma: bool = False,
    global_normalisation: float | None = None,
    skip_once_passed: bool = False,
    random_subset: int | None = None,
    ram_available: int | None = DEFAULT_RAM,
    quiet: bool | None = None,
    interp_algo: str = "pymedphys",
    *,
    random_seed: int = 0,
) -> Any:
    """Gamma of ``dose_evaluation`` against ``dose_reference``: ``pymedphys.gamma``'s arguments, order and result.

    Returns an array shaped like ``dose_reference`` (NaN where not calculated),
    or, for several thresholds, a dict keyed ``(dose_percent, distance_mm)`` as
    pymedphys does (each pair searched on its own). ``random_subset`` draws its
    points with ``numpy.random.default_rng(random_seed)``, so runs repeat.
    ``quiet`` and ``interp_algo`` are accepted for compatibility (both of
    pymedphys' interpolations are multilinear; so is this one).
    """
    del quiet  # progress goes to logging, as in pymedphys
    if str(interp_algo).lower() not in ("pymedphys", "scipy"):
        raise AnalysisError(f"interpolation algorithm {interp_algo!r} not recognised", fix="use 'pymedphys' or 'scipy' (both linear)")
    problem = _Problem.build(axes_reference, dose_reference, axes_evaluation, dose_evaluation, lower_percent_dose_cutoff, global_normalisation, random_subset, random_seed)
    doses, distances = np.atleast_1d(np.asarray(dose_percent_threshold, dtype=float)), np.atleast_1d(np.asarray(distance_mm_threshold, dtype=float))
    if doses.ndim != 1 or distances.ndim != 1 or np.any(doses <= 0) or np.any(distances <= 0):
        raise AnalysisError("dose and distance criteria must be positive numbers (or 1-D lists of them)")
    limit = np.inf if max_gamma is None else float(max_gamma)
    budget = max(int((ram_available or DEFAULT_RAM) / 8 / 16), 1 << 16)
    results = {
        (dose, distance): problem.search(_Criteria(float(dose), float(distance), float(interp_fraction), limit, bool(local_gamma), bool(skip_once_passed)), budget)
        for dose in doses
        for distance in distances
    }
    return next(iter(results.values())) if len(results) == 1 else results


def pass_rate(gamma_values: np.ndarray) -> float:
    """Percent of calculated points (not NaN) with gamma below 1, as pymedphys' ``calculate_pass_rate``."""
    valid = np.asarray(gamma_values)[~np.isnan(gamma_values)]
    if valid.size == 0:
        raise AnalysisError("no point was calculated", fix="lower the lower dose cutoff or check the doses")
    return float(100.0 * np.count_nonzero(valid < 1) / valid.size)


@dataclass(frozen=True)
class _Criteria:
    dose_percent: float
    distance_mm: float
    interp_fraction: float
    max_gamma: float
    local: bool
    skip_once_passed: bool

    def distances(self) -> Iterator[tuple[float, float]]:
        """(distance, shell spacing) in pymedphys' order: steps of a tenth of the criterion, landing on it exactly."""
        base = self.distance_mm / self.interp_fraction
        step, distance, forced = base, 0.0, [self.distance_mm]
        while distance <= self.distance_mm * self.max_gamma:
            yield distance, step
            step = max(distance / self.interp_fraction / self.max_gamma, base)
            distance += step
            if forced and distance >= forced[0]:
                distance = forced.pop(0)


def shell(distance: float, dimensions: int, spacing: float) -> np.ndarray:
    """Offsets (dimensions x points) at ``distance``, no farther apart than ``spacing`` (pymedphys' shells)."""
    if dimensions == 1:
        return np.array([[0.0]]) if distance == 0 else np.array([[distance, -distance]])
    if dimensions == 2:
        count = int(np.ceil(2 * np.pi * distance / spacing)) + 1
        theta = np.linspace(0, 2 * np.pi, count + 1)[:-1]
        return np.stack([distance * np.cos(theta), distance * np.sin(theta)])
    rows = int(np.ceil(np.pi * distance / spacing)) + 1
    elevation = np.linspace(0, np.pi, rows)
    per_row = np.ceil(2 * np.pi * distance * np.sin(elevation) / spacing).astype(int) + 1
    parts = []
    for phi, count in zip(elevation, per_row, strict=False):
        azimuth = np.linspace(0, 2 * np.pi, count + 1)[:-1]
        parts.append(np.stack([distance * np.sin(phi) * np.cos(azimuth), distance * np.sin(phi) * np.sin(azimuth), distance * np.cos(phi) * np.ones_like(azimuth)]))
    return np.concatenate(parts, axis=1)


@dataclass
class _Problem:
    """Checked inputs: the points to calculate, their doses, and the evaluation grid."""

    shape: tuple[int, ...]
    points: np.ndarray  # flat indices into the reference of the points to calculate
    coords: np.ndarray  # (dimensions, points) reference coordinates in mm
    ref_dose: np.ndarray  # reference dose at the points
    normalisation: float
    grid: _EvaluationGrid

    @classmethod
    def build(cls, axes_reference: Any, dose_reference: Any, axes_evaluation: Any, dose_evaluation: Any, cutoff_percent: float, normalisation: float | None,
            random_subset: int | None, seed: int) -> _Problem:
        axes_ref, ref = _checked(axes_reference, dose_reference, "reference")
        axes_eval, evaluation = _checked(axes_evaluation, dose_evaluation, "evaluation")
        if len(axes_ref) != len(axes_eval):
            raise AnalysisError(f"reference is {len(axes_ref)}-D but evaluation is {len(axes_eval)}-D", fix="give both doses on grids of the same dimension")
        if len(axes_ref) > 3:
            raise AnalysisError("gamma is defined here for 1, 2 or 3 dimensions")
        norm = float(np.max(ref)) if normalisation is None else float(normalisation)
        if not np.isfinite(norm) or norm <= 0:
            raise AnalysisError("the reference dose has no positive maximum to normalise to (all zero?)", fix="check the reference map, or pass global_normalisation")
        flat = ref.ravel()
        points = np.flatnonzero(flat >= cutoff_percent / 100 * norm)
        if random_subset is not None:
            points = np.sort(np.random.default_rng(seed).permutation(points)[: int(random_subset)])
        mesh_index = np.unravel_index(points, ref.shape)
        coords = np.stack([axis[index] for axis, index in zip(axes_ref, mesh_index, strict=False)]) if len(points) else np.zeros((len(axes_ref), 0))
        return cls(ref.shape, points, coords, flat[points], norm, _EvaluationGrid(axes_eval, evaluation))

    def search(self, criteria: _Criteria, budget: int) -> np.ndarray:
        """Gamma at every reference point (NaN where not calculated or never in reach)."""
        current = np.full(len(self.points), np.inf)
        active = np.arange(len(self.points))
        denominator = self.ref_dose if criteria.local else np.full(len(self.points), self.normalisation)
        finder = self.grid.finder(self.coords, self.ref_dose, budget)
        for distance, spacing in criteria.distances():
            if len(active) == 0:
                break
            offsets = shell(distance, len(self.shape), spacing)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                relative = finder.min_abs_difference(active, offsets) / denominator[active]
                at_distance = np.sqrt((relative / (criteria.dose_percent / 100)) ** 2 + (distance / criteria.distance_mm) ** 2)
            current[active] = np.fmin(current[active], at_distance)
            searching = current[active] > distance / criteria.distance_mm
            if criteria.skip_once_passed:
                searching &= current[active] >= 1
            active = active[searching]
            log.debug("gamma: %.3f mm searched, %d points still searching", distance, len(active))
        out = np.full(int(np.prod(self.shape)), np.nan)
        with np.errstate(invalid="ignore"):
            out[self.points] = np.where(np.isinf(current), np.nan, np.minimum(current, criteria.max_gamma))
        return out.reshape(self.shape)


def _checked(axes: Any, dose: Any, name: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Axes as a tuple of 1-D float arrays matching the dose's shape, or an AnalysisError saying what differs."""
    if isinstance(axes, np.ndarray) and axes.ndim == 1:
        axes = (axes,)
    if not isinstance(axes, (tuple, list)) or not all(np.ndim(a) == 1 for a in axes):
        raise AnalysisError(f"axes_{name} must be a tuple of 1-D coordinate arrays, (x,) for 1-D, (y, x) for 2-D, (z, y, x) for 3-D")
    axes = tuple(np.asarray(a, dtype=float) for a in axes)
    dose = np.asarray(dose, dtype=float)
    lengths = tuple(len(a) for a in axes)
    if lengths != dose.shape:
        raise AnalysisError(f"axes_{name} have lengths {lengths} but dose_{name} has shape "
                            f"{dose.shape}", fix="give one coordinate per dose value along each axis, in the dose's axis order")
    if dose.size == 0:
        raise AnalysisError(f"dose_{name} is empty")
    return axes, dose


class _EvaluationGrid:
    """The evaluation dose on increasing axes, padded with 'outside' values for shifted reads."""

    def __init__(self, axes: tuple[np.ndarray, ...], dose: np.ndarray) -> None:
        for dim, axis in enumerate(axes):
            if len(axis) > 1 and axis[1] < axis[0]:  # decreasing axis (e.g. DICOM rows): flip it
                axes = (*axes[:dim], axis[::-1], *axes[dim + 1:])
                dose = np.flip(dose, axis=dim)
        for axis in axes:
            if len(axis) > 1 and np.any(np.diff(axis) <= 0):
                raise AnalysisError("evaluation axes must be strictly monotonic")
        self.axes, self.dose = axes, np.ascontiguousarray(dose)
        self.spacing = np.array([axis[1] - axis[0] if len(axis) > 1 else 1.0 for axis in axes])
        self.uniform = all(len(a) < 3 or np.allclose(np.diff(a), a[1] - a[0], rtol=1e-9, atol=0) for a in axes)
        self._padded: np.ndarray | None = None
        self._margin = 0

    def finder(self, coords: np.ndarray, ref_dose: np.ndarray, budget: int) -> _Finder:
        """The fastest search that fits: shifted slices when the points sit on this grid, else interpolation."""
        if self.uniform and coords.shape[1]:
            index = (coords - np.array([a[0] for a in self.axes])[:, None]) / self.spacing[:, None]
            rounded = np.round(index)
            if np.all(np.abs(index - rounded) < 1e-6) and np.all(rounded >= 0) and np.all(rounded < np.array(self.dose.shape)[:, None]):
                return _ShiftFinder(self, rounded.astype(np.int64), ref_dose, budget)
        return _InterpFinder(self, coords, ref_dose, budget)

    def padded(self, margin: int) -> tuple[np.ndarray, int]:
        """The dose with at least ``margin`` outside values on every side (grown on demand)."""
        if self._padded is None or margin > self._margin:
            self._margin = max(margin, 2 * self._margin, 2)
            self._padded = np.pad(self.dose, self._margin, constant_values=_OUTSIDE)
        return self._padded, self._margin


class _Finder:
    def min_abs_difference(self, active: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _split_shift(shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole and fractional pixel parts of a shift, fractions within _SNAP of a grid line snapped onto it."""
    whole = np.floor(shift)
    frac = shift - whole
    up = frac > 1 - _SNAP
    whole, frac = np.where(up, whole + 1, whole), np.where(up | (frac < _SNAP), 0.0, frac)
    return whole.astype(np.int64), frac


class _ShiftFinder(_Finder):
    """Points on the evaluation grid: every shell offset is one multilinear shift of the padded image."""

    def __init__(self, grid: _EvaluationGrid, index: np.ndarray, ref_dose: np.ndarray, budget: int) -> None:
        self.grid, self.index, self.ref_dose, self.budget = grid, index, ref_dose, budget

    def min_abs_difference(self, active: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        whole, frac = _split_shift(offsets / self.grid.spacing[:, None])
        shape = np.array(self.grid.dose.shape)
        inside = np.all(np.abs(whole) <= shape[:, None], axis=0)  # else every point lands outside
        whole, frac = whole[:, inside], frac[:, inside]
        index = self.index[:, active]
        lo, hi = index.min(axis=1), index.max(axis=1)
        box = hi - lo + 1
        columns = whole.shape[1]
        # slicing costs ~12 passes over the box per offset plus call overhead; reading points ~25 passes each
        if columns * (12 * int(np.prod(box)) + 30_000) > 25 * len(active) * columns:
            return self._by_points(index, active, whole, frac)
        reference = np.full(tuple(box), np.nan)
        reference[tuple(index - lo[:, None])] = self.ref_dose[active]
        best = np.full(tuple(box), np.inf)
        padded, margin = self.grid.padded(int(np.max(np.abs(whole), initial=0)) + 2)
        for column in range(whole.shape[1]):
            value = self._shifted_box(padded, margin, lo, box, whole[:, column], frac[:, column])
            np.fmin(best, np.abs(value - reference), out=best)
        return best[tuple(index - lo[:, None])]

    @staticmethod
    def _shifted_box(padded: np.ndarray, margin: int, lo: np.ndarray, box: np.ndarray, whole: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Multilinear value at (box point + shift) for every point of the box."""
        value = np.zeros(tuple(box))
        for corner in itertools.product((0, 1), repeat=len(box)):
            weight = float(np.prod([f if c else 1.0 - f for c, f in zip(corner, frac, strict=False)]))
            if weight == 0.0:
                continue
            start = lo + margin + whole + np.array(corner)
            value += weight * padded[tuple(slice(s, s + b) for s, b in zip(start, box, strict=False))]
        return value

    def _by_points(self, index: np.ndarray, active: np.ndarray, whole: np.ndarray, frac: np.ndarray) -> np.ndarray:
        padded, margin = self.grid.padded(int(np.max(np.abs(whole), initial=0)) + 2)
        strides = np.array([int(np.prod(padded.shape[d + 1 :])) for d in range(padded.ndim)])
        base = ((index + margin) * strides[:, None]).sum(axis=0)
        shift = (whole * strides[:, None]).sum(axis=0)
        flat = padded.ravel()
        corners = [(np.array(corner), int(np.dot(corner, strides))) for corner in itertools.product((0, 1), repeat=len(strides))]
        reference = self.ref_dose[active][:, None]
        best = np.full(len(active), np.inf)
        step = max(self.budget // max(len(active), 1), 1)
        for start in range(0, whole.shape[1], step):
            cols = slice(start, start + step)
            index = base[:, None] + shift[None, cols]
            value = np.zeros(index.shape)
            for corner, offset in corners:
                weight = np.prod(np.where(corner[:, None] == 1, frac[:, cols], 1.0 - frac[:, cols]), axis=0)
                value += flat[offset:][index] * weight[None, :]  # a view per corner: no index arithmetic
            value -= reference
            best = np.fmin(best, np.min(np.abs(value, out=value), axis=1))
        return best


class _InterpFinder(_Finder):
    """Points anywhere: multilinear interpolation of the evaluation dose at every (point + offset)."""

    def __init__(self, grid: _EvaluationGrid, coords: np.ndarray, ref_dose: np.ndarray, budget: int) -> None:
        self.grid, self.coords, self.ref_dose, self.budget = grid, coords, ref_dose, budget

    def min_abs_difference(self, active: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        best = np.full(len(active), np.inf)
        step = max(self.budget // max(offsets.shape[1], 1), 1)
        for start in range(0, len(active), step):
            chunk = active[start : start + step]
            points = self.coords[:, chunk][:, :, None] + offsets[:, None, :]
            value = interpolate(self.grid.axes, self.grid.dose, points, uniform=self.grid.uniform)
            best[start : start + step] = np.min(np.abs(value - self.ref_dose[chunk][:, None]), axis=1)
        return best


def interpolate(axes: Sequence[np.ndarray], dose: np.ndarray, points: np.ndarray, uniform: bool = True) -> np.ndarray:
    """Multilinear interpolation of ``dose`` at ``points`` (dimensions first); infinity outside the grid."""
    lower, weight, outside = [], [], np.zeros(points.shape[1:], dtype=bool)
    for axis, coord in zip(axes, points, strict=False):
        n = len(axis)
        outside |= (coord < axis[0]) | (coord > axis[-1])
        if n == 1:
            lower.append(np.zeros(coord.shape, dtype=np.int64))
            weight.append(np.zeros(coord.shape))
            continue
        if uniform:
            position = (coord - axis[0]) / (axis[1] - axis[0])
            i0 = np.clip(np.floor(position), 0, n - 2).astype(np.int64)
            w = position - i0
        else:
            i0 = np.clip(np.searchsorted(axis, coord) - 1, 0, n - 2)
            w = (coord - axis[i0]) / (axis[i0 + 1] - axis[i0])
        lower.append(i0)
        weight.append(np.clip(w, 0.0, 1.0))
    value = np.zeros(points.shape[1:])
    for corner in itertools.product((0, 1), repeat=len(axes)):
        index = tuple(np.minimum(i + c, len(a) - 1) for i, c, a in zip(lower, corner, axes, strict=False))
        w = np.ones(points.shape[1:])
        for c, wd in zip(corner, weight, strict=False):
            w = w * (wd if c else 1.0 - wd)
        value += w * dose[index]
    return np.where(outside, np.inf, value)
