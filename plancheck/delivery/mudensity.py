"""MU density (fluence) from control points, on pymedphys' metersetmap grid, vectorised.

pymedphys integrates the motion between two control points by sampling ``T``
equally spaced leaf and jaw positions (``min_step_per_pixel`` samples per pixel
of the largest travel, at least 10) and averaging the open fraction, where a
device edge blocks a pixel by a ramp one pixel wide. This module computes the
same sums in closed form, for every interval at once: a leaf pair leaves a row
open between its two leaves, so each interval adds a constant over that span
(written into a difference array) plus, on the few pixels a leaf sweeps, the
exact sum over the samples of a clipped linear function (a product of two
where a jaw edge sweeps the row too). The cost no longer grows with the number
of samples. Rows of a leaf pair that the jaws leave fully open are summed once
per leaf pair; only rows under a jaw edge are summed row by row.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from plancheck.errors import AnalysisError


class ControlPoints(Protocol):
    """What a MU density needs of a delivery (:class:`plancheck.delivery.model.Delivery` has it)."""

    @property
    def mu(self) -> np.ndarray: ...
    @property
    def mlc(self) -> np.ndarray: ...
    @property
    def jaw(self) -> np.ndarray: ...

AGILITY_LEAF_PAIR_WIDTHS_MM: tuple[float, ...] = (5.0,) * 80
_PIXELS_PER_CHUNK = 1 << 18  # swept pixels evaluated at once: bounds memory to ~100 MB


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

    @classmethod
    def for_leaves(cls, leaf_pair_widths_mm: tuple[float, ...], resolution_mm: float | None = None) -> GridSpec:
        """pymedphys' default grid for these leaf widths, at ``resolution_mm`` (validated as given) or by default at the
        first of 1, 0.5 and 0.25 mm that divides every width (HD120's 2.5 mm leaves: 0.5 mm), else the largest step under
        1 mm that does (MRIdian's 4.15 mm strips: 0.83 mm); the leaf gap widened to whole pixels either side (>= 400 mm)."""
        widths = tuple(float(w) for w in leaf_pair_widths_mm)
        if resolution_mm is not None:
            r = float(resolution_mm)
        else:
            step = _common_step(widths)
            r = next((c for c in (1.0, 0.5, 0.25) if _whole(step / c)), step / math.ceil(step))
        half_gap = r * math.ceil(round(200.0 / r, 6))
        return cls(resolution_mm=r, max_leaf_gap_mm=2 * half_gap, leaf_pair_widths_mm=widths)

    def validate(self) -> None:
        """Raise AnalysisError where the resolution does not divide the gap or the leaf widths."""
        r = self.resolution_mm
        half_gap_pixels = self.max_leaf_gap_mm / 2 / r if r > 0 else 0.5
        if r <= 0 or not _whole(half_gap_pixels):
            raise AnalysisError(
                f"grid resolution {r} mm does not divide half the maximum leaf gap ({self.max_leaf_gap_mm} mm)",
                fix="choose a resolution such as 0.25, 0.5, 1 or 2.5 mm",
            )
        division = np.asarray(self.leaf_pair_widths_mm, dtype=float) / r
        if not all(_whole(d) for d in division):
            raise AnalysisError(f"grid resolution {r} mm does not divide every leaf pair width", fix="choose a resolution that divides the leaf widths")


def _whole(value: float) -> bool:
    """A whole number, to the rounding a decimal step such as 0.83 mm leaves."""
    return abs(value - round(value)) < 1e-6


def _common_step(widths: tuple[float, ...]) -> float:
    """The largest length (to 1 um) that every width is a whole multiple of."""
    return math.gcd(*(round(w * 1000) for w in widths)) / 1000 if widths else 1.0


def _arange(start: float, stop: float, r: float) -> np.ndarray:
    """``np.arange(start, stop + r, r)`` as pymedphys builds its axes, without the extra point a decimal step can add."""
    return np.arange(start, stop + r, r)[: round((stop - start) / r) + 1].astype(float)


def grid(
    max_leaf_gap: float = 400.0,
    grid_resolution: float = 1.0,
    leaf_pair_widths: tuple[float, ...] = AGILITY_LEAF_PAIR_WIDTHS_MM,
) -> dict[str, np.ndarray]:
    """The map's axes in mm, as pymedphys' ``get_grid``: ``{"mlc": columns, "jaw": rows}``."""
    widths = np.asarray(leaf_pair_widths, dtype=float)
    r = grid_resolution
    axes = {"mlc": _arange(-max_leaf_gap / 2, max_leaf_gap / 2, r)}
    reference = _reference_row(widths, r)
    total = np.sum(widths)
    top = np.ceil((total / 2 - reference) / r) * r + reference
    bottom = reference - np.ceil((total / 2 + reference) / r) * r
    axes["jaw"] = _arange(bottom, top, r)
    return axes


def delivery_mudensity(delivery: ControlPoints, spec: GridSpec | None = None) -> np.ndarray:
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
        raise AnalysisError(f"control point {first}: a leaf travels beyond half the maximum leaf gap ({spec.max_leaf_gap_mm / 2} mm)",
                fix="check the MLC units (mm at isocentre) and the leaf model")
    keep = relevant_control_points(mu)
    mu, mlc, jaw = mu[keep], mlc[keep], jaw[keep]
    if len(mu) < 2:
        return np.zeros(out_shape)
    if mlc.shape[1] != len(spec.leaf_pair_widths_mm):
        raise AnalysisError(f"{mlc.shape[1]} leaf pairs in the delivery but {len(spec.leaf_pair_widths_mm)} "
                            f"leaf pair widths in the grid", fix="pass the machine's leaf_pair_widths_mm")
    if np.max(np.abs(jaw)) > np.sum(spec.leaf_pair_widths_mm) / 2:
        raise AnalysisError(f"a jaw travels beyond the leaf bank ({np.max(np.abs(jaw))} mm)", fix="check the jaw units (mm at isocentre)")
    geometry = _Geometry(spec, axes)
    intervals = _Intervals(geometry, mu, mlc, jaw)
    return geometry.accumulate(intervals)


def interval_samples(delivery: ControlPoints, spec: GridSpec | None = None) -> np.ndarray:
    """The instants sampled in each interval between the control points ``relevant_control_points`` keeps (0 where
    the interval gives no MU): the MU density's time discretisation, pymedphys' rule (10 per pixel of travel, >= 10)."""
    spec = spec or GridSpec()
    keep = relevant_control_points(delivery.mu)
    mu, mlc, jaw = (np.asarray(a, dtype=float)[keep] for a in (delivery.mu, delivery.mlc, delivery.jaw))
    if len(mu) < 2:
        return np.zeros(0, dtype=np.int64)
    intervals = _Intervals(_Geometry(spec, spec.axes()), np.round(mu - mu[0], decimals=7), mlc, jaw)
    return np.where(intervals.mu != 0, intervals.samples, 0)


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

    def accumulate(self, iv: _Intervals) -> np.ndarray:
        """Sum every interval's open fraction times its MU into the map."""
        nx, ny, n_leaves = len(self.x), len(self.y), len(self.first_row)
        maps = []
        for units, n_targets in ((iv.leaf_units(), n_leaves), (iv.row_units(), ny)):
            steps = np.zeros(n_targets * (nx + 1))  # difference array along the leaf direction
            swept = np.zeros(n_targets * nx)  # pixels a leaf sweeps, summed directly
            terms = _UnitTerms(self, iv, units)
            steps += terms.spans(n_targets)
            for bank in (terms.left, terms.right):
                for chunk in _chunks(bank.count):
                    swept += terms.swept(bank, chunk, n_targets)
            maps.append(np.cumsum(steps.reshape(n_targets, nx + 1), axis=1)[:, :nx] + swept.reshape(n_targets, nx))
        return maps[0][self.leaf_of_row] + maps[1]


@dataclass
class _Units:
    """Accumulation units: one (interval, leaf pair) or (interval, row) each."""

    interval: np.ndarray
    leaf: np.ndarray
    target: np.ndarray  # leaf index (leaf units) or row index (row units)
    row_y: np.ndarray | None  # row position for row units (jaw weighting), None for leaf units


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
        return _Units(interval, leaf, leaf, None)

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
        return _Units(interval, g.leaf_of_row[row], row, g.y[row])


def _chunks(counts: np.ndarray) -> list[slice]:
    """Split units into runs of at most ``_PIXELS_PER_CHUNK`` pixels (one unit never split)."""
    if len(counts) == 0:
        return []
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(_PIXELS_PER_CHUNK, ends[-1], _PIXELS_PER_CHUNK), side="left")
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(counts)]]))
    bounds = bounds[bounds <= len(counts)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _clip_sum(a: np.ndarray, b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sum over k = 0..n-1 of clip(a + b k, 0, 1), in closed form."""
    flip = b < 0
    a = np.where(flip, a + b * (n - 1), a)  # the same values in increasing order
    b = np.abs(b)
    moving = b > 0
    safe_b = np.where(moving, b, 1.0)
    with np.errstate(over="ignore"):
        k0 = np.where(moving, np.clip(np.ceil(-a / safe_b), 0, n), 0)  # first k with a + b k >= 0
        k1 = np.where(moving, np.clip(np.ceil((1 - a) / safe_b), 0, n), 0)  # first k with a + b k >= 1
    ramp = k1 - k0
    moving_sum = (n - k1) + ramp * (a + b * k0) + b * ramp * (ramp - 1) / 2
    return np.where(moving, moving_sum, n * np.clip(a, 0.0, 1.0))


def _clip_product_sum(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sum over k = 0..n-1 of clip(a + b k, 0, 1) * clip(c + d k, 0, 1), in closed form.

    The breakpoints where either factor starts or stops ramping split 0..n into at
    most five runs; on each run both factors are affine in k and the sum of their
    product is a polynomial in the run length.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cuts = [np.where(slope != 0, np.ceil(level / slope), 0.0) for level, slope in ((-a, b), (1 - a, b), (-c, d), (1 - c, d))]
    bounds = np.sort(np.stack([np.zeros_like(n), n] + [np.clip(cut, 0, n) for cut in cuts], axis=1), axis=1)
    total = np.zeros_like(a)
    for run in range(5):
        start, end = bounds[:, run], bounds[:, run + 1]
        length = end - start
        middle = (start + end - 1) / 2
        p_f, q_f = _affine_on_run(a, b, start, middle)
        p_g, q_g = _affine_on_run(c, d, start, middle)
        s1 = length * (length - 1) / 2
        s2 = (length - 1) * length * (2 * length - 1) / 6
        total += length * p_f * p_g + (p_f * q_g + q_f * p_g) * s1 + q_f * q_g * s2
    return total


def _affine_on_run(a: np.ndarray, b: np.ndarray, start: np.ndarray, middle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """clip(a + b k) on a run where it does not change regime, as p + q (k - start)."""
    at_middle = a + b * middle
    zero, one = at_middle <= 0, at_middle >= 1
    p = np.where(zero, 0.0, np.where(one, 1.0, a + b * start))
    q = np.where(zero | one, 0.0, b)
    return p, q


@dataclass
class _Bank:
    """Pixels one leaf bank sweeps, per unit: the ramp is clip(level + slope k) at pixel ``first``."""

    level: np.ndarray  # clip argument at k = 0 for pixel ``first``
    slope: np.ndarray  # change per sample
    per_pixel: float  # change of the clip argument per pixel (-1 for the left bank, +1 for the right)
    first: np.ndarray
    count: np.ndarray


class _UnitTerms:
    """Closed-form sums for a set of units: the open span and the swept pixels of each bank."""

    def __init__(self, g: _Geometry, iv: _Intervals, units: _Units) -> None:
        r, x0 = g.r, g.x[0]
        self.g, self.units = g, units
        i, leaf = units.interval, units.leaf
        self.n = iv.samples[i].astype(float)
        self.weight = iv.mu[i] / self.n
        self.lo, self.hi = iv.col_lo[i], iv.col_hi[i]
        per_step = 1.0 / (r * (self.n - 1))
        # left leaf blocks pixel j by clip(u_k - j), right leaf by clip(j - v_k), u and v in pixels
        u0, u1 = (iv.left0[i, leaf] - x0) / r + 0.5, (iv.left1[i, leaf] - x0) / r + 0.5
        v0, v1 = (iv.right0[i, leaf] - x0) / r - 0.5, (iv.right1[i, leaf] - x0) / r - 0.5
        self.open_from = np.floor(np.minimum(u0, u1)).astype(np.int64)  # left of this: always blocked
        self.open_to = np.ceil(np.maximum(v0, v1)).astype(np.int64)  # right of this: always blocked
        left_last = np.ceil(np.maximum(u0, u1)).astype(np.int64) - 1
        right_first = np.floor(np.minimum(v0, v1)).astype(np.int64) + 1
        self.left = self._bank(u0 - self.open_from, (iv.left1[i, leaf] - iv.left0[i, leaf]) * per_step, -1.0, self.open_from, left_last)
        self.right = self._bank(right_first - v0, -(iv.right1[i, leaf] - iv.right0[i, leaf]) * per_step, 1.0, right_first, self.open_to)
        self.jaws: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
        self.open_samples = self.n
        if units.row_y is not None:  # jaw edges: bottom blocks by clip((c_k - y)/r + 1/2), top by clip((y - d_k)/r + 1/2)
            y = units.row_y
            bottom = ((iv.bottom0[i] - y) / r + 0.5, (iv.bottom1[i] - iv.bottom0[i]) * per_step)
            top = ((y - iv.top0[i]) / r + 0.5, -(iv.top1[i] - iv.top0[i]) * per_step)
            self.jaws = (bottom, top)
            self.open_samples = self.n - sum(_clip_sum(level, slope, self.n) for level, slope in self.jaws)

    def _bank(self, level: np.ndarray, slope: np.ndarray, per_pixel: float, first: np.ndarray, last: np.ndarray) -> _Bank:
        clipped_first = np.maximum(first, self.lo)
        level = level + per_pixel * (clipped_first - first)
        count = np.maximum(np.minimum(last, self.hi) - clipped_first + 1, 0)
        return _Bank(level, slope, per_pixel, clipped_first, count)

    def spans(self, n_targets: int) -> np.ndarray:
        """Difference-array entries: the open samples over the span between the banks' sweeps."""
        width = len(self.g.x) + 1
        base = self.units.target * width
        value = self.weight * self.open_samples
        start = np.clip(self.open_from, self.lo, self.hi + 1)
        stop = np.clip(self.open_to + 1, self.lo, self.hi + 1)
        index = np.concatenate([base + start, base + stop])
        return np.bincount(index, weights=np.concatenate([value, -value]), minlength=n_targets * width)

    def swept(self, bank: _Bank, chunk: slice, n_targets: int) -> np.ndarray:
        """Minus the samples each swept pixel is blocked by ``bank`` (jaw-weighted), as a flat map."""
        counts = bank.count[chunk]
        unit = np.repeat(np.arange(chunk.start, chunk.stop), counts)
        offset = np.arange(len(unit)) - np.repeat(np.cumsum(counts) - counts, counts)
        level = bank.level[unit] + bank.per_pixel * offset
        slope, n = bank.slope[unit], self.n[unit]
        blocked = _clip_sum(level, slope, n)
        for jaw_level, jaw_slope in self.jaws:  # samples already shut by a jaw are not counted twice
            reaches = np.maximum(jaw_level, jaw_level + jaw_slope * (self.n - 1))[unit] > 0
            at = np.nonzero(reaches)[0]
            blocked[at] -= _clip_product_sum(jaw_level[unit[at]], jaw_slope[unit[at]], level[at], slope[at], n[at])
        index = self.units.target[unit] * len(self.g.x) + bank.first[unit] + offset
        return np.bincount(index, weights=-self.weight[unit] * blocked, minlength=n_targets * len(self.g.x))
