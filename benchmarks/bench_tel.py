"""Monaco tel.1: plancheck's reader against pymedphys' on the same files (written by plancheck's writer).

Run: python benchmarks/bench_tel.py
"""

from __future__ import annotations

import tempfile
import timeit
import warnings
from pathlib import Path

import numpy as np
import pymedphys

from plancheck.delivery import Delivery
from plancheck.sources.monaco.telfile import read_tel
from plancheck.fabricate.tel import write_tel
from plancheck.fabricate.focaldata import tel_from_rtplan

PMP = Path(pymedphys.__file__).parent


def synthetic_arcs(arcs: int, points: int, seed: int = 1) -> dict[str, Delivery]:
    """VMAT-like beams: gantry sweeping 360 deg, smooth leaf motion, 2 MU per control point."""
    rng = np.random.default_rng(seed)
    beams = {}
    for a in range(arcs):
        gantry = np.linspace(-179.0, 179.0, points)[:: 1 if a % 2 == 0 else -1]
        mu = np.linspace(0.0, 2.0 * (points - 1), points)
        centre = np.cumsum(rng.normal(0, 1.0, (points, 80)), axis=0)
        width = np.abs(rng.normal(20, 3, (points, 80)))
        mlc = np.stack([centre + width / 2, -(centre - width / 2)], axis=2)
        jaw = np.tile([60.0, 60.0], (points, 1))
        beams[f"1-{a + 1}"] = Delivery(mu, gantry, np.zeros(points), mlc, jaw)
    return beams


def best_of(func, repeat: int = 5) -> float:
    return min(timeit.repeat(func, number=1, repeat=repeat))


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_tel_"))
    files = {
        "vmat_example (2 arcs, 63 cp)": tel_from_rtplan(PMP / "_experimental/serviceplans/templates/vmat_example.dcm", folder / "vmat.tel.1"),
        "06MV_plan (10 static beams)": tel_from_rtplan(PMP / "tests/dicom/data/rtplan/06MV_plan.dcm", folder / "static.tel.1"),
        "synthetic (4 arcs x 180 cp)": write_tel(synthetic_arcs(4, 180), folder / "arcs.tel.1"),
    }
    warnings.simplefilter("ignore")
    print(f"{'file':32} {'lines':>7} {'plancheck ms':>13} {'pymedphys ms':>13} {'ratio':>7}")
    for name, path in files.items():
        ours = best_of(lambda p=path: read_tel(p).delivery())
        theirs = best_of(lambda p=path: pymedphys.Delivery.from_monaco(p))
        assert read_tel(path).delivery().allclose(Delivery.from_pymedphys(pymedphys.Delivery.from_monaco(path)), atol=1e-9)
        lines = path.read_text().count("\n")
        print(f"{name:32} {lines:7d} {ours * 1e3:13.1f} {theirs * 1e3:13.1f} {theirs / ours:6.1f}x")
    print("ratio = pymedphys time / plancheck time (above 1: plancheck faster); best of 5 runs each")


if __name__ == "__main__":
    main()
