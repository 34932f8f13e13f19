"""Wall time of `plancheck check` on the demo patient, as ratios to the in-process work, and its SQL round trips.

    python benchmarks/bench_check.py [--runs 3]

In process: collect + checks of 015112 (no report, no figure), warm. End to end: a new
`plancheck` process, every report written (HTML, JSON, PDF; weekly: the gamma page PNGs and
the eSCAN PDF too). Targets (issue 12, 2-core machine when idle): `plancheck --help` < 0.3 s,
initial < 1.5 s, weekly with gamma pages < 3 s; at most one query per MOSAIQ table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plancheck.api import check_table
from plancheck.collector import collect
from plancheck.config import Config
from plancheck.demo.clinic import build_clinic
from plancheck.demo.mosaiq_db import DEMO_TODAY
from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.mosaiq.reader import read_patient

PATIENT = "015112"
TARGETS_S = {"--help": 0.3, "initial": 1.5, "weekly": 3.0}


def _median(work: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_process(config: Config, kind: str, runs: int) -> float:
    """Median of collect + checks, warm (the first run, which imports, is not counted)."""

    def work() -> None:
        check_table(collect(PATIENT, None, config), patient_id=PATIENT, kind=kind, config=config, today=DEMO_TODAY)

    work()
    return _median(work, runs)


def end_to_end(folder: Path, kind: str | None, runs: int) -> tuple[float, list[str]]:
    """Median wall time of a new `plancheck` process (every report written), and the files the last run wrote."""
    if kind is None:
        return _median(lambda: subprocess.run([sys.executable, "-m", "plancheck", "--help"], check=True, capture_output=True), runs), []
    out = folder / f"bench-{kind}"
    cmd = [sys.executable, "-m", "plancheck", "check", PATIENT, "--config", str(folder / "plancheck.toml"), "--kind", kind,
           "--today", DEMO_TODAY.date().isoformat(), "--out", str(out)]
    wall = _median(lambda: subprocess.run(cmd, check=False, capture_output=True), runs)
    written = sorted({p.suffix for p in out.rglob("*") if p.is_file()})
    escan = [p.name for p in (folder / "escan").glob("*.pdf")] if (folder / "escan").is_dir() else []
    return wall, [*written, *(f"eSCAN {n}" for n in escan)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "demo"
        t0 = time.perf_counter()
        _, config = build_clinic(folder)
        print(f"demo clinic built in {time.perf_counter() - t0:.2f} s")

        db = Mosaiq(config.mosaiq_url)
        read_patient(db, PATIENT, None)
        print(f"MOSAIQ round trips for one patient: {db.round_trips} (one query per table, never one per beam)")

        work = {kind: in_process(config, kind, max(runs, 3)) for kind in ("initial", "weekly")}
        print(f"in process, collect + checks (all sources, warm): initial {work['initial']:.3f} s, weekly {work['weekly']:.3f} s")
        print(f"{'end to end (new process)':44} {'median s':>9} {'target s':>9} {'x in-process':>13}  written")
        commands = (("plancheck --help", None), *((f"plancheck check {PATIENT} --kind {k}", k) for k in ("initial", "weekly")))
        for label, kind in commands:
            wall, written = end_to_end(folder, kind, runs)
            ratio = f"{wall / work[kind]:13.1f}" if kind else f"{'':>13}"
            print(f"{label:44} {wall:9.2f} {TARGETS_S[kind or '--help']:9.1f} {ratio}  {', '.join(written)}")


if __name__ == "__main__":
    main()
