"""The one normalised delivery model: control points as arrays, in pymedphys' conventions.

``mu`` is cumulative monitor units per control point, ``gantry`` and
``collimator`` are bipolar IEC 61217 degrees (-180..180) as pymedphys uses them,
``mlc`` is (n, leaf_pairs, 2) in mm with pymedphys' bank order and sign, and
``jaw`` is (n, 2) Y jaws in mm, pymedphys' order and sign. ``leaf_pair_widths_mm`` (pymedphys'
leaf order, symmetric about the beam axis) is the leaf layout where the source knows it, ``None`` for
pymedphys' default (Elekta Agility, 80 x 5 mm); a stacked MLC's two layers arrive here already combined
into the one aperture they leave open (:mod:`plancheck.delivery.layers`). Pure analysis data: reading it
from a system or writing it out is :mod:`plancheck.deliveries`' work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plancheck.delivery.mudensity import AGILITY_LEAF_PAIR_WIDTHS_MM, GridSpec, delivery_mudensity
from plancheck.units import bipolar

ARRAYS = ("mu", "gantry", "collimator", "mlc", "jaw")


@dataclass(frozen=True, eq=False)
class Delivery:
    """Control-point arrays of one beam (or of several beams merged)."""

    mu: np.ndarray
    gantry: np.ndarray
    collimator: np.ndarray
    mlc: np.ndarray
    jaw: np.ndarray
    leaf_pair_widths_mm: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        conv = {
            "mu": np.asarray(self.mu, dtype=float).reshape(-1),
            "gantry": np.asarray(self.gantry, dtype=float).reshape(-1),
            "collimator": np.asarray(self.collimator, dtype=float).reshape(-1),
            "mlc": np.asarray(self.mlc, dtype=float),
            "jaw": np.asarray(self.jaw, dtype=float),
        }
        n = len(conv["mu"])
        if conv["mlc"].ndim != 3 or conv["mlc"].shape[0] != n or conv["mlc"].shape[2] != 2:
            raise ValueError(f"mlc must have shape (n, leaf_pairs, 2) with n={n}, got {conv['mlc'].shape}")
        if conv["jaw"].shape != (n, 2):
            raise ValueError(f"jaw must have shape ({n}, 2), got {conv['jaw'].shape}")
        for name in ("gantry", "collimator"):
            if len(conv[name]) != n:
                raise ValueError(f"{name} has {len(conv[name])} values for {n} control points")
        for name, arr in conv.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if self.leaf_pair_widths_mm is not None:
            widths = tuple(float(w) for w in self.leaf_pair_widths_mm)
            if len(widths) != conv["mlc"].shape[1] or min(widths, default=0.0) <= 0:
                raise ValueError(f"{len(widths)} leaf pair widths for {conv['mlc'].shape[1]} leaf pairs (each must be > 0)")
            object.__setattr__(self, "leaf_pair_widths_mm", widths)

    @property
    def leaf_widths(self) -> tuple[float, ...]:
        """The leaf pair widths the MU density uses: the source's, else pymedphys' default (Agility)."""
        return self.leaf_pair_widths_mm if self.leaf_pair_widths_mm is not None else AGILITY_LEAF_PAIR_WIDTHS_MM

    def grid(self, resolution_mm: float | None = None) -> GridSpec:
        """The calculation grid that fits this delivery's leaves (1 mm, or the finest step the leaf widths need)."""
        return GridSpec.for_leaves(self.leaf_widths, resolution_mm)

    # ---- shape ---------------------------------------------------------
    @property
    def monitor_units(self) -> np.ndarray:
        return self.mu

    def __len__(self) -> int:
        return len(self.mu)

    @property
    def total_mu(self) -> float:
        return float(self.mu[-1]) if len(self.mu) else 0.0

    def replace(self, **arrays: Any) -> Delivery:
        """A copy with some arrays replaced (used by simulated faults)."""
        fields: dict[str, Any] = {k: getattr(self, k) for k in (*ARRAYS, "leaf_pair_widths_mm")}
        fields.update(arrays)
        return Delivery(**fields)

    def allclose(self, other: Delivery, atol: float = 1e-6) -> bool:
        return self.leaf_widths == other.leaf_widths and all(
            np.shape(getattr(self, k)) == np.shape(getattr(other, k))
            and np.allclose(getattr(self, k), getattr(other, k), atol=atol)
            for k in ARRAYS
        )

    @classmethod
    def merge(cls, *deliveries: Delivery) -> Delivery:
        """Concatenate beams into one delivery, MU kept cumulative (as pymedphys' merge)."""
        if not deliveries:
            raise ValueError("nothing to merge")
        layouts = {d.leaf_widths for d in deliveries}
        if len(layouts) > 1:
            raise ValueError(f"cannot merge beams with {len(layouts)} different leaf layouts (leaf pair widths)")
        all_mu = np.concatenate([d.mu for d in deliveries])
        steps = np.concatenate([[0.0], np.diff(all_mu)])
        mu = np.cumsum(np.clip(steps, 0, None))
        return cls(
            mu,
            np.concatenate([d.gantry for d in deliveries]),
            np.concatenate([d.collimator for d in deliveries]),
            np.concatenate([d.mlc for d in deliveries]),
            np.concatenate([d.jaw for d in deliveries]),
            deliveries[0].leaf_pair_widths_mm,
        )

    @classmethod
    def from_banks(
        cls,
        mu: Any,
        gantry_iec: Any,
        collimator_iec: Any,
        bank_a_mm: Any,
        bank_b_mm: Any,
        y1_mm: Any,
        y2_mm: Any,
        leaf_boundaries_mm: Any = None,
    ) -> Delivery:
        """From planning-system conventions (IEC angles, leaf banks A and B in leaf order,
        signed Y1/Y2 jaws in mm, as DICOM and MOSAIQ hold them) to pymedphys' conventions.

        ``leaf_boundaries_mm`` (DICOM's LeafPositionBoundaries: leaf order, increasing, symmetric
        about 0) gives the leaf widths; ``None`` keeps pymedphys' default (Agility).
        """
        a, b = np.atleast_2d(np.asarray(bank_a_mm, dtype=float)), np.atleast_2d(np.asarray(bank_b_mm, dtype=float))
        mlc = np.stack([b[:, ::-1], -a[:, ::-1]], axis=2)
        jaw = np.stack([np.asarray(y2_mm, dtype=float), -np.asarray(y1_mm, dtype=float)], axis=1)
        widths = None if leaf_boundaries_mm is None else tuple(np.diff(np.asarray(leaf_boundaries_mm, dtype=float))[::-1])
        return cls(np.asarray(mu, dtype=float), bipolar(gantry_iec), bipolar(collimator_iec), mlc, jaw, widths)

    # ---- analysis --------------------------------------------------------
    def mudensity(self, grid: GridSpec | None = None) -> np.ndarray:
        """MU density map (rows: jaw direction, columns: leaf direction) on ``grid``; axes from ``grid.axes()``.

        Equals ``pymedphys.Delivery.metersetmap()`` on the same grid. The default grid is :meth:`grid`: 1 mm,
        400 mm leaf gap and this delivery's leaf widths (pymedphys' default for an Agility delivery).
        """
        return delivery_mudensity(self, grid or self.grid())

    # ---- pymedphys interop ----------------------------------------------
    def to_pymedphys(self) -> Any:
        import pymedphys

        return pymedphys.Delivery(self.mu, self.gantry, self.collimator, self.mlc, self.jaw)

    @classmethod
    def from_pymedphys(cls, delivery: Any) -> Delivery:
        return cls(
            np.asarray(delivery.mu),
            np.asarray(delivery.gantry),
            np.asarray(delivery.collimator),
            np.asarray(delivery.mlc),
            np.asarray(delivery.jaw),
        )
