"""iCOM benchmarks: reader throughput against pymedphys, and the listener's CPU at the linac's message rate.

Run: python benchmarks/bench_icom.py [--listener-seconds 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymedphys

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plancheck import deliveries
from plancheck.delivery import Delivery
from plancheck.sources.icom.reader import read_icom
from plancheck.fabricate.linac import Simulator, programme_from_files
from plancheck.fabricate.icom import DEFAULT_RATE_HZ, write_icom_stream

VMAT = Path(pymedphys.__file__).parent / "_experimental/serviceplans/templates/vmat_example.dcm"


def best_of(repeats: int, func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return min(times)


def reader_throughput() -> None:
    beam = deliveries.from_dicom(VMAT)
    long = Delivery.merge(*[beam] * 10)
    for decimals, label in ((7, "7 decimals (plancheck's default)"), (2, "2 decimals (linac-like)")):
        stream = write_icom_stream(long, patient_id="015112", patient_name="DOE^JANE", machine="LINAC1", start=dt.datetime(2024, 5, 1, 9), decimals=decimals)
        n = len(long)
        ours_records = best_of(3, lambda: read_icom(stream))
        ours_delivery = best_of(3, lambda: deliveries.from_icom(stream))
        theirs = best_of(3, lambda: pymedphys.Delivery.from_icom(stream))
        print(f"reader, {n} messages, {len(stream) / n:.0f} bytes each, {label}:")
        print(f"  plancheck records            {n / ours_records:9.0f} messages/s")
        print(f"  plancheck Delivery.from_icom {n / ours_delivery:9.0f} messages/s")
        print(f"  pymedphys Delivery.from_icom {n / theirs:9.0f} messages/s")
        print(f"  ratio plancheck/pymedphys (Delivery): {theirs / ours_delivery:.2f}x")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listener_cpu(seconds: float) -> None:
    if not Path("/proc/self/stat").exists():
        print("listener CPU: needs /proc (Linux); skipped")
        return
    programme = programme_from_files([VMAT], start=dt.datetime(2024, 5, 1, 9), machine="LINAC1")
    sim = Simulator(programme, rate_hz=DEFAULT_RATE_HZ, keep_alive=True).start()
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.Popen(
            [sys.executable, "-m", "plancheck", "icom", "listen", "--machine", "BENCH", "--ip", "127.0.0.1", "--port", str(sim.port), "--dir", folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        )
        try:
            time.sleep(2.0)  # start-up (imports) is not the steady state
            cpu0, wall0, sent0 = cpu_seconds(proc.pid), time.monotonic(), sim.pointer
            time.sleep(seconds)
            cpu1, wall1, sent1 = cpu_seconds(proc.pid), time.monotonic(), sim.pointer
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            sim.stop()
    messages = sent1 - sent0
    print(f"listener at the linac's rate ({DEFAULT_RATE_HZ:g} messages/s, {messages} messages in {wall1 - wall0:.1f} s):")
    print(f"  CPU {cpu1 - cpu0:.3f} s over {wall1 - wall0:.1f} s wall = {100 * (cpu1 - cpu0) / (wall1 - wall0):.2f}% of one core")
    print(f"  links: {[c.ended_by for c in sim.connections]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listener-seconds", type=float, default=10.0)
    args = parser.parse_args()
    reader_throughput()
    listener_cpu(args.listener_seconds)


if __name__ == "__main__":
    main()
