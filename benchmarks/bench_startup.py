"""Start-up time of the `plancheck` command, against the floor any Python CLI pays.

    python benchmarks/bench_startup.py [--runs 9]

Target (issue 12): `plancheck --help` under 0.3 s on the 2-core machine when idle. Printed as
medians and as ratios to a bare interpreter and to `import typer` (the floor of a Typer CLI).
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

import plancheck


def _median_wall(cmd: list[str], runs: int) -> float:
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    compileall.compile_dir(Path(plancheck.__file__).parent, quiet=1)  # as an installed package has it (see bench_check.py)
    py = [sys.executable]
    cases = {
        "python -c pass": [*py, "-c", "pass"],
        "python -c 'import typer'": [*py, "-c", "import typer"],
        "plancheck --help": [*py, "-m", "plancheck", "--help"],
        "plancheck check --help": [*py, "-m", "plancheck", "check", "--help"],
        "plancheck rules list": [*py, "-m", "plancheck", "rules", "list"],
    }
    walls = {name: _median_wall(cmd, runs) for name, cmd in cases.items()}
    floor, typer_floor = walls["python -c pass"], walls["python -c 'import typer'"]
    print(f"{'command':32} {'median s':>9} {'x python':>9} {'x typer':>8}")
    for name, wall in walls.items():
        print(f"{name:32} {wall:9.3f} {wall / floor:9.1f} {wall / typer_floor:8.2f}")
    print("target: plancheck --help < 0.300 s")


if __name__ == "__main__":
    main()
