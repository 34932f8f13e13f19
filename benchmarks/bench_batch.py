"""`plancheck batch --due` on the demo clinic grown to N patients: patients per minute, and the most
MOSAIQ connections it had open at once.

    python benchmarks/bench_batch.py [--patients 100] [--workers 2] [--connections 2] [--reports]

The demo clinic is built, grown with copies of its patients in every source (plancheck.demo.grow),
and checked a week after the demo's day, when every patient's weekly (or final) check is due. The
command runs as a new process, as the nightly timer runs it; the rate counts the whole command
(start-up, worklist, worker start, every check stored). Connections are counted by the batch's own
meter (SQLAlchemy pool events in each worker) and, independently, by sampling the worker processes'
open file descriptors on the MOSAIQ database (/proc, Linux). Goal (issue 13, 2-core machine): at
least 100 patients per minute without figures, all sources read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from plancheck.demo.clinic import build_clinic
from plancheck.demo.grow import grow_clinic
from plancheck.demo.patients import DEMO_TODAY

GOAL_PER_MINUTE = 100


def _open_on(database: Path, pids: list[int]) -> int:
    """How many file descriptors of ``pids`` are open on ``database`` now."""
    count = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                count += os.readlink(f"/proc/{pid}/fd/{fd}") == str(database)
            except OSError:
                continue
    return count


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [g for c in found for g in _children(c)]


def sample_connections(proc: subprocess.Popen[bytes], database: Path, stop: threading.Event, seen: list[int]) -> None:
    """Sample every 10 ms the batch's processes' open descriptors on the MOSAIQ file; keep the largest count."""
    while not stop.is_set():
        seen.append(_open_on(database.resolve(), [proc.pid, *_children(proc.pid)]))
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--reports", action="store_true", help="write every report (HTML, JSON, PDF, figures) too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp) / "clinic"
        t = time.perf_counter()
        clinic, _cfg = build_clinic(folder)
        grown = grow_clinic(clinic, args.patients)
        print(f"clinic of {len(clinic.patients) + len(grown)} patients built in {time.perf_counter() - t:.0f} s")
        config = folder / "plancheck.toml"
        config.write_text(config.read_text() + f'\n[results]\nurl = "sqlite:///{folder / "record.db"}"\n\n[batch]\nmosaiq_connections = {args.connections}\n')
        on = DEMO_TODAY.date() + dt.timedelta(days=7)
        cmd = [sys.executable, "-m", "plancheck", "batch", "--due", "--date", on.isoformat(), "--config", str(config), "--workers", str(args.workers)]
        cmd += ["--out", str(folder / "reports")] if args.reports else ["--no-reports"]
        stop, seen = threading.Event(), [0]
        load = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
        sampler = threading.Thread(target=sample_connections, args=(proc, clinic.database, stop, seen))
        sampler.start()
        out, errors = proc.communicate()
        wall = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stop.set()
        sampler.join()
    text = out.decode()
    summary = re.search(r"(\d+) checks in ([\d.]+) s .*?(\d+) not checked; most MOSAIQ connections open\s+at\s+once:\s+(\d+)", text, re.S)
    if proc.returncode != 0 or summary is None:
        sys.exit(f"batch failed (exit {proc.returncode}):\n{text[-3000:]}\n{errors.decode()[-2000:]}")
    checks, batch_s, failed, metered = int(summary[1]), float(summary[2]), int(summary[3]), int(summary[4])
    rate = checks * 60 / wall
    print(f"plancheck batch --due: {checks} patients, {failed} not checked, {args.workers} workers, cap {args.connections} MOSAIQ connections, "
          f"{'reports written' if args.reports else 'no reports'}")
    print(f"  wall {wall:.1f} s (batch {batch_s:.1f} s after the worklist): {rate:.0f} patients per minute "
          f"({rate / GOAL_PER_MINUTE:.2f}x the goal of {GOAL_PER_MINUTE}/min)")
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    cores = os.cpu_count() or 1
    print(f"  CPU {cpu:.0f} s ({cpu / checks:.2f} s per patient); load average {load:.1f} on {cores} cores when it started: "
          f"on an idle machine {cores * 60 / (cpu / checks):.0f} patients per minute at most")
    print(f"  most MOSAIQ connections open at once: {metered} (pool events), {max(seen)} (sampled open files, {len(seen)} samples)")


if __name__ == "__main__":
    main()
