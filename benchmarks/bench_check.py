"""Wall time of `plancheck check` on the demo patient, as ratios to the in-process work, and its SQL round trips.

    python benchmarks/bench_check.py [--runs 3]

In process: collect + checks of 015112 (no report, no figure), warm. End to end: a new
`plancheck` process, every report written (HTML, JSON, PDF; weekly: the gamma page PNGs and
the eSCAN PDF too; an initial check has no delivery to compare, so no eSCAN PDF), the run stored
in the record. Then where the time of one new process goes, stage by stage (imports included
where they first happen; the report worker writes on the other core meanwhile).
plancheck's own modules are compiled to bytecode first, as an installed package has them (the
first run of an editable install writes them; with PYTHONDONTWRITEBYTECODE set none are kept and
every run compiles its ~120 modules again, 0.25 s).
Targets (issue 12, 2-core machine when idle): `plancheck --help` < 0.3 s, initial < 1.5 s,
weekly with gamma pages < 3 s; at most one query per MOSAIQ table. The load average is
printed first: on a busy machine every figure is longer (the minimum of the runs is the
closest to an idle machine's).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import plancheck
from plancheck.api import check_table
from plancheck.collector import collect
from plancheck.config import Config
from plancheck.demo.clinic import build_clinic
from plancheck.demo.mosaiq_db import DEMO_TODAY
from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.mosaiq.reader import read_patient

PATIENT = "015112"
TARGETS_S = {"--help": 0.3, "initial": 1.5, "weekly": 3.0}


def _walls(work: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return times


def in_process(config: Config, kind: str, runs: int) -> float:
    """Median of collect + checks, warm (the first run, which imports, is not counted)."""

    def work() -> None:
        check_table(collect(PATIENT, None, config), patient_id=PATIENT, kind=kind, config=config, today=DEMO_TODAY)

    work()
    return statistics.median(_walls(work, runs))


def end_to_end(folder: Path, kind: str | None, runs: int) -> tuple[list[float], list[str]]:
    """Wall times of new `plancheck` processes (every report written), and the files the last run wrote."""
    if kind is None:
        return _walls(lambda: subprocess.run([sys.executable, "-m", "plancheck", "--help"], check=True, capture_output=True), runs), []
    out = folder / f"bench-{kind}"
    cmd = [sys.executable, "-m", "plancheck", "check", PATIENT, "--config", str(folder / "plancheck.toml"), "--kind", kind,
           "--today", DEMO_TODAY.date().isoformat(), "--out", str(out)]
    walls = _walls(lambda: subprocess.run(cmd, check=False, capture_output=True), runs)
    written = sorted({p.suffix for p in out.rglob("*") if p.is_file()})
    escan = [p.name for p in (folder / "escan").glob("*.pdf")] if (folder / "escan").is_dir() else []
    return walls, [*written, *(f"eSCAN {n}" for n in escan)]


STAGES = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
lap = [t0]
def stage(label):
    now = time.perf_counter(); print(f"{label}\t{now - lap[0]:.3f}"); lap[0] = now
from plancheck.cli.main import app
stage("start-up: python, plancheck.cli")
from plancheck.cli.check import Record, start_reports
from plancheck.cli.common import loading
from plancheck.cli.lookup import collect_patient
from plancheck.config import load_config
from plancheck.report.worker import ReportWorker
cfg = load_config(Path(sys.argv[1]) / "plancheck.toml")
worker = ReportWorker(pages=sys.argv[3] != "initial")  # as `plancheck check` does: the writers load in it while the sources are read
with loading():  # as `plancheck check` does: the garbage collector paused while the libraries load
    table = collect_patient(sys.argv[2], None, cfg)
stage("collect (source imports + reads)")
import datetime as dt
from plancheck.api import check_table
out = Path(sys.argv[1]) / "bench-stages"
today = dt.datetime.fromisoformat(sys.argv[4])
run = check_table(table, patient_id=sys.argv[2], kind=sys.argv[3], config=cfg, today=today, figure_dir=out / sys.argv[2] / "figures")
stage("checks (comparisons kept, no page drawn)")
finish = start_reports(run, cfg, out, worker)
stage("save JSON, ask the worker for the rest")
import io
from rich.console import Console
from plancheck.report import render_terminal
render_terminal(run, Console(file=io.StringIO(), width=120))
stage("terminal report (worker writing)")
Record(cfg, today, out).store(run)
stage("store in the record (worker writing)")
finish()
stage("wait: pages, HTML, PDF, eSCAN (worker)")
print(f"total\t{time.perf_counter() - t0:.3f}")
import gc
gc.freeze()  # as plancheck.cli.main does at the end
"""


def stages(folder: Path, kind: str) -> list[tuple[str, float]]:
    """Seconds per stage of one new process (see STAGES), imports counted where they first happen."""
    argv = [str(folder), PATIENT, kind, DEMO_TODAY.isoformat()]
    done = subprocess.run([sys.executable, "-c", STAGES, *argv], check=True, capture_output=True, text=True)
    return [(label, float(seconds)) for label, seconds in (line.split("\t") for line in done.stdout.splitlines() if "\t" in line)]


def print_stages(folder: Path, work: dict[str, float]) -> None:
    for kind in ("initial", "weekly"):
        rows = stages(folder, kind)
        total = dict(rows)["total"]
        print(f"\nwhere one `plancheck check --kind {kind}` goes (new process, {total:.2f} s = {total / work[kind]:.1f} x in-process):")
        for label, seconds in rows:
            print(f"  {label:40} {seconds:6.3f} s  {100 * seconds / total:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    compileall.compile_dir(Path(plancheck.__file__).parent, quiet=1)
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
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
        print(f"{'end to end (new process)':44} {'median s':>9} {'min s':>6} {'target s':>9} {'x in-process':>13}  written")
        commands = (("plancheck --help", None), *((f"plancheck check {PATIENT} --kind {k}", k) for k in ("initial", "weekly")))
        for label, kind in commands:
            walls, written = end_to_end(folder, kind, runs)
            wall = statistics.median(walls)
            ratio = f"{wall / work[kind]:13.1f}" if kind else f"{'':>13}"
            print(f"{label:44} {wall:9.2f} {min(walls):6.2f} {TARGETS_S[kind or '--help']:9.1f} {ratio}  {', '.join(written)}")
        print_stages(folder, work)


if __name__ == "__main__":
    main()
