"""MU density: plancheck against pymedphys.Delivery.metersetmap on the same deliveries, one run.

Run: ``python benchmarks/bench_mudensity.py``. Deliveries are the shipped VMAT arc
resampled to 60, 500 and 2,000 control points (and repeated, for long travel per
interval). Prints each time, the speed ratio and the largest difference relative
to the map maximum.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _deliveries import repeated, resampled, vmat_beam

from plancheck.delivery.mudensity import GridSpec, delivery_mudensity


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


if __name__ == "__main__":
    main()
