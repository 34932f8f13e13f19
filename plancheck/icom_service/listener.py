"""The iCOM listener service: one TCP connection to one linac, every byte journalled, deliveries archived.

What it promises, and how:

* **Nothing received is lost.** Each ``recv`` is written, flushed and fsync'd to the
  journal before it is parsed; the committed position moves only after an archive
  is on disk, so a restart (even after SIGKILL) replays from there.
* **The linac is never left hanging.** On SIGINT, SIGTERM, a service stop or a
  link time-out the listener sends FIN (``shutdown(SHUT_WR)``), keeps reading (and
  journalling) until the linac closes its side or ``drain_timeout_s`` passes,
  then ``shutdown(SHUT_RDWR)`` and ``close``: never a close with unread bytes,
  never ``SO_LINGER`` 0, so the linac sees a clean FIN rather than an RST.
* **Bad input never stops it.** A message that cannot be read is set aside
  (quarantine next to the journal, counted, logged with its offset) and the next
  one is read; the framer's buffer is bounded; names made from the stream are
  bounded and safe; an archive that cannot be written is not taken for a journal
  failure. A restart replays the same bytes and records on.
* **It runs for months.** Reconnects with capped exponential back-off, holds at
  most the delivery in progress in memory, logs every state change (rotating log
  file, set up by :func:`setup_logging`).
"""

from __future__ import annotations

import collections
import logging
import logging.handlers
import select
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from plancheck.icom_service.archive import Archived, Archiver
from plancheck.sources.icom.deliveries import GAP_S
from plancheck.icom_service.journal import Journal
from plancheck.paths import safe_name
from plancheck.icom_service.quarantine import Quarantine
from plancheck.icom_service.splitter import Framer, Splitter
import contextlib

log = logging.getLogger(__name__)

ICOM_PORT = 1706
RECV_BYTES = 1 << 16
POLL_S = 0.2


@dataclass(frozen=True)
class ListenerOptions:
    machine: str
    host: str
    directory: Path
    port: int = ICOM_PORT
    timeout_s: float = 30.0  # no byte for this long: the link is dead, reconnect
    connect_timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    drain_timeout_s: float = 5.0
    gap_s: float = GAP_S
    keep_journal_days: float = 30.0
    segment_bytes: int = 64 << 20

    @property
    def journal_dir(self) -> Path:
        return self.directory / "journal" / safe_machine(self.machine)

    @property
    def quarantine_dir(self) -> Path:
        return self.journal_dir / "quarantine"


def safe_machine(name: str) -> str:
    return safe_name(name.upper(), default="LINAC")


def setup_logging(directory: Path, machine: str, level: int = logging.INFO, max_bytes: int = 10 << 20, backups: int = 10) -> Path:
    """Log to ``<dir>/logs/icom-<MACHINE>.log`` (rotating) and to stderr; returns the log file."""
    folder = directory / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"icom-{safe_machine(machine)}.log"
    fmt = logging.Formatter(f"%(asctime)s %(levelname)s [{safe_machine(machine)}] %(name)s: %(message)s")
    root = logging.getLogger("plancheck")
    for handler in (logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"), logging.StreamHandler()):
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(level)
    return path


class Listener:
    """Run with :meth:`run` (blocks); :meth:`stop` from a signal handler or another thread."""

    def __init__(self, options: ListenerOptions) -> None:
        self.options = options
        self.journal = Journal(options.journal_dir, options.segment_bytes)
        self.archiver = Archiver(options.directory)
        self.quarantine = Quarantine(options.quarantine_dir)
        self.splitter = Splitter(self.archiver, gap_s=options.gap_s, commit=self.journal.commit, quarantine=self.quarantine)
        self.state = "starting"
        self.connections = 0
        self.bytes_received = 0
        self.endings: collections.deque[str] = collections.deque(maxlen=100)
        self._stop = threading.Event()
        self._framer: Framer | None = None
        self._journal_error: OSError | None = None
        self._journal_only = False  # after an unexpected error: journal what still comes while closing, parse nothing
        self.discarded = 0
        self._pruned_at = 0.0

    # ---- control -------------------------------------------------------------
    def stop(self) -> None:
        """Ask the listener to close the link cleanly and return from :meth:`run` (safe in a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def results(self) -> list[Archived]:
        return list(self.splitter.results)

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        log.info("%s%s", state, f": {detail}" if detail else "")

    # ---- main loop -------------------------------------------------------------
    def run(self) -> None:
        o = self.options
        self._set_state("replaying journal", str(o.journal_dir))
        self.replay()
        backoff = o.backoff_initial_s
        while not self.stopping:
            self._prune()
            sock = self._connect()
            if sock is None:
                self._wait(backoff)
                backoff = min(backoff * 2.0, o.backoff_max_s)
                continue
            received_before = self.bytes_received
            try:
                self._serve(sock)
            finally:
                self.journal.close()
            if self._journal_error is not None:
                self._set_state("stopped", f"the journal could not be written; {self.discarded} bytes received while closing were lost")
                raise self._journal_error
            if self.bytes_received > received_before:
                backoff = o.backoff_initial_s
            if not self.stopping:
                self._wait(backoff)
                backoff = min(backoff * 2.0, o.backoff_max_s)
        self._set_state("stopped", f"{self.connections} connection(s), {self.bytes_received} bytes, archives: {dict(self.splitter.counts)}")

    def _prune(self, every_s: float = 3600.0) -> None:
        """Delete archived journal segments older than keep_journal_days, at most once an hour."""
        now = time.monotonic()
        if now - self._pruned_at >= every_s or self._pruned_at == 0.0:
            self._pruned_at = now
            self.journal.prune(self.options.keep_journal_days)

    def _wait(self, seconds: float) -> None:
        if not self.stopping:
            self._set_state("waiting", f"reconnecting in {seconds:g} s")
            self._stop.wait(seconds)

    def _connect(self) -> socket.socket | None:
        o = self.options
        self._set_state("connecting", f"{o.host}:{o.port}")
        try:
            sock = socket.create_connection((o.host, o.port), timeout=o.connect_timeout_s)
        except OSError as exc:
            log.warning("cannot connect to %s:%s (%s)", o.host, o.port, exc)
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.connections += 1
        connection = self.journal.open_connection()
        self._framer = Framer(connection)
        self.splitter.new_stream()
        self._set_state("connected", f"{o.host}:{o.port} (journal connection {connection})")
        return sock

    def _serve(self, sock: socket.socket) -> None:
        """Receive until stop, time-out, close or reset; then end the connection the right way."""
        try:
            ending = self._receive(sock)
        except BaseException:  # whatever happened, the linac gets a FIN, never a reset; bytes still coming are journalled
            self._journal_only = True
            self._close_gracefully(sock)
            raise
        self.endings.append(ending)
        if ending in ("stop", "timeout", "journal error"):
            self._set_state("closing", {"timeout": "link timed out", "stop": "stop requested"}.get(ending, ending))
            self._close_gracefully(sock)
        else:
            self._set_state("link lost", "closed by the linac" if ending == "closed" else ending)
            with contextlib.suppress(OSError):
                sock.close()
        self._end_stream()

    def _receive(self, sock: socket.socket) -> str:
        last_data = time.monotonic()
        while not self.stopping:
            try:
                ready, _, _ = select.select([sock], [], [], POLL_S)
            except (OSError, ValueError) as exc:
                return f"socket error ({exc})"
            if not ready:
                silent = time.monotonic() - last_data
                self.splitter.tick(silent)
                self._prune()
                if silent > self.options.timeout_s:
                    return "timeout"
                continue
            try:
                data = sock.recv(RECV_BYTES)
            except ConnectionResetError:
                return "reset by the linac"
            except OSError as exc:
                return f"socket error ({exc})"
            if not data:
                return "closed"
            try:
                self._take(data)
            except OSError as exc:
                self._journal_error = exc
                log.critical("cannot write the journal (%s): closing the link cleanly and stopping; bytes from now on are lost", exc)
                return "journal error"
            last_data = time.monotonic()
        return "stop"

    def _take(self, data: bytes) -> None:
        """Journal first (fsync), then parse; with the journal broken, bytes are only counted (the link is closing)."""
        if self._journal_error is not None:
            self.discarded += len(data)
            return
        self.journal.append(data)
        self.bytes_received += len(data)
        assert self._framer is not None
        if not self._journal_only:
            self.splitter.take(self._framer.feed(data))

    def _take_while_closing(self, data: bytes) -> None:
        try:
            self._take(data)
        except OSError as exc:
            self._journal_error = exc
            self.discarded += len(data)
            log.critical("cannot write the journal (%s) while closing the link", exc)

    def _close_gracefully(self, sock: socket.socket) -> None:
        """FIN first, read (and journal) what still comes until the linac closes, then close."""
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            log.warning("shutdown(SHUT_WR) failed: %s", exc)
        deadline = time.monotonic() + self.options.drain_timeout_s
        peer_closed = False
        while time.monotonic() < deadline:
            try:
                ready, _, _ = select.select([sock], [], [], POLL_S)
                if not ready:
                    continue
                data = sock.recv(RECV_BYTES)
            except OSError as exc:
                log.warning("while draining: %s", exc)
                peer_closed = True
                break
            if not data:
                peer_closed = True
                break
            self._take_while_closing(data)
        if not peer_closed:
            log.warning("the linac did not close its side within %g s; closing after a last drain", self.options.drain_timeout_s)
            self._drain_nonblocking(sock)
        with contextlib.suppress(OSError):  # already shut by the peer
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        self._set_state("closed", "FIN exchanged" if peer_closed else "FIN sent")

    def _drain_nonblocking(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        try:
            while True:
                data = sock.recv(RECV_BYTES)
                if not data:
                    return
                self._take_while_closing(data)
        except (BlockingIOError, OSError):
            return

    def _end_stream(self) -> None:
        if self._framer is not None:
            self.splitter.take(self._framer.finish())
            self._framer = None
        self.splitter.flush_commit()

    # ---- restart -------------------------------------------------------------
    def replay(self) -> None:
        """Re-read the journal after the committed position: finish what a crash interrupted."""
        since = self.journal.committed()
        framer: Framer | None = None
        replayed = 0
        for position, chunk in self.journal.replay(since):
            if framer is None or framer.connection != position.connection:
                if framer is not None:
                    self.splitter.take(framer.finish())
                framer = Framer(position.connection, position.offset)
                self.splitter.new_stream()
            replayed += len(chunk)
            self.splitter.take(framer.feed(chunk))
        if framer is not None:
            self.splitter.take(framer.finish())
        self.splitter.flush_commit()
        if replayed:
            open_delivery = self.splitter.open
            log.info(
                "replayed %d journalled bytes after %s%s",
                replayed, since or "the start",
                f"; delivery from {open_delivery.start} still in progress" if open_delivery else "",
            )


def archive_raw(files: list[Path], directory: Path, gap_s: float = GAP_S) -> list[Archived]:
    """Re-split raw journal files (or raw / .xz streams) into archives below ``directory``.

    Journal segments of one connection (``<connection>-<offset>.raw``, in order) are
    one stream; any other file is a stream of its own.
    """
    from plancheck.icom_service.journal import SEGMENT
    from plancheck.sources.icom.reader import load_stream

    splitter = Splitter(Archiver(directory), gap_s=gap_s)
    previous: str | None = None
    framer: Framer | None = None
    for number, path in enumerate(files, start=1):
        match = SEGMENT.match(path.name)
        stream = f"{path.parent}/{match.group(1)}" if match else f"file {number}"
        data, _, issues = load_stream(path, strict=False)
        for issue in issues:
            log.warning("%s", issue.message)
        if framer is None or stream != previous:
            splitter.take(framer.finish() if framer else [])
            framer = Framer(number, int(match.group(2)) if match else 0)
            splitter.new_stream()
        previous = stream
        splitter.take(framer.feed(data))
    splitter.take(framer.finish() if framer else [])
    splitter.end()
    return list(splitter.results)
