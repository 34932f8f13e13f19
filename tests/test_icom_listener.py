"""The iCOM listener against the loopback simulator: killed, stopped, dropped, fed damaged bytes.

The listener runs as a subprocess (``python -m plancheck icom listen``), as the
service does. In every case the archived bytes must equal the bytes of the
deliveries sent, in order, with no duplicate, and every stop by signal must end
the link with FIN (the simulator's record says so). Every wait has a time-out.
"""

from __future__ import annotations

import datetime as dt
import logging
import lzma
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable

import pymedphys
import pytest

from plancheck import deliveries
from plancheck.sources.icom import fields as F
from plancheck.icom_service.archive import Archiver
from plancheck.icom_service.journal import Position
from plancheck.icom_service.listener import Listener, ListenerOptions, archive_raw
from plancheck.fabricate.recording import record_through_listener
from plancheck.fabricate.linac import Beam, SimMessage, Simulator, programme_from_beams
from plancheck.icom_service.splitter import Splitter, peek
from plancheck.fabricate.icom import encode_message, state_items

PMP = Path(pymedphys.__file__).parent
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
START = dt.datetime(2024, 5, 1, 9, 0, 0)
RATE_HZ = 400.0
ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 60.0  # every wait ends on its condition; this only bounds a hang


def wait_for(predicate: Callable[[], bool], timeout_s: float = WAIT_S, what: str = "condition") -> None:
    """Poll a condition on files or state; the time-out only guards against a hang (a loaded CI machine is slow)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def programme(beams: int = 2) -> list[SimMessage]:
    d = deliveries.from_dicom(VMAT, "1-1")
    return programme_from_beams(
        [Beam("015112", "DOE^JANE", f"F{i + 1}", "LINAC1", "6X", d) for i in range(beams)], start=START, seed=1
    )


def middle_of_first_delivery(prog: list[SimMessage]) -> int:
    first = [i for i, m in enumerate(prog) if m.delivery == 0]
    return first[len(first) // 2]


class ListenerProcess:
    """``plancheck icom listen`` as a subprocess."""

    def __init__(self, port: int, directory: Path) -> None:
        self.directory = directory
        self.log = directory / "stderr.log"
        directory.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "plancheck", "icom", "listen", "--machine", "SIM", "--ip", "127.0.0.1", "--port", str(port),
                "--dir", str(directory), "--timeout", "600", "--min-backoff", "0.05", "--max-backoff", "0.2"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"), env=env, cwd=ROOT)  # noqa: SIM115 - the child owns the log for its life

    def signal(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=WAIT_S)

    def kill_if_running(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def journalled(self) -> int:
        return sum(p.stat().st_size for p in (self.directory / "journal").rglob("*.raw"))


def archived(directory: Path, sub: str = "patients") -> list[bytes]:
    """Archive contents in the order they were recorded (file names are start times)."""
    paths = sorted((directory / sub).rglob("*.xz"), key=lambda p: p.name)
    return [lzma.decompress(p.read_bytes()) for p in paths]


def per_delivery(sim: Simulator) -> list[bytes]:
    groups: dict[int, bytes] = {}
    for i in sim.sent:
        m = sim.programme[i]
        if m.delivery is not None:
            groups[m.delivery] = groups.get(m.delivery, b"") + m.data
    return [groups[k] for k in sorted(groups)]


@pytest.fixture
def cleanup() -> list[Callable[[], None]]:
    tasks: list[Callable[[], None]] = []
    yield tasks
    for task in reversed(tasks):
        task()


def start(sim: Simulator, cleanup: list[Callable[[], None]]) -> Simulator:
    sim.start()
    cleanup.append(sim.stop)
    return sim


def listener(sim: Simulator, directory: Path, cleanup: list[Callable[[], None]]) -> ListenerProcess:
    proc = ListenerProcess(sim.port, directory)
    cleanup.append(proc.kill_if_running)
    return proc


def stop_at_the_pause_and_restart(sim: Simulator, folder: Path, cleanup: list[Callable[[], None]], stop_signal: int) -> None:
    """The listener stopped by ``stop_signal`` where the simulator paused, restarted, and stopped by SIGTERM once both deliveries are archived.

    Every step waits on a condition (the pause, the journal's size, the connection count), never on elapsed time;
    the listener's link time-out is far beyond the test, so a slow machine cannot make it reconnect on its own.
    """
    first = listener(sim, folder, cleanup)
    assert sim.paused.wait(WAIT_S), "the simulator never reached the pause"
    sent_so_far = len(sim.sent_bytes(kind=None))
    wait_for(lambda: first.journalled() == sent_so_far, what="the journal to hold every byte sent")
    assert len(sim.connections) == 1
    first.signal(stop_signal)
    assert sim.wait_connections_ended(1, WAIT_S)
    assert not archived(folder), "the delivery in progress must not be archived before it ends"

    second = listener(sim, folder, cleanup)
    wait_for(lambda: len(sim.connections) == 2, what="the listener to reconnect")
    sim.resume()
    assert sim.wait_sent(timeout_s=WAIT_S)
    wait_for(lambda: len(archived(folder)) == 2, what="two archives")
    assert second.signal(signal.SIGTERM) == 0
    assert sim.wait_connections_ended(2, WAIT_S)


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_stopped_mid_delivery_and_restarted_loses_nothing(tmp_path: Path, cleanup: list, stop_signal: int) -> None:
    prog = programme()
    pause = middle_of_first_delivery(prog)
    sim = start(Simulator(prog, rate_hz=RATE_HZ, pause_after=[pause], record_path=tmp_path / "links.jsonl"), cleanup)
    stop_at_the_pause_and_restart(sim, tmp_path / "icom", cleanup, stop_signal)
    assert archived(tmp_path / "icom") == per_delivery(sim)  # one archive per delivery, across the restart
    assert b"".join(archived(tmp_path / "icom")) == sim.sent_bytes()
    endings = [c.ended_by for c in sim.connections]
    assert endings[1] == "client_fin"
    assert endings[0] == "client_fin" if stop_signal == signal.SIGTERM else endings[0] in ("client_fin", "client_rst")
    assert "client_fin" in (tmp_path / "links.jsonl").read_text()


@pytest.mark.parametrize("mode", ["fin", "rst"])
def test_link_dropped_by_the_linac_is_reopened(tmp_path: Path, cleanup: list, mode: str) -> None:
    prog = programme()
    drop = middle_of_first_delivery(prog)
    sim = start(Simulator(prog, rate_hz=RATE_HZ, drop_after={drop: mode}), cleanup)
    proc = listener(sim, tmp_path / "icom", cleanup)
    assert sim.wait_sent(timeout_s=WAIT_S)
    wait_for(lambda: len(archived(tmp_path / "icom")) == 2, what="two archives")
    assert proc.signal(signal.SIGINT) == 0
    assert sim.wait_connections_ended(2, WAIT_S)
    assert [c.ended_by for c in sim.connections] == [f"server_drop_{mode}", "client_fin"]
    assert b"".join(archived(tmp_path / "icom")) == sim.sent_bytes()
    assert archived(tmp_path / "icom") == per_delivery(sim)
    log = (tmp_path / "icom" / "logs" / "icom-SIM.log").read_text()
    assert "link lost" in log and "waiting: reconnecting" in log and log.count("connected: 127.0.0.1") == 2


def bad_messages(prog: list[SimMessage]) -> list[SimMessage]:
    """Garbage after a message of delivery 0; delivery 1 gets a message with ten leaf positions missing; one of delivery 3 is cut short.

    The two messages that cannot be read are marked ``bad`` (no delivery): the listener sets them aside.
    """
    d = deliveries.from_dicom(VMAT, "1-1")
    out = []
    damaged = False
    for m in prog:
        if m.delivery == 0 and not damaged:
            out.append(SimMessage(m.data + bytes(range(200, 256)) * 2, m.kind, m.delivery))
            damaged = True
            continue
        out.append(m)
    i = max(i for i, m in enumerate(out) if m.delivery == 1) - 2
    when = dt.datetime.strptime(out[i].data[8:26].decode(), F.TIMESTAMP_FORMAT)
    items = [(F.BY_NAME["patient_id"], "015112"), (F.BY_NAME["patient_name"], "DOE, JANE"), (F.BY_NAME["field_id"], "F2"), (F.BY_NAME["mu"], f"{peek(out[i].data).mu:.2f}")]
    items += state_items(float(d.gantry[0]), 0.0, d.mlc[0], d.jaw[0], 2)
    device = items.index((F.DEVICE_TYPE, "MLCX"))
    del items[device + 1 : device + 11]
    out.insert(i + 1, SimMessage(encode_message(when, out[i].data[26] + 1, items), "bad"))
    j = [k for k, m in enumerate(out) if m.delivery == 3][5]
    out[j] = SimMessage(out[j].data[: len(out[j].data) // 2], "bad")
    return out


def test_damaged_messages_are_set_aside_and_the_rest_archived_as_received(tmp_path: Path, cleanup: list) -> None:
    prog = bad_messages(programme(beams=4))
    sim = start(Simulator(prog, rate_hz=RATE_HZ), cleanup)
    proc = listener(sim, tmp_path / "icom", cleanup)
    assert sim.wait_sent(timeout_s=WAIT_S)
    wait_for(lambda: len(archived(tmp_path / "icom")) == 4 and len(archived(tmp_path / "icom", "unknown_error_in_record")) == 2, what="archives")
    assert proc.signal(signal.SIGTERM) == 0
    assert sim.wait_connections_ended(1, WAIT_S) and sim.connections[0].ended_by == "client_fin"
    bad = [m.data for m in prog if m.kind == "bad"]
    assert archived(tmp_path / "icom") == per_delivery(sim)  # every message but the two bad ones, byte for byte
    assert archived(tmp_path / "icom", "unknown_error_in_record") == bad  # each with its delivery's patient
    quarantine = tmp_path / "icom" / "journal" / "SIM" / "quarantine"
    assert (quarantine / "000001.set-aside").read_bytes() == b"".join(bad)
    log = (tmp_path / "icom" / "logs" / "icom-SIM.log").read_text()
    assert "bytes after the message at" in log and "no iCOM item" in log
    assert re.search(r"\d+ bytes at connection 1 byte \d+ set aside: MLCX block has 150 of 160 positions \(at connection byte \d+\)", log)
    assert re.search(r"set aside: stream ends after \d+ of the \d+ bytes the message header declares: truncated", log)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """One recording through simulator and listener, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("recorded") / "icom"
    return folder, record_through_listener([VMAT], folder, start=START, machine="LINAC1")


def test_record_through_listener_for_the_demo(recorded: tuple[Path, object]) -> None:
    _, result = recorded
    assert len(result.archives) == 2 and not result.unreadable
    assert [c.ended_by for c in result.connections] == ["client_fin"]
    beams = [deliveries.from_icom(p) for p in result.archives]
    plan = [deliveries.from_dicom(VMAT, b) for b in ("1-1", "1-2")]
    for got, want in zip(beams, plan, strict=False):
        assert abs(got.total_mu - want.total_mu) < 0.01


def test_archive_command_re_splits_the_journal_identically(tmp_path: Path, recorded: tuple[Path, object]) -> None:
    folder, result = recorded
    segments = sorted((folder / "journal").rglob("*.raw"))
    again = archive_raw(segments, tmp_path / "again")
    assert [r.status for r in again] == ["archived", "archived"]
    assert [p.read_bytes() for p in sorted(result.archives)] == [r.path.read_bytes() for r in again]
    twice = archive_raw(segments, tmp_path / "again")
    assert [r.status for r in twice] == ["duplicate", "duplicate"]
    cli = subprocess.run([sys.executable, "-m", "plancheck", "icom", "archive", *map(str, segments), "--dir", str(tmp_path / "again")],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert cli.returncode == 0 and "2 deliveries: 2 duplicate" in cli.stdout


def test_replay_after_a_crash_between_archive_and_commit_archives_nothing_twice(tmp_path: Path, recorded: tuple[Path, object]) -> None:
    shutil.copytree(recorded[0], tmp_path / "icom")
    (tmp_path / "icom" / "journal" / "LINAC1" / "committed.json").unlink()
    again = Listener(ListenerOptions(machine="LINAC1", host="127.0.0.1", directory=tmp_path / "icom"))
    again.replay()
    assert [r.status for r in again.results] == ["duplicate", "duplicate"]
    assert len(list((tmp_path / "icom" / "patients").rglob("*.xz"))) == 2


def test_repeated_and_jumping_counters_are_logged_not_merged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    prog = [m for m in programme(beams=1)]
    messages = [m.data for m in prog]
    first = next(i for i, m in enumerate(prog) if m.delivery == 0)
    stream = [*messages[:first + 3], messages[first + 2], *messages[first + 3:first + 6], *messages[first + 7:]]
    splitter = Splitter(Archiver(tmp_path))
    with caplog.at_level(logging.WARNING):
        offset = 0
        for data in stream:
            splitter.message(Position(1, offset), data)
            offset += len(data)
        splitter.end()
    text = caplog.text
    assert "repeated" in text and "archived once" in text
    assert "counter jumped" in text and "1 message(s) missing or out of order" in text
    [path] = sorted((tmp_path / "patients").rglob("*.xz"))
    expected = b"".join(m.data for i, m in enumerate(prog) if m.delivery == 0 and i != first + 6)
    assert lzma.decompress(path.read_bytes()) == expected


def test_service_files_match_the_command() -> None:
    """The systemd unit and the NSSM guide only use options `plancheck icom listen` has."""
    from typer.testing import CliRunner

    from plancheck.cli.main import app

    help_text = CliRunner().invoke(app, ["icom", "listen", "--help"], env={"COLUMNS": "200"}).output
    unit = (ROOT / "plancheck" / "deploy" / "plancheck-icom@.service").read_text()
    guide = (ROOT / "docs" / "icom-service.md").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "icom listen" in exec_start and "KillSignal=SIGTERM" in unit
    for text in (exec_start, guide):
        for option in set(re.findall(r"(--[a-z][a-z-]+)", text)) - {"--system", "--home", "--now", "--delivery", "--rate", "--record"}:
            assert option in help_text, f"{option} is not an option of `plancheck icom listen`"


def test_archive_command_joins_the_segments_of_one_connection(tmp_path: Path, recorded: tuple[Path, object]) -> None:
    folder, result = recorded
    [segment] = sorted((folder / "journal").rglob("*.raw"))
    data = segment.read_bytes()
    cut = len(data) // 3 + 1001  # inside a message of the first delivery
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "000001-000000000000.raw").write_bytes(data[:cut])
    (parts / f"000001-{cut:012d}.raw").write_bytes(data[cut:])
    again = archive_raw(sorted(parts.glob("*.raw")), tmp_path / "again")
    assert [r.path.read_bytes() for r in again] == [p.read_bytes() for p in sorted(result.archives)]


def test_long_connection_is_journalled_in_segments_and_replayed_across_them(tmp_path: Path, cleanup: list) -> None:
    import threading

    sim = start(Simulator(programme(), rate_hz=2000.0), cleanup)
    options = ListenerOptions(machine="SIM", host="127.0.0.1", port=sim.port, directory=tmp_path / "icom", segment_bytes=50_000, drain_timeout_s=2.0)
    live = Listener(options)
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    cleanup.append(lambda: (live.stop(), thread.join(10)))
    assert sim.wait_sent(timeout_s=WAIT_S)
    wait_for(lambda: live.splitter.counts["archived"] == 2, what="two archives")
    live.stop()
    thread.join(10)
    assert not thread.is_alive() and sim.wait_connections_ended(1, WAIT_S) and sim.connections[0].ended_by == "client_fin"
    segments = sorted(options.journal_dir.glob("*.raw"))
    assert len(segments) > 1 and b"".join(p.read_bytes() for p in segments) == sim.sent_bytes(kind=None)
    assert archived(tmp_path / "icom") == per_delivery(sim)
    (options.journal_dir / "committed.json").unlink()
    again = Listener(options)
    again.replay()
    assert [r.status for r in again.results] == ["duplicate", "duplicate"]


def test_a_journal_that_cannot_be_written_stops_the_listener_with_a_clean_close(tmp_path: Path, cleanup: list, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import threading

    from plancheck.icom_service.journal import Journal

    sim = start(Simulator(programme(beams=1), rate_hz=RATE_HZ), cleanup)
    real_append, calls = Journal.append, []

    def append(self: Journal, data: bytes) -> Position:
        calls.append(len(data))
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, data)

    monkeypatch.setattr(Journal, "append", append)
    live = Listener(ListenerOptions(machine="SIM", host="127.0.0.1", port=sim.port, directory=tmp_path / "icom", drain_timeout_s=2.0))
    failure: list[BaseException] = []
    thread = threading.Thread(target=lambda: _run_catching(live, failure), daemon=True)
    thread.start()
    thread.join(WAIT_S)
    assert not thread.is_alive() and failure and "No space left" in str(failure[0])
    assert sim.wait_connections_ended(1, WAIT_S) and sim.connections[0].ended_by == "client_fin"


def _run_catching(live: Listener, failure: list[BaseException]) -> None:
    try:
        live.run()
    except OSError as exc:
        failure.append(exc)


def test_journal_pruning_keeps_what_is_not_archived(tmp_path: Path) -> None:
    from plancheck.icom_service.journal import Journal

    journal = Journal(tmp_path / "j")
    for _ in range(3):
        journal.open_connection()
        journal.append(b"x" * 100)
    journal.commit(Position(2, 100))  # connections 1 and 2 are archived, 3 is not
    old = time.time() - 40 * 86400
    for seg in journal.segments():
        os.utime(seg.path, (old, old))
    removed = journal.prune(keep_days=30)
    assert sorted(p.name for p in removed) == ["000001-000000000000.raw", "000002-000000000000.raw"]
    assert [s.connection for s in journal.segments()] == [3]
    assert journal.open_connection() == 4
    journal.close()
    fresh = Journal(tmp_path / "j")
    for seg in fresh.segments():
        seg.path.unlink()
    assert fresh.open_connection() == 3  # never below the committed connection
