"""Cut a live byte stream into messages, and messages into deliveries to archive.

:class:`Framer` cuts one connection's stream into pieces (a message is whole when
the next one starts, or at the end of the stream); its buffer is bounded.
:class:`Splitter` reads each message on arrival, sets aside what cannot be read
(the next message is read as usual), holds the one delivery in progress (never
more), ends it by the rule of :mod:`deliveries`, archives it and commits the
journal position. Counters are checked: a repeated message is logged and
archived once, a jump is logged.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable
from typing import NamedTuple

from plancheck.sources.icom import fields as F
from plancheck.icom_service.archive import Archived, Archiver
from plancheck.sources.icom.deliveries import GAP_S, boundary
from plancheck.icom_service.journal import Position
from plancheck.icom_service.quarantine import Quarantine
from plancheck.sources.icom.reader import MAX_MESSAGE_BYTES, TIMESTAMP, BrokenMessage, IcomRecord, iter_items, parse_message, parse_timestamp

log = logging.getLogger(__name__)

_PEEKED = ("patient_id", "patient_name", "field_id", "machine", "mu")


@dataclass(frozen=True)
class Peek:
    """What the splitter needs of a message, read without decoding the collimation."""

    timestamp: dt.datetime
    counter: int
    patient_id: str | None
    patient_name: str | None
    field_id: str | None
    machine: str | None
    mu: float | None


def peek(message: bytes) -> Peek:
    """Timestamp, counter, patient, field, machine and MU of one message (BrokenMessage if no timestamp)."""
    if len(message) < F.ITEMS_OFFSET:
        raise BrokenMessage(0, f"{len(message)} bytes are too few for a message")
    timestamp = parse_timestamp(message, 0)
    values: dict[str, str] = {}
    try:
        for _, fld, v0, v1 in iter_items(message, F.ITEMS_OFFSET, len(message)):
            if fld is not None and fld.name in _PEEKED and fld.name not in values:
                raw = message[v0:v1]
                if raw != F.NOT_AVAILABLE.encode():
                    values[fld.name] = raw.decode("latin-1")
                    if len(values) == len(_PEEKED):
                        break
    except BrokenMessage:
        pass  # what was read is enough to split; the archiver reads the whole delivery strictly
    try:
        mu = float(values["mu"]) if "mu" in values else None
    except ValueError:
        mu = None
    return Peek(timestamp, message[F.COUNTER_OFFSET], values.get("patient_id"), values.get("patient_name"), values.get("field_id"), values.get("machine"), mu)


class Piece(NamedTuple):
    """A stretch of one connection's stream: a message to read, or bytes set aside (``problem`` says why)."""

    position: Position
    data: bytes
    problem: str = ""


class Framer:
    """Cuts one connection's stream into pieces as its bytes arrive; every byte lands in exactly one piece.

    A message is whole when the next one starts (or the stream ends). The buffer
    holds only the unfinished piece and is bounded: a piece that passes
    ``max_piece_bytes`` with no next message start is let go as set aside, and the
    search for the next timestamp goes on from where it stopped (nothing is scanned twice).
    """

    def __init__(self, connection: int, offset: int = 0, max_piece_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.connection = connection
        self.buf = bytearray()
        self.base = offset  # stream offset of buf[0]
        self.in_message = False  # buf begins with a message (True) or with bytes that start none
        self.scan = F.HEADER_SIZE  # no timestamp starts in buf before this
        self.max_piece_bytes = max_piece_bytes

    def feed(self, data: bytes) -> list[Piece]:
        self.buf += data
        out = []
        while m := TIMESTAMP.search(self.buf, self.scan):
            begin = m.start() - F.HEADER_SIZE
            if begin > 0:
                out.append(self._cut(begin))
            self.in_message = True
            self.scan = m.end() - begin
        self.scan = max(self.scan, len(self.buf) - F.TIMESTAMP_SIZE + 1)
        if len(self.buf) > self.max_piece_bytes:
            out.append(self._cut(self.scan - F.HEADER_SIZE, f"no next message start within {self.scan - F.HEADER_SIZE} bytes"))
            self.in_message = False
        return out

    def finish(self) -> list[Piece]:
        """The unfinished piece at the end of the stream (a message cut short fails its read and is set aside)."""
        if not self.buf:
            return []
        piece = self._cut(len(self.buf))
        self.in_message, self.scan = False, F.HEADER_SIZE
        return [piece]

    def _cut(self, size: int, too_long: str = "") -> Piece:
        problem = too_long if self.in_message else f"{size} bytes that start no message (no YYYY-MM-DDHH:MM:SS timestamp)"
        piece = Piece(Position(self.connection, self.base), bytes(self.buf[:size]), problem)
        del self.buf[:size]
        self.base += size
        self.scan -= size
        return piece


@dataclass
class _Open:
    """The delivery in progress: its messages' bytes, the pieces set aside while it ran, the last message."""

    start: Position
    first: IcomRecord
    last: IcomRecord
    end: Position
    messages: list[bytes] = field(default_factory=list)
    set_aside: list[bytes] = field(default_factory=list)
    mus: list[float] = field(default_factory=list)
    size: int = 0
    patient_name: str | None = None

    def add(self, pos: Position, data: bytes, record: IcomRecord) -> None:
        self.messages.append(data)
        self.size += len(data)
        self.end = Position(pos.connection, pos.offset + len(data))
        self.last = record
        self.patient_name = self.patient_name or record.patient_name
        if record.mu is not None:
            self.mus.append(record.mu)


class Splitter:
    """Deliveries out of a sequence of pieces; each ended delivery is archived, then committed.

    Each message is read whole on arrival; one that cannot be read is set aside
    (kept in the quarantine, counted, logged with its offset) and the next is read.
    """

    def __init__(
        self,
        archiver: Archiver,
        *,
        gap_s: float = GAP_S,
        commit: Callable[[Position], None] | None = None,
        idle_commit_s: float = 10.0,
        max_delivery_bytes: int = 512 << 20,
        quarantine: Quarantine | None = None,
    ) -> None:
        self.archiver = archiver
        self.gap_s = gap_s
        self._commit = commit or (lambda position: None)
        self.idle_commit_s = idle_commit_s
        self.max_delivery_bytes = max_delivery_bytes
        self.quarantine = quarantine
        self.open: _Open | None = None
        self.results: collections.deque[Archived] = collections.deque(maxlen=1000)
        self.counts: collections.Counter[str] = collections.Counter()
        self._last: IcomRecord | None = None
        self._last_bytes = b""
        self._pending: Position | None = None
        self._committed_at = 0.0
        self._archive_failed = False

    def new_stream(self) -> None:
        """A new connection: counters start afresh; a delivery in progress may go on in it."""
        self._last, self._last_bytes = None, b""

    def take(self, pieces: Iterable[Piece]) -> None:
        """Messages to read, and pieces the framer already set aside, in stream order."""
        for piece in pieces:
            if piece.problem:
                self.set_aside(piece.position, piece.data, piece.problem)
            else:
                self.message(piece.position, piece.data)

    def message(self, pos: Position, data: bytes) -> None:
        record = self._read(pos, data)
        if record is None or self._repeated(pos, record, data):
            return
        reason = boundary(self.open.last if self.open else None, record, self.gap_s)
        if self.open is not None and reason is not None:
            self._close(pos, reason)
        if record.patient_id is None:
            self._no_delivery(Position(pos.connection, pos.offset + len(data)))
            return
        if self.open is None:
            log.info("delivery starts at %s: patient %s, field %s, machine %s", pos, record.patient_id, record.field_id, record.machine)
            self.open = _Open(pos, record, record, pos)
        self.open.add(pos, data, record)
        if self.open.size > self.max_delivery_bytes:
            self._close(self.open.end, f"delivery passed {self.max_delivery_bytes} bytes; archived in parts")

    def _read(self, pos: Position, data: bytes) -> IcomRecord | None:
        """The message's record, or None when it was set aside."""
        try:
            record, trailing = parse_message(data, 0, len(data))
        except BrokenMessage as exc:
            self.set_aside(pos, data, f"{exc.what} (at connection byte {pos.offset + exc.offset})")
            return None
        except Exception as exc:  # the listener must outlive a reader bug: the message is kept, the next one read
            log.exception("unexpected error reading the message at %s", pos)
            self.counts["unexpected_errors"] += 1
            self.set_aside(pos, data, f"unexpected {type(exc).__name__} while reading it (a plancheck bug: report it)")
            return None
        if trailing is not None:
            self.counts["trailing_garbage"] += 1
            log.warning("%d bytes after the message at %s (from connection byte %d) are no iCOM item: kept with the message",
                        len(data) - trailing, pos, pos.offset + trailing)
        return record

    def set_aside(self, pos: Position, data: bytes, reason: str) -> None:
        """Keep a piece that is no readable message out of the archives: quarantined, counted, logged."""
        self.counts["set_aside"] += 1
        self.counts["set_aside_bytes"] += len(data)
        kept = None
        if self.quarantine is not None:
            try:
                kept = self.quarantine.keep(pos, data, reason)
            except OSError as exc:  # a copy for people to look at: the journal holds these bytes
                log.error("cannot write the quarantine in %s (%s)", self.quarantine.folder, exc)
        log.warning("%d bytes at %s set aside: %s; kept in %s", len(data), pos, reason, kept or "the journal")
        if self.open is not None:
            self.open.set_aside.append(data)
            self.open.size += len(data)
        else:
            self._no_delivery(Position(pos.connection, pos.offset + len(data)))

    def _no_delivery(self, end: Position) -> None:
        """Everything before ``end`` is dealt with and belongs to no delivery: commit it now and then."""
        self._pending = end
        if time.monotonic() - self._committed_at >= self.idle_commit_s:
            self.flush_commit()

    def _repeated(self, pos: Position, key: IcomRecord, data: bytes) -> bool:
        last, last_bytes = self._last, self._last_bytes
        if last is not None and key.counter == last.counter and data == last_bytes:
            self.counts["duplicates"] += 1
            log.warning("message with counter %d repeated at %s: archived once, the repeat kept in the journal only", key.counter, pos)
            return True
        self._last, self._last_bytes = key, data
        if last is None:
            return False
        expected = (last.counter + 1) % 256
        if key.counter == last.counter:
            self.counts["counter_repeats"] += 1
            log.error("counter %d repeated at %s with different content: both kept, in the order received", key.counter, pos)
        elif key.counter != expected:
            self.counts["counter_jumps"] += 1
            log.warning("counter jumped from %d to %d at %s: %d message(s) missing or out of order", last.counter, key.counter, pos, (key.counter - expected) % 256)
        return False

    def tick(self, silent_s: float) -> None:
        """Called while no bytes arrive: a delivery silent for longer than gap_s has ended."""
        if self.open is not None and silent_s > self.gap_s:
            self._close(self.open.end, f"{silent_s:.0f} s without a message")

    def end(self) -> None:
        """No more messages will come (the archive command): archive what is open."""
        if self.open is not None:
            self._close(self.open.end, "end of the recorded stream")
        self.flush_commit()

    def flush_commit(self) -> None:
        if self.open is None and self._pending is not None:
            self.commit(self._pending)
            self._pending = None
            self._committed_at = time.monotonic()

    def commit(self, position: Position) -> None:
        """Move the journal's committed position, unless an archive could not be written (a restart replays it)."""
        if not self._archive_failed:
            self._commit(position)

    def _close(self, end: Position, reason: str) -> None:
        delivery, self.open = self.open, None
        assert delivery is not None
        log.info("delivery from %s ends (%s)", delivery.start, reason)
        first = delivery.first
        pid, name, start, where = first.patient_id or "", delivery.patient_name, first.timestamp, str(delivery.start)
        try:
            result = self.archiver.archive(b"".join(delivery.messages), patient_id=pid, patient_name=name, start=start, where=where,
                                           mus=delivery.mus, field_id=first.field_id, machine=first.machine)
            if delivery.set_aside:
                self.archiver.set_aside(b"".join(delivery.set_aside), patient_id=pid, patient_name=name, start=start, where=where)
        except OSError as exc:
            self._archive_failed = True
            self.counts["archive_failed"] += 1
            log.error(
                "cannot write the archive of the delivery from %s (%s): it stays in the journal, which is no longer committed from here, "
                "so a restart archives it again; free space or fix permissions, then restart the listener (or run `plancheck icom archive`)",
                delivery.start, exc,
            )
            return
        self.results.append(result)
        self.counts[result.status] += 1
        self.commit(end)
        self._pending = None
        self._committed_at = time.monotonic()
