"""Gamma: plancheck.gamma against pymedphys.gamma on the same MU density maps, one run.

Run: ``python benchmarks/bench_gamma.py`` (pymedphys' default interpolation needs
numba: ``pip install -e '.[bench]'``). Each first call runs in a fresh Python
process, so it pays what a command pays: numba's compile with an empty cache
("cold"), or loading its cached machine code ("cached"). Then both are timed warm
in this process. Prints times, ratios, pass rates and the largest gamma difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _deliveries import VMAT_PLAN

from plancheck import deliveries
from plancheck.delivery import Delivery, GridSpec
from plancheck.delivery.gamma import gamma, pass_rate

SETTINGS = {
    "2%/0.5mm local, max 2": {"dose_percent_threshold": 2, "distance_mm_threshold": 0.5, "local_gamma": True, "max_gamma": 2},
    "3%/3mm global": {"dose_percent_threshold": 3, "distance_mm_threshold": 3},
}

FIRST_CALL = """
import json, sys, time
import numpy as np
data = np.load(sys.argv[1])
options = json.loads(sys.argv[3])
axes = (data["y"], data["x"])
if sys.argv[2] == "pymedphys":
    import pymedphys
    func = pymedphys.gamma
else:
    from plancheck.delivery.gamma import gamma as func
start = time.perf_counter()
func(axes, data["reference"], axes, data["evaluation"], **options)
print(time.perf_counter() - start)
"""


def shifted_pair(delivery: Delivery, pair: int, mm: float) -> Delivery:
    """The delivery with one leaf pair moved ``mm`` towards +x."""
    mlc = np.array(delivery.mlc)
    mlc[:, pair, 0] -= mm
    mlc[:, pair, 1] += mm
    return delivery.replace(mlc=mlc)


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    vmat = deliveries.from_dicom(VMAT_PLAN)
    field = deliveries.from_dicom(Path(VMAT_PLAN).parents[3] / "tests/dicom/data/rtplan/06MV_plan.dcm", beam="10x10")
    return {
        "VMAT, pair 41 +1 mm": (vmat.mudensity(), shifted_pair(vmat, 41, 1.0).mudensity()),
        "10x10, pair 41 +1 mm, MU +3%": (field.mudensity(), shifted_pair(field, 41, 1.0).mudensity() * 1.03),
    }


def first_call(library: str, inputs: Path, options: dict, cache_dir: str | None) -> float:
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, str(inputs), library, json.dumps(options)], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def warm(func, *args, **options) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    best, result = np.inf, None
    for _ in range(3):
        start = time.perf_counter()
        result = func(*args, **options)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    import pymedphys

    axes_dict = GridSpec().axes()
    axes = (axes_dict["jaw"], axes_dict["mlc"])
    print(f"{'maps':<30} {'setting':<22} {'points':>6} {'pmp cold':>9} {'pmp cached':>10} {'ours 1st':>9} {'ratio':>6} "
          f"{'pmp warm':>9} {'ours warm':>9} {'ratio':>6} {'pass pmp':>9} {'pass ours':>9} {'max |dg|':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (reference, evaluation) in cases().items():
            inputs = Path(tmp) / "maps.npz"
            np.savez(inputs, y=axes[0], x=axes[1], reference=reference, evaluation=evaluation)
            for setting, options in SETTINGS.items():
                cold = first_call("pymedphys", inputs, options, tempfile.mkdtemp(dir=tmp))
                cached = first_call("pymedphys", inputs, options, None)
                ours_first = first_call("plancheck", inputs, options, None)
                theirs_s, theirs = warm(pymedphys.gamma, axes, reference, axes, evaluation, **options)
                ours_s, ours = warm(gamma, axes, reference, axes, evaluation, **options)
                points = int(np.count_nonzero(~np.isnan(theirs)))
                print(f"{name:<30} {setting:<22} {points:>6} {cold:>8.2f}s {cached:>9.2f}s {ours_first:>8.3f}s {min(cold, cached) / ours_first:>5.0f}x "
                      f"{theirs_s:>8.3f}s {ours_s:>8.3f}s {theirs_s / ours_s:>5.0f}x {pass_rate(theirs):>8.2f}% {pass_rate(ours):>8.2f}% "
                      f"{np.nanmax(np.abs(ours - theirs)):>9.1e}")


if __name__ == "__main__":
    main()
