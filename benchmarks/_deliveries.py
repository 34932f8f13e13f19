"""Deliveries for the benchmarks: the VMAT plan pymedphys ships, resampled or repeated to n control points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymedphys

from plancheck import deliveries
from plancheck.delivery import Delivery

VMAT_PLAN = Path(pymedphys.__file__).parent / "_experimental/serviceplans/templates/vmat_example.dcm"


def vmat_beam() -> Delivery:
    """The first arc of the shipped VMAT plan."""
    return deliveries.from_dicom(VMAT_PLAN, beam="1-1")


def resampled(delivery: Delivery, n: int) -> Delivery:
    """The same delivery with ``n`` control points, linearly interpolated in control-point index."""
    old = np.arange(len(delivery), dtype=float)
    new = np.linspace(0.0, len(delivery) - 1.0, n)

    def interp(values: np.ndarray) -> np.ndarray:
        flat = values.reshape(len(delivery), -1)
        return np.stack([np.interp(new, old, column) for column in flat.T], axis=1).reshape((n, *values.shape[1:]))

    return Delivery(interp(delivery.mu), interp(delivery.gantry), interp(delivery.collimator), interp(delivery.mlc), interp(delivery.jaw))


def repeated(delivery: Delivery, n: int) -> Delivery:
    """Copies of the delivery merged one after another (as a multi-arc record), cut to ``n`` control points."""
    copies = -(-n // len(delivery))
    merged = Delivery.merge(*([delivery] * copies))
    return Delivery(merged.mu[:n], merged.gantry[:n], merged.collimator[:n], merged.mlc[:n], merged.jaw[:n])
