"""The aperture that stacked collimators leave open, as one single-layer Delivery in pymedphys' conventions.

Varian Halcyon / Ethos (``MLCX1`` + ``MLCX2``) and ViewRay MRIdian (two ``MLCX`` stacks) shape the beam
with two leaf layers offset by half a leaf, and X jaws, where a machine has them, cut the leaves' aperture
too: a point is open only where every layer and jaw leaves it open. Splitting the leaf-width direction at
every boundary of every layer gives strips in each of which every layer has one leaf pair, so a strip is
open from its largest left edge to its smallest right edge: one virtual leaf pair. Between control points
each edge moves linearly, but the largest (or smallest) of several does not once two of them cross; a
control point is inserted at every such crossing (MU, angles and positions interpolated), after which the
virtual leaves move linearly between consecutive control points again and pymedphys' MU density applies
unchanged. A field without an MLC is the same with no layer: virtual 5 mm strips, each open between the X jaws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plancheck.delivery.model import Delivery

JAW_ONLY_BOUNDARIES_MM = np.linspace(-200.0, 200.0, 81)  # a jaw-only field's virtual leaves (Agility's layout)
_SAME = 1e-9  # crossings closer than this (in control points) make one control point


@dataclass(frozen=True)
class Layer:
    """One leaf layer as DICOM holds it: ``boundaries_mm`` (N + 1, increasing along IEC Y) and, per control point,
    the positions (mm along IEC X) of bank 1 (the X1 side) and bank 2, leaves in boundary order, (n, N) each."""

    boundaries_mm: np.ndarray
    bank1_mm: np.ndarray
    bank2_mm: np.ndarray


@dataclass(frozen=True)
class Collimation:
    """A beam's control points in planning-system conventions: cumulative MU, IEC angles, leaf layers and
    signed jaws ``[X1, X2]`` and ``[Y1, Y2]`` per control point (mm; ``None`` where the beam has none)."""

    mu: np.ndarray
    gantry: np.ndarray
    collimator: np.ndarray
    layers: tuple[Layer, ...]
    x_jaws: np.ndarray | None = None
    y_jaws: np.ndarray | None = None


def aperture_delivery(c: Collimation) -> Delivery:
    """The Delivery of the aperture every layer and jaw leaves open, control points added where edges cross."""
    if not c.layers and c.x_jaws is None:
        raise ValueError("neither an MLC nor X jaws: the width of the field is not known")
    boundaries = strip_boundaries(c.layers)
    lefts, rights, covered = _edges(c, boundaries)
    at = _control_point_coordinates(np.asarray(c.mu, dtype=float), lefts[:, covered], rights[:, covered])
    lefts, rights = _interpolate(lefts, at), _interpolate(rights, at)
    left, right = lefts.max(axis=2), rights.min(axis=2)
    right = np.maximum(right, left)  # an overlap is a closed pair
    left[:, ~covered] = right[:, ~covered] = 0.0  # where a layer has no leaf, the stack is closed
    if c.y_jaws is not None:
        y_jaws = _interpolate(np.asarray(c.y_jaws, dtype=float), at)
    else:  # no Y jaws (Halcyon may hold none, MRIdian has none): the leaves' common extent
        rows = np.flatnonzero(covered)
        y_jaws = np.tile([boundaries[rows[0]], boundaries[rows[-1] + 1]] if len(rows) else [0.0, 0.0], (len(at), 1))
    boundaries, left, right = _symmetric(boundaries, left, right)
    return Delivery.from_banks(
        _interpolate(np.asarray(c.mu, dtype=float), at),
        _interpolate(np.asarray(c.gantry, dtype=float), at, angles=True),
        _interpolate(np.asarray(c.collimator, dtype=float), at, angles=True),
        left, right, y_jaws[:, 0], y_jaws[:, 1], leaf_boundaries_mm=boundaries,
    )


def strip_boundaries(layers: tuple[Layer, ...]) -> np.ndarray:
    """Every boundary of every layer (to 1 um), increasing: the strips in which each layer has one leaf pair."""
    if not layers:
        return JAW_ONLY_BOUNDARIES_MM.copy()
    return np.unique(np.round(np.concatenate([np.asarray(layer.boundaries_mm, dtype=float) for layer in layers]), 6))


def _edges(c: Collimation, boundaries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left and right edge candidates per control point and strip, (n, strips, devices) each, and which strips
    every layer covers."""
    middles = (boundaries[:-1] + boundaries[1:]) / 2
    n, strips = len(c.mu), len(middles)
    covered = np.ones(strips, dtype=bool)
    lefts, rights = [], []
    for layer in c.layers:
        edges = np.asarray(layer.boundaries_mm, dtype=float)
        leaf = np.searchsorted(edges, middles, side="right") - 1
        covered &= (leaf >= 0) & (leaf < len(edges) - 1)
        leaf = np.clip(leaf, 0, len(edges) - 2)
        lefts.append(np.asarray(layer.bank1_mm, dtype=float)[:, leaf])
        rights.append(np.asarray(layer.bank2_mm, dtype=float)[:, leaf])
    if c.x_jaws is not None:
        x_jaws = np.asarray(c.x_jaws, dtype=float)
        lefts.append(np.repeat(x_jaws[:, :1], strips, axis=1))
        rights.append(np.repeat(x_jaws[:, 1:], strips, axis=1))
    return np.stack(lefts, axis=2).reshape(n, strips, -1), np.stack(rights, axis=2).reshape(n, strips, -1), covered


def _control_point_coordinates(mu: np.ndarray, lefts: np.ndarray, rights: np.ndarray) -> np.ndarray:
    """The control points as positions 0..n-1, with a fractional one wherever two edges cross while MU is given."""
    n = len(mu)
    original = np.arange(n, dtype=float)
    if n < 2:
        return original
    edges = np.concatenate([lefts, rights], axis=2)
    first, second = np.triu_indices(edges.shape[2], k=1)
    gap = edges[:, :, first] - edges[:, :, second]  # (n, strips, pairs of edges)
    before, after = gap[:-1], gap[1:]
    crosses = (before * after < 0) & (np.diff(mu) != 0)[:, None, None]
    interval = np.nonzero(crosses)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = (before / (before - after))[crosses]
    inserted = interval + fraction
    inserted = inserted[(fraction > _SAME) & (fraction < 1 - _SAME)]
    coordinates = np.union1d(original, inserted)
    keep = np.concatenate([[True], np.diff(coordinates) > _SAME]) | np.isin(coordinates, original)
    return coordinates[keep]


def _interpolate(values: np.ndarray, at: np.ndarray, angles: bool = False) -> np.ndarray:
    """``values`` (per control point, first axis) at fractional control points; angles the short way round."""
    extended = np.concatenate([values, values[-1:]])
    index = np.floor(at).astype(int)
    fraction = (at - index).reshape(-1, *([1] * (values.ndim - 1)))
    step = extended[index + 1] - extended[index]
    if angles:
        step = (step + 180.0) % 360.0 - 180.0
        return (extended[index] + fraction * step) % 360.0
    return extended[index] + fraction * step


def _symmetric(boundaries: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strips made symmetric about the beam axis (pymedphys centres the leaves there) by a closed strip added."""
    low, high = boundaries[0], boundaries[-1]
    if np.isclose(low, -high, atol=1e-6):
        return boundaries, left, right
    closed = np.zeros((len(left), 1))
    if -low > high:
        return np.append(boundaries, -low), np.hstack([left, closed]), np.hstack([right, closed])
    return np.insert(boundaries, 0, -high), np.hstack([closed, left]), np.hstack([closed, right])
