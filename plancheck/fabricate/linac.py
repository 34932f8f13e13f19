"""A linac on loopback: streams iCOM messages to one client at a time and records how each link ended.

The programme (what the linac sends) comes from RT Plans (each treatment beam
paced at a dose rate, gantry and leaf speed, sampled at the linac's message
interval, with seeded noise) or from iCOM files (replayed as recorded), with
idle messages (no patient loaded) before, between and after the beams. ``rate_hz``
is how many messages go out per wall-clock second: the linac's own rate (about 4)
by default, hundreds or thousands for tests; the timestamps in the messages
follow the linac's clock either way.

How each client connection ended is recorded in memory (:attr:`Simulator.connections`)
and as JSON lines: ``client_fin`` (the client shut its side down cleanly: recv
returned b''), ``client_rst`` (ECONNRESET/EPIPE: the client closed with unread
data or was killed with bytes in flight), ``server_drop_fin`` / ``server_drop_rst``
(a drop injected here) or ``server_stop``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import select
import socket
import struct
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources.icom import fields as F
from plancheck.sources.icom.deliveries import boundary
from plancheck.sources.icom.reader import load_stream, message_starts, parse_message
from plancheck.icom_service.splitter import peek
from plancheck.fabricate.icom import DEFAULT_RATE_HZ, delivery_messages, idle_message
import contextlib

log = logging.getLogger(__name__)

MESSAGE_INTERVAL_S = 0.25  # the linac's clock between two messages


@dataclass(frozen=True)
class SimMessage:
    data: bytes
    kind: str  # "idle" | "delivery"
    delivery: int | None = None  # index of the delivery it belongs to


@dataclass(frozen=True)
class Beam:
    patient_id: str
    patient_name: str
    field_id: str
    machine: str
    energy: str
    delivery: Delivery


@dataclass(frozen=True)
class LinacSpeeds:
    mu_per_s: float = 10.0  # 600 MU/min
    gantry_dps: float = 6.0
    collimator_dps: float = 6.0
    leaf_mm_s: float = 35.0


# ---- the programme -----------------------------------------------------------


def beams_from_plan(path: str | Path, machine: str | None = None) -> list[Beam]:
    """Every treatment beam with control points in an RT Plan."""
    from plancheck.sources.rtplan import load, rows_from_dataset

    rows, deliveries, _ = rows_from_dataset(load(path), str(path))
    value = {(r.beam, r.param): r.value for r in rows}
    pid, name = value.get(("", "patient_id")) or "UNKNOWN", value.get(("", "patient_name")) or "UNKNOWN"
    return [
        Beam(str(pid), str(name), label, machine or str(value.get((label, "machine")) or "LINAC"), str(value.get((label, "energy")) or "6X"), d)
        for label, d in deliveries.items()
    ]


def pace(delivery: Delivery, interval_s: float = MESSAGE_INTERVAL_S, speeds: LinacSpeeds = LinacSpeeds()) -> tuple[Delivery, np.ndarray]:
    """Sample a delivery at the linac's message interval: each control-point step takes as long as its slowest axis."""
    d = delivery
    gantry = np.unwrap(d.gantry, period=360.0)
    steps = np.stack(
        [
            np.diff(d.mu) / speeds.mu_per_s,
            np.abs(np.diff(gantry)) / speeds.gantry_dps,
            np.abs(np.diff(d.collimator)) / speeds.collimator_dps,
            np.abs(np.diff(d.mlc, axis=0)).reshape(len(d) - 1, -1).max(axis=1, initial=0.0) / speeds.leaf_mm_s,
        ]
    ).max(axis=0) if len(d) > 1 else np.zeros(0)
    cp_times = np.concatenate([[0.0], np.cumsum(np.maximum(steps, 1e-3))])
    times = np.arange(0.0, cp_times[-1], interval_s)
    times = np.append(times, cp_times[-1]) if len(times) == 0 or times[-1] < cp_times[-1] - 1e-9 else times

    def at(values: np.ndarray) -> np.ndarray:
        flat = values.reshape(len(values), -1)
        return np.stack([np.interp(times, cp_times, flat[:, k]) for k in range(flat.shape[1])], axis=1).reshape((len(times), *values.shape[1:]))

    wrapped = (at(gantry) + 180.0) % 360.0 - 180.0
    return Delivery(at(d.mu), wrapped, at(d.collimator), at(d.mlc), at(d.jaw)), times


def add_noise(delivery: Delivery, rng: np.random.Generator, mlc_mm: float = 0.05, jaw_mm: float = 0.05, gantry_deg: float = 0.02) -> Delivery:
    """Seeded reading noise on positions; MU stays as delivered (monotonic)."""
    n = len(delivery)
    gantry = (delivery.gantry + rng.normal(0, gantry_deg, n) + 180.0) % 360.0 - 180.0
    return delivery.replace(
        gantry=gantry,
        mlc=delivery.mlc + rng.normal(0, mlc_mm, delivery.mlc.shape),
        jaw=delivery.jaw + rng.normal(0, jaw_mm, delivery.jaw.shape),
    )


def programme_from_beams(
    beams: Sequence[Beam],
    *,
    start: dt.datetime,
    seed: int = 0,
    noise: bool = True,
    decimals: int = 2,
    idle: int = 4,
    beam_gap_s: float = 30.0,
    interval_s: float = MESSAGE_INTERVAL_S,
    speeds: LinacSpeeds = LinacSpeeds(),
) -> list[SimMessage]:
    """Idle messages, then each beam paced and (optionally) noisy, idle messages between and after."""
    rng = np.random.default_rng(seed)
    out: list[SimMessage] = []
    clock = start
    counter = 0

    def idle_run(machine: str, d: Delivery, i: int) -> None:
        nonlocal clock, counter
        for _ in range(idle):
            out.append(SimMessage(idle_message(clock, counter, machine, float(d.gantry[i]), float(d.collimator[i]), d.mlc[i], d.jaw[i], decimals), "idle"))
            clock += dt.timedelta(seconds=interval_s)
            counter += 1

    for index, beam in enumerate(beams):
        paced, times = pace(beam.delivery, interval_s, speeds)
        if noise:
            paced = add_noise(paced, rng)
        idle_run(beam.machine, paced, 0)
        for data in delivery_messages(
            paced, patient_id=beam.patient_id, patient_name=beam.patient_name, machine=beam.machine, start=clock,
            field_id=beam.field_id, energy=beam.energy, first_counter=counter, decimals=decimals, times_s=times,
        ):
            out.append(SimMessage(data, "delivery", index))
        counter += len(paced)
        clock += dt.timedelta(seconds=float(times[-1]) + interval_s)
        clock += dt.timedelta(seconds=beam_gap_s)
    if beams:
        last = beams[-1]
        idle_run(last.machine, last.delivery, len(last.delivery) - 1)
    return out


def programme_from_icom(path: str | Path, first_delivery: int = 0) -> list[SimMessage]:
    """The messages of an iCOM file as recorded, each marked idle or with its delivery's index."""
    data, _where, _ = load_stream(path)
    starts = message_starts(data)
    out: list[SimMessage] = []
    prev = None
    index = first_delivery - 1
    for begin, end in zip(starts, [*starts[1:], len(data)], strict=False):
        message = data[begin:end]
        key = peek(message)
        if key.patient_id is None:
            out.append(SimMessage(message, "idle"))
        else:
            if boundary(prev, key) is not None:
                index += 1
            out.append(SimMessage(message, "delivery", index))
        prev = key
    return out


def programme_from_files(files: Sequence[str | Path], *, start: dt.datetime | None = None, machine: str | None = None, seed: int = 0, noise: bool = True) -> list[SimMessage]:
    """RT Plans and iCOM files in order, as one programme (an iCOM file is followed by idle messages)."""
    start = start or dt.datetime.now().replace(microsecond=0)
    out: list[SimMessage] = []
    for path in files:
        path = Path(path)
        deliveries_so_far = 1 + max((m.delivery for m in out if m.delivery is not None), default=-1)
        if _is_icom(path):
            recorded = programme_from_icom(path, deliveries_so_far)
            out += recorded + _idle_after(recorded)
        else:
            beams = beams_from_plan(path, machine)
            if not beams:
                raise SourceError("no treatment beam with control points", where=str(path))
            more = programme_from_beams(beams, start=start, seed=seed, noise=noise)
            out += [SimMessage(m.data, m.kind, None if m.delivery is None else m.delivery + deliveries_so_far) for m in more]
            start = start + dt.timedelta(hours=1)
    return out


def _is_icom(path: Path) -> bool:
    head = path.read_bytes()[:64]
    return head.startswith(b"\xfd7zXZ\x00") or bool(message_starts(head))


def _idle_after(recorded: list[SimMessage], count: int = 4) -> list[SimMessage]:
    """Idle messages after a recorded stream, so its last delivery ends."""
    last = recorded[-1].data
    record, _ = parse_message(last, 0, len(last))
    out = []
    for i in range(1, count + 1):
        when = record.timestamp + dt.timedelta(seconds=i * MESSAGE_INTERVAL_S)
        if record.mlc is None or record.jaw is None:
            raise ValueError("the recorded stream's last message has no collimation to hold while idle")
        out.append(SimMessage(idle_message(when, record.counter + i, record.machine or "LINAC", record.gantry or 0.0, record.collimator or 0.0, record.mlc, record.jaw), "idle"))
    return out


# ---- the server ----------------------------------------------------------------


@dataclass
class ConnectionRecord:
    index: int
    peer: str
    opened_at: float
    closed_at: float = 0.0
    ended_by: str = ""
    messages_sent: int = 0
    bytes_sent: int = 0
    first_message: int | None = None
    last_message: int | None = None
    heartbeats: int = 0
    notes: list[str] = field(default_factory=list)


def check_loopback(host: str) -> str:
    """The simulator serves loopback only: a linac look-alike must never face a real network."""
    address = socket.gethostbyname(host)
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the iCOM simulator listens on loopback only, not {host} ({address})")
    return address


class Simulator:
    """Serves a programme of messages; see the module docstring. Start with :meth:`start`, end with :meth:`stop`."""

    def __init__(
        self,
        programme: Sequence[SimMessage],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_hz: float = DEFAULT_RATE_HZ,
        record_path: str | Path | None = None,
        drop_after: dict[int, str] | None = None,
        pause_after: Sequence[int] = (),
        keep_alive: bool = False,
    ) -> None:
        self.programme = list(programme)
        self.address = check_loopback(host)
        self.rate_hz = rate_hz
        self.record_path = Path(record_path) if record_path else None
        self.drop_after = dict(drop_after or {})
        self.pause_after = set(pause_after)
        self.keep_alive = keep_alive
        self.connections: list[ConnectionRecord] = []
        self.sent: list[int] = []  # programme indexes, in the order sent
        self.pointer = 0
        self._beats = 0
        self.paused = threading.Event()
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._server = socket.create_server((self.address, port))
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name="icom-simulator", daemon=True)

    # ---- control ------------------------------------------------------------------
    def start(self) -> Simulator:
        self._thread.start()
        log.info("iCOM simulator on %s:%d, %d messages at %g per second", self.address, self.port, len(self.programme), self.rate_hz)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._resume.set()
        self._thread.join(timeout_s)
        self._server.close()

    def resume(self) -> None:
        self.paused.clear()
        self._resume.set()

    def wait_sent(self, count: int | None = None, timeout_s: float = 10.0) -> bool:
        """Wait until ``count`` programme messages (default all) have been sent."""
        count = len(self.programme) if count is None else count
        with self._progress:
            return self._progress.wait_for(lambda: self.pointer >= count, timeout_s)

    def wait_connections_ended(self, count: int, timeout_s: float = 10.0) -> bool:
        with self._progress:
            return self._progress.wait_for(lambda: sum(1 for c in self.connections if c.ended_by) >= count, timeout_s)

    def sent_bytes(self, kind: str | None = "delivery") -> bytes:
        """The bytes of the messages sent, in order (default: only those of deliveries)."""
        return b"".join(self.programme[i].data for i in self.sent if kind is None or self.programme[i].kind == kind)

    # ---- serving ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            record = ConnectionRecord(len(self.connections), f"{peer[0]}:{peer[1]}", time.time())
            self.connections.append(record)
            log.info("client %s connected", record.peer)
            try:
                self._serve(conn, record)
            finally:
                self._finish(conn, record)

    def _serve(self, conn: socket.socket, record: ConnectionRecord) -> None:
        next_send = time.monotonic()
        while True:
            if self._stop.is_set():
                self._close_server_side(conn, record)
                return
            if self.pointer in self.pause_after:
                self.pause_after.discard(self.pointer)
                self._resume.clear()
                self.paused.set()
            if self.paused.is_set():  # held across connections until resume()
                while not self._resume.is_set():
                    if self._watch(conn, record, time.monotonic() + 0.05):
                        return
                next_send = time.monotonic()
                continue
            if self.pointer >= len(self.programme):
                if not self.keep_alive or not self.programme:
                    if self._watch(conn, record, time.monotonic() + 0.05):
                        return
                    continue
                next_send = max(next_send, time.monotonic())
                if self._watch(conn, record, next_send):
                    return
                if not self._heartbeat(conn, record):
                    return
                next_send += 1.0 / min(self.rate_hz, DEFAULT_RATE_HZ)
                continue
            if self._watch(conn, record, next_send):
                return
            index = self.pointer
            try:
                conn.sendall(self.programme[index].data)
            except (BrokenPipeError, ConnectionResetError) as exc:
                record.ended_by = "client_rst"
                record.notes.append(f"send failed: {exc}")
                return
            self._sent(record, index)
            next_send = max(next_send + 1.0 / self.rate_hz, time.monotonic() - 1.0)
            if index in self.drop_after:
                self._drop(conn, record, self.drop_after.pop(index))
                return

    def _heartbeat(self, conn: socket.socket, record: ConnectionRecord) -> bool:
        """After the programme: the last message again, re-stamped, as an idle linac keeps talking."""
        last = self.programme[-1].data
        self._beats += 1
        stamp = message_time(last) + dt.timedelta(seconds=self._beats * MESSAGE_INTERVAL_S)
        data = restamp(last, stamp, last[F.COUNTER_OFFSET] + self._beats)
        try:
            conn.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            record.ended_by = "client_rst"
            record.notes.append(f"send failed: {exc}")
            return False
        record.heartbeats += 1
        record.bytes_sent += len(data)
        return True

    def _sent(self, record: ConnectionRecord, index: int) -> None:
        with self._progress:
            self.sent.append(index)
            self.pointer = index + 1
            record.messages_sent += 1
            record.bytes_sent += len(self.programme[index].data)
            record.first_message = index if record.first_message is None else record.first_message
            record.last_message = index
            self._progress.notify_all()

    def _watch(self, conn: socket.socket, record: ConnectionRecord, until: float) -> bool:
        """Until ``until``, look for the client ending the link; True (and the record filled in) if it did."""
        while True:
            wait = until - time.monotonic()
            ready, _, _ = select.select([conn], [], [], max(0.0, min(wait, 0.05)))
            if ready:
                try:
                    data = conn.recv(4096)
                except (ConnectionResetError, BrokenPipeError) as exc:
                    record.ended_by = "client_rst"
                    record.notes.append(str(exc))
                    return True
                if not data:
                    record.ended_by = "client_fin"
                    self._after_fin(conn, record)
                    return True
                record.notes.append(f"client sent {len(data)} bytes")
                continue
            if wait <= 0 or self._stop.is_set():
                return False

    def _after_fin(self, conn: socket.socket, record: ConnectionRecord, linger_s: float = 0.2) -> None:
        """A FIN may be followed by an RST (a client closing with unread data): look a little longer."""
        end = time.monotonic() + linger_s
        while time.monotonic() < end:
            ready, _, _ = select.select([conn], [], [], 0.02)
            if ready:
                try:
                    if conn.recv(4096):
                        record.notes.append("data after FIN")
                except (ConnectionResetError, BrokenPipeError) as exc:
                    record.ended_by = "client_rst"
                    record.notes.append(f"RST after FIN: {exc}")
                    return

    def _drop(self, conn: socket.socket, record: ConnectionRecord, mode: str) -> None:
        """Drop the link as a failing network would: 'fin' (close) or 'rst' (abort, once the client has every byte)."""
        if mode == "rst":
            deadline = time.monotonic() + 2.0
            while _unsent(conn) and time.monotonic() < deadline:
                time.sleep(0.005)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        record.ended_by = f"server_drop_{mode}"

    def _close_server_side(self, conn: socket.socket, record: ConnectionRecord) -> None:
        try:
            conn.shutdown(socket.SHUT_WR)
            self._watch(conn, record, time.monotonic() + 2.0)
        except OSError:
            pass
        record.ended_by = record.ended_by or "server_stop"

    def _finish(self, conn: socket.socket, record: ConnectionRecord) -> None:
        with contextlib.suppress(OSError):
            conn.close()
        record.closed_at = time.time()
        record.ended_by = record.ended_by or "unknown"
        log.info("client %s: link ended by %s after %d messages", record.peer, record.ended_by, record.messages_sent)
        if self.record_path is not None:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.record_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(record)) + "\n")
        with self._progress:
            self._progress.notify_all()


def message_time(message: bytes) -> dt.datetime:
    return dt.datetime.strptime(message[F.HEADER_SIZE : F.COUNTER_OFFSET].decode("ascii"), F.TIMESTAMP_FORMAT)


def restamp(message: bytes, timestamp: dt.datetime, counter: int) -> bytes:
    """The same message with another timestamp and counter."""
    stamp = f"{timestamp:%Y-%m-%d%H:%M:%S}".encode()
    return message[: F.HEADER_SIZE] + stamp + bytes([counter % 256]) + message[F.ITEMS_OFFSET :]


def _unsent(conn: socket.socket) -> int:
    """Bytes still in the send queue (not yet acknowledged by the client), Linux and macOS."""
    try:
        import fcntl
        import termios

        return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b"\x00" * 4))[0]
    except (ImportError, OSError):
        return 0
