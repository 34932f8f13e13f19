"""MU density (fluence) from control points, on pymedphys' metersetmap grid, vectorised.

pymedphys integrates the motion between two control points by sampling ``T``
equally spaced leaf and jaw positions (``min_step_per_pixel`` samples per pixel
of the largest travel, at least 10) and averaging the open fraction, where a
device edge blocks a pixel by a ramp one pixel wide. This module computes the
same average for every interval at once: at each sample a leaf pair opens a row
as a step with one fractional pixel at either end, which is written into a
difference array; one cumulative sum along the leaf direction gives the map.
Rows of a leaf pair that the jaws leave fully open are accumulated once per
leaf pair; only the few rows under a jaw edge are accumulated row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from plancheck.errors import AnalysisError

if TYPE_CHECKING:
    from plancheck.delivery.model import Delivery

AGILITY_LEAF_PAIR_WIDTHS_MM: tuple[float, ...] = (5.0,) * 80
_SAMPLES_PER_CHUNK = 1 << 19  # time samples expanded at once: bounds memory to ~100 MB


@dataclass(frozen=True)
class GridSpec:
    """The calculation grid and integration settings (pymedphys' metersetmap defaults)."""

    resolution_mm: float = 1.0
    max_leaf_gap_mm: float = 400.0
    leaf_pair_widths_mm: tuple[float, ...] = AGILITY_LEAF_PAIR_WIDTHS_MM
    min_step_per_pixel: int = 10

    def axes(self) -> dict[str, np.ndarray]:
        """The grid's axes: ``mlc`` (leaf travel, columns) and ``jaw`` (rows), in mm."""
        return grid(self.max_leaf_gap_mm, self.resolution_mm, self.leaf_pair_widths_mm)

    def validate(self) -> None:
        """Raise AnalysisError where the resolution does not divide the gap or the leaf widths."""
        r = self.resolution_mm
        half_gap_pixels = self.max_leaf_gap_mm / 2 / r
        if r <= 0 or int(half_gap_pixels) != half_gap_pixels:
            raise AnalysisError(
                f"grid resolution {r} mm does not divide half the maximum leaf gap ({self.max_leaf_gap_mm} mm)",
                fix="choose a resolution such as 0.25, 0.5, 1 or 2.5 mm",
            )
        division = np.asarray(self.leaf_pair_widths_mm, dtype=float) / r
        if not np.all(division.astype(int) == division):
            raise AnalysisError(f"grid resolution {r} mm does not divide every leaf pair width", fix="choose a resolution that divides the leaf widths")


def grid(
    max_leaf_gap: float = 400.0,
    grid_resolution: float = 1.0,
    leaf_pair_widths: tuple[float, ...] = AGILITY_LEAF_PAIR_WIDTHS_MM,
) -> dict[str, np.ndarray]:
    """The map's axes in mm, as pymedphys' ``get_grid``: ``{"mlc": columns, "jaw": rows}``."""
    widths = np.asarray(leaf_pair_widths, dtype=float)
    r = grid_resolution
    axes = {"mlc": np.arange(-max_leaf_gap / 2, max_leaf_gap / 2 + r, r).astype(float)}
    reference = _reference_row(widths, r)
    total = np.sum(widths)
    top = np.ceil((total / 2 - reference) / r) * r + reference
    bottom = reference - np.ceil((total / 2 + reference) / r) * r
    axes["jaw"] = np.arange(bottom, top + r, r)
    return axes


def delivery_mudensity(delivery: "Delivery", spec: GridSpec | None = None) -> np.ndarray:
    """The MU density of a delivery, equal to ``pymedphys.Delivery.metersetmap()`` with the same grid."""
    keep = relevant_control_points(delivery.mu)
    mu = delivery.mu[keep]
    if len(mu):
        mu = np.round(mu - mu[0], decimals=7)
    return mudensity(mu, delivery.mlc[keep], delivery.jaw[keep], spec)


def mudensity(mu: np.ndarray, mlc: np.ndarray, jaw: np.ndarray, spec: GridSpec | None = None) -> np.ndarray:
    """MU density map (rows: jaw direction, columns: leaf direction) from cumulative MU, MLC and Y jaws."""
    spec = spec or GridSpec()
    spec.validate()
    mu, mlc, jaw = (np.asarray(a, dtype=float) for a in (mu, mlc, jaw))
    axes = spec.axes()
    out_shape = (len(axes["jaw"]), len(axes["mlc"]))
    if len(mu) and np.max(np.abs(mlc)) > spec.max_leaf_gap_mm / 2:
        first = int(np.where(np.abs(mlc) > spec.max_leaf_gap_mm / 2)[0][0])
        raise AnalysisError(f"control point {first}: a leaf travels beyond half the maximum leaf gap ({spec.max_leaf_gap_mm / 2} mm)", fix="check the MLC units (mm at isocentre) and the leaf model")
    keep = relevant_control_points(mu)
    mu, mlc, jaw = mu[keep], mlc[keep], jaw[keep]
    if len(mu) < 2:
        return np.zeros(out_shape)
    if mlc.shape[1] != len(spec.leaf_pair_widths_mm):
        raise AnalysisError(f"{mlc.shape[1]} leaf pairs in the delivery but {len(spec.leaf_pair_widths_mm)} leaf pair widths in the grid", fix="pass the machine's leaf_pair_widths_mm")
    if np.max(np.abs(jaw)) > np.sum(spec.leaf_pair_widths_mm) / 2:
        raise AnalysisError(f"a jaw travels beyond the leaf bank ({np.max(np.abs(jaw))} mm)", fix="check the jaw units (mm at isocentre)")
    geometry = _Geometry(spec, axes)
    intervals = _Intervals(geometry, mu, mlc, jaw)
    return geometry.accumulate(intervals)


def relevant_control_points(mu: np.ndarray) -> np.ndarray:
    """Mask of control points with an MU change on at least one side (pymedphys' rule)."""
    mu = np.asarray(mu, dtype=float)
    if len(mu) < 2:
        return np.ones(len(mu), dtype=bool)
    no_change = np.diff(mu) == 0
    irrelevant = np.concatenate([[no_change[0]], no_change[:-1] & no_change[1:], [no_change[-1]]])
    return ~irrelevant


def _reference_row(widths: np.ndarray, r: float) -> float:
    """The row position every grid is aligned to: half a pixel below the top of the middle leaf."""
    centres = np.cumsum(widths) - widths / 2 - np.sum(widths) / 2
    middle = len(centres) // 2
    return float(centres[middle] + widths[middle] / 2 - r / 2)


class _Geometry:
    """The full grid, which leaf covers each row, and the accumulation into it."""

    def __init__(self, spec: GridSpec, axes: dict[str, np.ndarray]) -> None:
        self.spec = spec
        self.r = spec.resolution_mm
        self.x, self.y = axes["mlc"], axes["jaw"]
        widths = np.asarray(spec.leaf_pair_widths_mm, dtype=float)
        centres = np.cumsum(widths) - widths / 2 - np.sum(widths) / 2
        self.reference = _reference_row(widths, self.r)
        self.leaf_of_row = np.argmin(np.abs(self.y[:, None] - centres[None, :]), axis=1)
        leaves = np.arange(len(widths))
        self.first_row = np.searchsorted(self.leaf_of_row, leaves, side="left")
        self.last_row = np.searchsorted(self.leaf_of_row, leaves, side="right") - 1

    def accumulate(self, iv: "_Intervals") -> np.ndarray:
        """Sum every interval's open fraction times its MU into the map."""
        nx, ny, n_leaves = len(self.x), len(self.y), len(self.first_row)
        width = nx + 1
        by_leaf = np.zeros(n_leaves * width)
        by_row = np.zeros(ny * width)
        for units, target in ((iv.leaf_units(), by_leaf), (iv.row_units(), by_row)):
            for chunk in _chunks(units.samples):
                target += _difference_entries(self, iv, units, chunk, len(target))
        leaf_maps = np.cumsum(by_leaf.reshape(n_leaves, width), axis=1)[:, :nx]
        row_maps = np.cumsum(by_row.reshape(ny, width), axis=1)[:, :nx]
        return leaf_maps[self.leaf_of_row] + row_maps


@dataclass
class _Units:
    """Accumulation units: one (interval, leaf pair) or (interval, row), each with its time samples."""

    interval: np.ndarray
    leaf: np.ndarray
    target: np.ndarray  # leaf index (leaf units) or row index (row units)
    row_y: np.ndarray | None  # row position for row units (jaw weighting), None for leaf units
    samples: np.ndarray  # time samples to expand (1 where nothing moves)
    weight: np.ndarray  # MU per sample


class _Intervals:
    """Per-interval geometry as pymedphys computes it for each pair of control points."""

    def __init__(self, g: _Geometry, mu: np.ndarray, mlc: np.ndarray, jaw: np.ndarray) -> None:
        r, ny = g.r, len(g.y)
        self.g = g
        self.mu = np.diff(mu)
        self.left0, self.left1 = -mlc[:-1, :, 0], -mlc[1:, :, 0]
        self.right0, self.right1 = mlc[:-1, :, 1], mlc[1:, :, 1]
        self.bottom0, self.bottom1 = -jaw[:-1, 0], -jaw[1:, 0]
        self.top0, self.top1 = jaw[:-1, 1], jaw[1:, 1]
        # rows pymedphys calculates for the interval (its local jaw grid)
        top = np.round((np.maximum(self.top0, self.top1) - g.reference) / r) * r + g.reference
        bottom = g.reference - np.round((-np.minimum(self.bottom0, self.bottom1) + g.reference) / r) * r
        n_rows = np.maximum(np.ceil(((top + r) - bottom) / r), 0).astype(int)
        row_lo = np.round((bottom - g.y[0]) / r).astype(int)
        row_hi = row_lo + n_rows - 1
        has_rows = n_rows > 0
        leaf_lo = g.leaf_of_row[np.clip(row_lo, 0, ny - 1)]
        leaf_hi = g.leaf_of_row[np.clip(row_hi, 0, ny - 1)]
        leaves = np.arange(mlc.shape[1])
        delivers = self.mu != 0  # an interval without MU adds nothing (pymedphys multiplies by 0)
        in_range = (has_rows & delivers)[:, None] & (leaves >= leaf_lo[:, None]) & (leaves <= leaf_hi[:, None])
        self.row_lo, self.row_hi = np.clip(row_lo, 0, ny - 1), np.clip(row_hi, -1, ny - 1)
        self.in_range = in_range
        self.samples = self._time_steps(mlc, jaw, in_range)
        self.col_lo, self.col_hi = self._columns(in_range)

    def _time_steps(self, mlc: np.ndarray, jaw: np.ndarray, in_range: np.ndarray) -> np.ndarray:
        leaf_travel = np.maximum(np.abs(mlc[1:, :, 0] - mlc[:-1, :, 0]), np.abs(mlc[1:, :, 1] - mlc[:-1, :, 1]))
        jaw_travel = np.max(np.abs(jaw[1:] - jaw[:-1]), axis=1)
        travel = np.maximum(np.max(np.where(in_range, leaf_travel, 0.0), axis=1), jaw_travel)
        steps = np.ceil(travel / self.g.r) * self.g.spec.min_step_per_pixel
        return np.where(steps < 10, 10, steps).astype(np.int64)

    def _columns(self, in_range: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, nx = self.g.r, len(self.g.x)
        with np.errstate(invalid="ignore"):
            min_x = np.round(np.min(np.where(in_range, np.minimum(self.left0, self.left1), np.inf), axis=1) / r) * r
            max_x = np.round(np.max(np.where(in_range, np.maximum(self.right0, self.right1), -np.inf), axis=1) / r) * r
            n_cols = np.nan_to_num(np.maximum(np.ceil(((max_x + r) - min_x) / r), 0)).astype(int)
            col_lo = np.nan_to_num(np.round((min_x - self.g.x[0]) / r)).astype(int)
        col_hi = np.minimum(col_lo + n_cols - 1, nx - 1)
        col_lo = np.maximum(col_lo, 0)
        return col_lo, np.where(n_cols > 0, col_hi, -1)

    def _moving(self) -> np.ndarray:
        return (self.left0 != self.left1) | (self.right0 != self.right1)

    def _fully_open(self) -> np.ndarray:
        """(interval, leaf) pairs whose every row the jaws leave open at every sample."""
        g, half = self.g, self.g.r / 2
        lowest, highest = g.y[g.first_row], g.y[g.last_row]
        below = lowest[None, :] >= np.maximum(self.bottom0, self.bottom1)[:, None] + half
        above = highest[None, :] <= np.minimum(self.top0, self.top1)[:, None] - half
        boxed = (g.first_row[None, :] >= self.row_lo[:, None]) & (g.last_row[None, :] <= self.row_hi[:, None])
        return self.in_range & below & above & boxed & (self.col_hi >= self.col_lo)[:, None]

    def leaf_units(self) -> _Units:
        interval, leaf = np.nonzero(self._fully_open())
        moving = self._moving()[interval, leaf]
        samples = np.where(moving, self.samples[interval], 1)
        weight = self.mu[interval] / samples
        return _Units(interval, leaf, leaf, None, samples, weight)

    def row_units(self) -> _Units:
        g, half, ny = self.g, self.g.r / 2, len(self.g.y)
        rows = np.arange(ny)
        partial = self.in_range & ~self._fully_open() & (self.col_hi >= self.col_lo)[:, None]
        y = g.y[None, :]
        bottom_lo, bottom_hi = np.minimum(self.bottom0, self.bottom1)[:, None], np.maximum(self.bottom0, self.bottom1)[:, None]
        top_lo, top_hi = np.minimum(self.top0, self.top1)[:, None], np.maximum(self.top0, self.top1)[:, None]
        shut_below = (y <= bottom_lo - half) & (y <= top_lo - half)
        shut_above = (y >= top_hi + half) & (y >= bottom_hi + half)
        in_box = (rows[None, :] >= self.row_lo[:, None]) & (rows[None, :] <= self.row_hi[:, None])
        active = partial[:, g.leaf_of_row] & in_box & ~shut_below & ~shut_above
        interval, row = np.nonzero(active)
        leaf = g.leaf_of_row[row]
        jaws_move = (self.bottom0 != self.bottom1) | (self.top0 != self.top1)
        moving = self._moving()[interval, leaf] | jaws_move[interval]
        samples = np.where(moving, self.samples[interval], 1)
        weight = self.mu[interval] / samples
        return _Units(interval, leaf, row, g.y[row], samples, weight)


def _chunks(samples: np.ndarray) -> list[slice]:
    """Split units into runs of at most ``_SAMPLES_PER_CHUNK`` samples (one unit never split)."""
    if len(samples) == 0:
        return []
    ends = np.cumsum(samples)
    cuts = np.searchsorted(ends, np.arange(_SAMPLES_PER_CHUNK, ends[-1], _SAMPLES_PER_CHUNK), side="left")
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(samples)]]))
    bounds = bounds[bounds <= len(samples)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _at_samples(start: np.ndarray, end: np.ndarray, k: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Positions at sample k of ``steps``, computed as pymedphys does (start + k * step)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step = (end - start) / (steps - 1)
    return start + k * np.where(steps > 1, step, 0.0)


def _ramp(z: np.ndarray) -> np.ndarray:
    return np.clip(z, 0.0, 1.0)


def _difference_entries(g: _Geometry, iv: _Intervals, units: _Units, chunk: slice, size: int) -> np.ndarray:
    """Difference-array contributions of the units in ``chunk``, as a flat array of ``size``."""
    r, x0, width = g.r, g.x[0], len(g.x) + 1
    counts = units.samples[chunk]
    unit = np.repeat(np.arange(len(counts)), counts)
    k = (np.arange(len(unit)) - np.repeat(np.cumsum(counts) - counts, counts)).astype(float)
    interval = units.interval[chunk][unit]
    leaf = units.leaf[chunk][unit]
    steps = units.samples[chunk][unit].astype(float)
    weight = units.weight[chunk][unit]
    target = units.target[chunk][unit]
    if units.row_y is not None:  # weight each row by the jaws' open fraction; drop samples it shuts
        y = units.row_y[chunk][unit]
        bottom = _at_samples(iv.bottom0[interval], iv.bottom1[interval], k, steps)
        top = _at_samples(iv.top0[interval], iv.top1[interval], k, steps)
        weight = weight * (1.0 - _ramp((bottom - y) / r + 0.5) - _ramp((y - top) / r + 0.5))
        keep = weight != 0
        interval, leaf, k, steps, weight, target = (a[keep] for a in (interval, leaf, k, steps, weight, target))
    # a unit collapsed to one sample uses the start positions (nothing moves)
    left = _at_samples(iv.left0[interval, leaf], iv.left1[interval, leaf], k, steps)
    right = _at_samples(iv.right0[interval, leaf], iv.right1[interval, leaf], k, steps)
    lo, hi = iv.col_lo[interval], iv.col_hi[interval]
    base = target * width
    u = (left - x0) / r + 0.5  # left leaf blocks pixel j by clip(u - j, 0, 1)
    v = (right - x0) / r - 0.5  # right leaf blocks pixel j by clip(j - v, 0, 1)
    fl_u, fl_v = np.floor(u), np.floor(v)
    frac_u, frac_v = u - fl_u, v - fl_v
    fl_u, fl_v = fl_u.astype(np.int64), fl_v.astype(np.int64)
    open_from = np.clip(fl_u, lo, hi + 1)
    open_to = np.clip(fl_v + 2, lo, hi + 1)
    left_edge = (fl_u >= lo) & (fl_u <= hi)
    right_edge = (fl_v + 1 >= lo) & (fl_v + 1 <= hi)
    w_left = np.where(left_edge, weight * frac_u, 0.0)
    w_right = np.where(right_edge, weight * (1.0 - frac_v), 0.0)
    fl_u, fl_v = np.clip(fl_u, lo, hi), np.clip(fl_v + 1, lo, hi)
    index = np.concatenate([open_from, open_to, fl_u, fl_u + 1, fl_v, fl_v + 1]) + np.tile(base, 6)
    values = np.concatenate([weight, -weight, -w_left, w_left, -w_right, w_right])
    return np.bincount(index, weights=values, minlength=size)
