"""MU density: plancheck against pymedphys.Delivery.metersetmap on the same deliveries, one run.

Run: ``python benchmarks/bench_mudensity.py``. Deliveries are the shipped VMAT arc
resampled to 60, 500 and 2,000 control points (and repeated, for long travel per
interval). Prints each time, the speed ratio and the largest difference relative
to the map maximum; then the same arc on a Halcyon's two leaf layers (which
pymedphys cannot read): control points added where the layers cross, and times.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _deliveries import repeated, resampled, vmat_beam

from plancheck.delivery import Delivery
from plancheck.delivery.layers import Collimation, Layer, aperture_delivery
from plancheck.delivery.mudensity import GridSpec, delivery_mudensity

HALCYON = {"distal": np.arange(-140.0, 141.0, 10), "proximal": np.arange(-145.0, 146.0, 10)}


def halcyon_arc(beam: Delivery) -> Collimation:
    """The arc's Agility apertures sampled at each Halcyon leaf's centre, the proximal layer 1 mm wider and 2 mm across."""
    bank1, bank2 = -beam.mlc[:, ::-1, 1], beam.mlc[:, ::-1, 0]  # back to DICOM's banks, leaf order
    layers = []
    for name, edges in HALCYON.items():
        agility_leaf = np.clip(((edges[:-1] + edges[1:]) / 2 + 200) // 5, 0, 79).astype(int)
        wider, shift = (1.0, 2.0) if name == "proximal" else (0.0, 0.0)
        layers.append(Layer(edges, np.clip(bank1[:, agility_leaf] - wider + shift, -140, 140), np.clip(bank2[:, agility_leaf] + wider + shift, -140, 140)))
    y_jaws = np.clip(np.stack([-beam.jaw[:, 1], beam.jaw[:, 0]], axis=1), -140, 140)
    return Collimation(beam.mu, beam.gantry % 360, beam.collimator % 360, tuple(layers), None, y_jaws)


def best_of(repeats: int, func):  # type: ignore[no-untyped-def]
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    beam = vmat_beam()
    cases = [(f"resampled {n}", resampled(beam, n)) for n in (60, 500, 2000)]
    cases.append(("repeated 2000", repeated(beam, 2000)))
    print(f"{'delivery':<16} {'grid':>6} {'pymedphys s':>12} {'plancheck s':>12} {'ratio':>7} {'max diff %':>11}")
    for resolution in (1.0, 0.5):
        spec = GridSpec(resolution_mm=resolution)
        for name, delivery in cases:
            if resolution != 1.0 and name != "resampled 500":
                continue
            theirs_s, theirs = best_of(1, lambda: delivery.to_pymedphys().metersetmap(grid_resolution=resolution))
            ours_s, ours = best_of(3, lambda: delivery_mudensity(delivery, spec))
            diff = 100 * np.max(np.abs(ours - theirs)) / np.max(theirs)
            print(f"{name:<16} {resolution:>4} mm {theirs_s:>12.3f} {ours_s:>12.4f} {theirs_s / ours_s:>6.0f}x {diff:>10.1e}")
    print(f"\n{'Halcyon arc':<16} {'control points':>15} {'combine s':>10} {'MU density s':>13}")
    for name, delivery in cases[:2]:
        collimation = halcyon_arc(delivery)
        combine_s, dual = best_of(3, lambda: aperture_delivery(collimation))
        density_s, _ = best_of(3, lambda: dual.mudensity())
        print(f"{name:<16} {len(delivery):>6} -> {len(dual):<6} {combine_s:>10.4f} {density_s:>13.4f}")


if __name__ == "__main__":
    main()
