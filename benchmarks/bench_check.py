"""Wall time of `plancheck check` on the demo patient, and the SQL round trips it costs.

    python benchmarks/bench_check.py

Targets (issue: foundation): under 2 s, at most one query per table.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plancheck.api import check_table
from plancheck.collector import collect
from plancheck.demo.clinic import build_clinic
from plancheck.demo.mosaiq_db import DEMO_TODAY
from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.mosaiq.reader import read_patient


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "demo"
        t0 = time.perf_counter()
        _, config = build_clinic(folder)
        print(f"demo clinic built in {time.perf_counter() - t0:.2f} s")

        db = Mosaiq(config.mosaiq_url)
        read_patient(db, "015112", None)
        print(f"MOSAIQ round trips for one patient: {db.round_trips} (tables queried per patient: {len(queries.ALL) - 1}; one query per table)")

        times = []
        for _ in range(5):
            t = time.perf_counter()
            table = collect("015112", None, config)
            check_table(table, patient_id="015112", kind="weekly", config=config, today=DEMO_TODAY)
            times.append(time.perf_counter() - t)
        print(f"collect + weekly checks, in process (all sources): median {statistics.median(times):.3f} s over {len(times)} runs")

        cmd = [sys.executable, "-m", "plancheck", "check", "015112", "--config", str(folder / "plancheck.toml"), "--kind", "weekly", "--today", DEMO_TODAY.date().isoformat()]
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, check=False, capture_output=True)
            walls.append(time.perf_counter() - t)
        print(f"`plancheck check 015112 --kind weekly` wall time (new process, reports written): median {statistics.median(walls):.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
