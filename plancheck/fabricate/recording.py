"""Record deliveries through the real listener: simulator and listener on loopback, in one call.

For demos and tests: the simulator streams RT Plans (or iCOM files) at a high
message rate, the listener (the same class the service runs) journals and
archives them under ``out_dir``, both are stopped cleanly (the listener sends
FIN; the simulator's record says how each link ended) and the archive paths are
returned.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

from plancheck.icom_service.listener import Listener, ListenerOptions
from plancheck.fabricate.linac import ConnectionRecord, Simulator, programme_from_files


@dataclass(frozen=True)
class RecordingResult:
    archives: list[Path]
    connections: list[ConnectionRecord]
    unreadable: list[Path]


def record_through_listener(
    delivery_files: Sequence[str | Path],
    out_dir: str | Path,
    *,
    machine: str | None = None,
    start: dt.datetime | None = None,
    rate_hz: float = 2000.0,
    seed: int = 0,
    noise: bool = True,
    timeout_s: float = 60.0,
) -> RecordingResult:
    """Stream ``delivery_files`` through simulator and listener into ``out_dir``; the archives, oldest first.

    ``out_dir`` becomes the listener's ``--dir`` (so ``[folders] icom`` in
    plancheck.toml may point at it). Raises TimeoutError if the deliveries are
    not all archived within ``timeout_s``.
    """
    out_dir = Path(out_dir)
    programme = programme_from_files(delivery_files, start=start, machine=machine, seed=seed, noise=noise)
    deliveries = len({m.delivery for m in programme if m.delivery is not None})
    machine_name = machine or "SIMULATED"
    simulator = Simulator(programme, rate_hz=rate_hz).start()
    listener = Listener(ListenerOptions(machine=machine_name, host="127.0.0.1", port=simulator.port, directory=out_dir, backoff_initial_s=0.05, backoff_max_s=0.5,
            drain_timeout_s=2.0))
    thread = threading.Thread(target=listener.run, name="icom-listener", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        if not simulator.wait_sent(timeout_s=timeout_s):
            raise TimeoutError(f"the simulator sent {simulator.pointer} of {len(programme)} messages in {timeout_s:g} s")
        while sum(listener.splitter.counts[s] for s in ("archived", "duplicate", "unreadable", "no_mu")) < deliveries:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the listener archived {dict(listener.splitter.counts)} of {deliveries} deliveries in {timeout_s:g} s")
            time.sleep(0.01)
    finally:
        listener.stop()
        thread.join(timeout_s)
        simulator.stop()
    results = listener.results
    return RecordingResult(
        archives=[r.path for r in results if r.status in ("archived", "duplicate") and r.path],
        connections=list(simulator.connections),
        unreadable=[r.path for r in results if r.status == "unreadable" and r.path],
    )
