"""The one normalised delivery model: control points as arrays, in pymedphys' conventions.

``mu`` is cumulative monitor units per control point, ``gantry`` and
``collimator`` are bipolar IEC 61217 degrees (-180..180) as pymedphys uses them,
``mlc`` is (n, leaf_pairs, 2) in mm with pymedphys' bank order and sign, and
``jaw`` is (n, 2) Y jaws in mm, pymedphys' order and sign. Pure analysis data: reading it
from a system or writing it out is :mod:`plancheck.deliveries`' work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plancheck.delivery.mudensity import GridSpec, delivery_mudensity
from plancheck.units import bipolar


@dataclass(frozen=True, eq=False)
class Delivery:
    """Control-point arrays of one beam (or of several beams merged)."""

    mu: np.ndarray
    gantry: np.ndarray
    collimator: np.ndarray
    mlc: np.ndarray
    jaw: np.ndarray

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
        fields = {k: getattr(self, k) for k in ("mu", "gantry", "collimator", "mlc", "jaw")}
        fields.update(arrays)
        return Delivery(**fields)

    def allclose(self, other: Delivery, atol: float = 1e-6) -> bool:
        return all(
            np.shape(getattr(self, k)) == np.shape(getattr(other, k))
            and np.allclose(getattr(self, k), getattr(other, k), atol=atol)
            for k in ("mu", "gantry", "collimator", "mlc", "jaw")
        )

    @classmethod
    def merge(cls, *deliveries: Delivery) -> Delivery:
        """Concatenate beams into one delivery, MU kept cumulative (as pymedphys' merge)."""
        if not deliveries:
            raise ValueError("nothing to merge")
        all_mu = np.concatenate([d.mu for d in deliveries])
        steps = np.concatenate([[0.0], np.diff(all_mu)])
        mu = np.cumsum(np.clip(steps, 0, None))
        return cls(
            mu,
            np.concatenate([d.gantry for d in deliveries]),
            np.concatenate([d.collimator for d in deliveries]),
            np.concatenate([d.mlc for d in deliveries]),
            np.concatenate([d.jaw for d in deliveries]),
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
    ) -> Delivery:
        """From planning-system conventions (IEC angles, leaf banks A and B in leaf order,
        signed Y1/Y2 jaws in mm, as DICOM and MOSAIQ hold them) to pymedphys' conventions."""
        a, b = np.atleast_2d(np.asarray(bank_a_mm, dtype=float)), np.atleast_2d(np.asarray(bank_b_mm, dtype=float))
        mlc = np.stack([b[:, ::-1], -a[:, ::-1]], axis=2)
        jaw = np.stack([np.asarray(y2_mm, dtype=float), -np.asarray(y1_mm, dtype=float)], axis=1)
        return cls(np.asarray(mu, dtype=float), bipolar(gantry_iec), bipolar(collimator_iec), mlc, jaw)

    # ---- analysis --------------------------------------------------------
    def mudensity(self, grid: GridSpec | None = None) -> np.ndarray:
        """MU density map (rows: jaw direction, columns: leaf direction) on ``grid``; axes from ``grid.axes()``.

        Equals ``pymedphys.Delivery.metersetmap()`` on the same grid (default: 1 mm, 400 mm leaf gap, Agility).
        """
        return delivery_mudensity(self, grid)

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
