"""Cut a live byte stream into messages, and messages into deliveries to archive.

:class:`Framer` finds messages in one connection's stream (a message is whole when
the next one starts, or, at the end of the stream, when it parses). :class:`Splitter`
holds the one delivery in progress (never more), ends it by the rule of
:mod:`deliveries`, archives it and commits the journal position. Counters are
checked: a repeated message is logged and archived once, a jump is logged.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from plancheck.sources.icom import fields as F
from plancheck.sources.icom.archive import Archived, Archiver
from plancheck.sources.icom.deliveries import GAP_S, boundary
from plancheck.sources.icom.journal import Position
from plancheck.sources.icom.reader import TIMESTAMP, BrokenMessage, iter_items, parse_message, parse_timestamp

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


class Framer:
    """Messages of one connection's stream, as its bytes arrive; holds only the unfinished message."""

    def __init__(self, connection: int, offset: int = 0) -> None:
        self.connection = connection
        self.buf = bytearray()
        self.base = offset  # stream offset of buf[0]
        self.start: int | None = None  # where the unfinished message starts in buf
        self.scan = F.HEADER_SIZE

    def feed(self, data: bytes) -> list[tuple[Position, bytes]]:
        self.buf += data
        out = []
        while m := TIMESTAMP.search(self.buf, self.scan):
            begin = m.start() - F.HEADER_SIZE
            if self.start is None:
                if begin > 0:
                    log.warning("%d bytes before the first message skipped at %s (kept in the journal)", begin, Position(self.connection, self.base))
            else:
                out.append((Position(self.connection, self.base + self.start), bytes(self.buf[self.start : begin])))
            self.start = begin
            self.scan = m.end()
        self._trim()
        return out

    def _trim(self) -> None:
        keep_from = self.start if self.start is not None else max(0, len(self.buf) - F.HEADER_SIZE - F.TIMESTAMP_SIZE)
        if self.start is None and keep_from > 0:
            log.warning("%d bytes with no message skipped at %s (kept in the journal)", keep_from, Position(self.connection, self.base))
        if keep_from:
            del self.buf[:keep_from]
            self.base += keep_from
            self.scan = max(F.HEADER_SIZE, self.scan - keep_from)
            if self.start is not None:
                self.start -= keep_from

    def finish(self) -> list[tuple[Position, bytes]]:
        """The last message, if whole, at the end of the stream; a cut one is logged and left in the journal."""
        if self.start is None or self.start >= len(self.buf):
            return []
        message = bytes(self.buf[self.start :])
        where = Position(self.connection, self.base + self.start)
        self.buf.clear()
        self.start = None
        try:
            parse_message(message, 0, len(message))
        except BrokenMessage as exc:
            if exc.truncated:
                log.warning("stream ends inside the message at %s (%s): not archived, kept in the journal", where, exc.what)
                return []
        return [(where, message)]


@dataclass
class _Open:
    """The delivery in progress: its messages' bytes and the last message's key."""

    start: Position
    first: Peek
    last: Peek
    end: Position
    messages: list[bytes] = field(default_factory=list)
    size: int = 0
    patient_name: str | None = None

    def add(self, pos: Position, data: bytes, key: Peek | None) -> None:
        self.messages.append(data)
        self.size += len(data)
        self.end = Position(pos.connection, pos.offset + len(data))
        if key is not None:
            self.last = key
            self.patient_name = self.patient_name or key.patient_name


class Splitter:
    """Deliveries out of a sequence of messages; each ended delivery is archived, then committed."""

    def __init__(
        self,
        archiver: Archiver,
        *,
        gap_s: float = GAP_S,
        commit: Callable[[Position], None] | None = None,
        idle_commit_s: float = 10.0,
        max_delivery_bytes: int = 512 << 20,
    ) -> None:
        self.archiver = archiver
        self.gap_s = gap_s
        self.commit = commit or (lambda position: None)
        self.idle_commit_s = idle_commit_s
        self.max_delivery_bytes = max_delivery_bytes
        self.open: _Open | None = None
        self.results: collections.deque[Archived] = collections.deque(maxlen=1000)
        self.counts: collections.Counter[str] = collections.Counter()
        self._last: Peek | None = None
        self._last_bytes = b""
        self._pending: Position | None = None
        self._committed_at = 0.0

    def new_stream(self) -> None:
        """A new connection: counters start afresh; a delivery in progress may go on in it."""
        self._last, self._last_bytes = None, b""

    def message(self, pos: Position, data: bytes) -> None:
        try:
            key = peek(data)
        except BrokenMessage as exc:
            if self.open is not None:
                log.warning("unreadable message at %s (%s): kept with the delivery in progress", pos, exc.what)
                self.open.add(pos, data, None)
            else:
                log.warning("unreadable message at %s (%s): skipped, kept in the journal", pos, exc.what)
            return
        if self._repeated(pos, key, data):
            return
        reason = boundary(self.open.last if self.open else None, key, self.gap_s)
        if self.open is not None and reason is not None:
            self._close(pos, reason)
        if key.patient_id is None:
            self._pending = Position(pos.connection, pos.offset + len(data))
            if time.monotonic() - self._committed_at >= self.idle_commit_s:
                self.flush_commit()
            return
        if self.open is None:
            log.info("delivery starts at %s: patient %s, field %s, machine %s", pos, key.patient_id, key.field_id, key.machine)
            self.open = _Open(pos, key, key, pos)
        self.open.add(pos, data, key)
        if self.open.size > self.max_delivery_bytes:
            self._close(self.open.end, f"delivery passed {self.max_delivery_bytes} bytes; archived in parts")

    def _repeated(self, pos: Position, key: Peek, data: bytes) -> bool:
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

    def _close(self, end: Position, reason: str) -> None:
        delivery, self.open = self.open, None
        assert delivery is not None
        log.info("delivery from %s ends (%s)", delivery.start, reason)
        result = self.archiver.archive(
            b"".join(delivery.messages),
            patient_id=delivery.first.patient_id or "",
            patient_name=delivery.patient_name,
            start=delivery.first.timestamp,
            where=str(delivery.start),
        )
        self.results.append(result)
        self.counts[result.status] += 1
        self.commit(end)
        self._pending = None
        self._committed_at = time.monotonic()
