"""Read iCOM Vx streams: messages to per-timestep records, records to a Delivery.

Messages are found at their timestamps (as pymedphys finds them), then each is
parsed item by item with the table in :mod:`fields`, so a damaged stream is
reported where it is damaged: a truncated stream, bytes that are no item, a
collimator block with too few positions. Garbage after a complete message is a
recorded skip (the message is intact); a message that cannot be read is an error
(``strict=True``) or a recorded skip (``strict=False``). Every report names the
file and the byte offset.
"""

from __future__ import annotations

import datetime as dt
import logging
import lzma
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import numpy as np

from plancheck.errors import SourceError
from plancheck.sources.icom import fields as F

log = logging.getLogger(__name__)

TIMESTAMP = re.compile(rb"\d\d\d\d-\d\d-\d\d\d\d:\d\d:\d\d")
MAX_MESSAGE_BYTES = 1 << 20
MAX_STREAM_BYTES = 640 << 20  # above the listener's largest archive part (512 MiB); bounds an xz bomb


@dataclass(frozen=True, slots=True, eq=False)
class IcomRecord:
    """One message (one timestep) of an iCOM stream, in plancheck's units.

    ``mlc`` is (80, 2) and ``jaw`` (2,) in mm in pymedphys' Delivery convention;
    ``mu`` is the linac's delivered-MU counter for the beam; angles are as sent.
    """

    offset: int
    timestamp: dt.datetime
    counter: int
    patient_id: str | None = None
    patient_name: str | None = None
    machine: str | None = None
    field_id: str | None = None
    energy: str | None = None
    radiation_type: str | None = None
    mu: float | None = None
    total_mu: float | None = None
    gantry: float | None = None
    collimator: float | None = None
    mlc: np.ndarray | None = None
    jaw: np.ndarray | None = None
    jaw_x: np.ndarray | None = None
    interlocks: tuple[str, ...] = ()
    other: dict[str, Any] = field(default_factory=dict)

    @property
    def has_collimation(self) -> bool:
        return self.mlc is not None and self.jaw is not None


@dataclass
class IcomReading:
    """Records of one stream, with the skips met on the way (each names file and offset)."""

    where: str
    records: list[IcomRecord] = field(default_factory=list)
    issues: list[SourceError] = field(default_factory=list)


class BrokenMessage(SourceError):
    """A message that cannot be read; carries the offset of the damage (in the bytes it was read from)."""

    def __init__(self, offset: int, what: str, truncated: bool = False) -> None:
        super().__init__(what, where=f"byte {offset}")
        self.offset, self.truncated = offset, truncated


# ---- bytes in ------------------------------------------------------------


def load_stream(source: bytes | bytearray | str | Path, *, strict: bool = True) -> tuple[bytes, str, list[SourceError]]:
    """The raw stream from bytes, a raw file or an ``.xz`` archive, and where it came from.

    A truncated ``.xz`` is an error naming the compressed offset where it ends
    (``strict``), or gives back what it holds with that error recorded.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "iCOM stream", []
    path = Path(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read iCOM file ({exc.strerror or exc})", where=str(path)) from None
    if not raw.startswith(b"\xfd7zXZ\x00"):
        return raw, str(path), []
    return _decompress(raw, str(path), strict)


def _decompress(raw: bytes, where: str, strict: bool) -> tuple[bytes, str, list[SourceError]]:
    decoder = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        data = decoder.decompress(raw, max_length=MAX_STREAM_BYTES + 1)
    except (lzma.LZMAError, EOFError) as exc:
        raise SourceError(f"corrupt xz archive ({exc})", where=f"{where} byte 0..{len(raw)}",
                fix="restore it from the listener's raw journal with `plancheck icom archive`") from None
    if len(data) > MAX_STREAM_BYTES:
        raise SourceError(f"xz archive decompresses to more than {MAX_STREAM_BYTES} bytes; the listener never writes one that large",
                          where=f"{where} byte 0", fix="is this an iCOM archive?")
    if decoder.eof:
        return data, where, []
    error = SourceError(
        f"xz archive is truncated: it ends at compressed byte {len(raw)} before its end marker ({len(data)} bytes decompressed)",
        where=f"{where} byte {len(raw)}",
        fix="restore it from the listener's raw journal with `plancheck icom archive`",
    )
    if strict:
        raise error
    return data, where, [error]


# ---- messages ------------------------------------------------------------


def message_starts(data: bytes, start: int = 0) -> list[int]:
    """Byte offsets where messages start: 8 bytes before each timestamp."""
    return [m.start() - F.HEADER_SIZE for m in TIMESTAMP.finditer(data, start + F.HEADER_SIZE)]


def read_icom(source: bytes | bytearray | str | Path, *, strict: bool = True) -> IcomReading:
    """Every message of a stream as a record; see the module docstring for what is an error."""
    data, where, issues = load_stream(source, strict=strict)
    reading = IcomReading(where, issues=list(issues))
    starts = message_starts(data)
    if not starts:
        if data:
            raise SourceError(f"no iCOM message found in {len(data)} bytes (no YYYY-MM-DDHH:MM:SS timestamp)", where=f"{where} byte 0", fix="is this an iCOM stream or archive?")
        return reading
    if starts[0] > 0:
        _skip(reading, 0, f"{starts[0]} bytes before the first message skipped")
    ends = [*starts[1:], len(data)]
    for start, end in zip(starts, ends, strict=False):
        try:
            record, trailing = parse_message(data, start, end)
        except BrokenMessage as exc:
            error = SourceError(f"message at byte {start}: {exc.what}", where=f"{where} byte {exc.offset}")
            if strict:
                raise error from None
            log.warning("%s; message skipped", error.message)
            reading.issues.append(error)
            continue
        if trailing is not None:
            _skip(reading, trailing, f"{end - trailing} bytes after the message at byte {start} are no iCOM item; skipped")
        reading.records.append(record)
    return reading


def _skip(reading: IcomReading, offset: int, what: str) -> None:
    issue = SourceError(what, where=f"{reading.where} byte {offset}")
    log.warning("%s", issue.message)
    reading.issues.append(issue)


def _item_at(data: bytes, pos: int, end: int) -> tuple[F.Field | None, int, int]:
    """The field (None when unknown) and value span of the item at ``pos``; BrokenMessage where there is none."""
    if end - pos < F.ITEM_HEADER_SIZE:
        raise BrokenMessage(pos, f"{end - pos} bytes are too few for an item header")
    group, element, vr, pad, kind, length = F.ITEM_HEADER.unpack_from(data, pos)
    if pad != b"\x00" or kind not in (b"P", b"R") or vr not in F.KNOWN_VRS:
        raise BrokenMessage(pos, "bytes that are no iCOM item")
    value_end = pos + F.ITEM_HEADER_SIZE + length
    if value_end > end:
        raise BrokenMessage(pos, f"item ({group:04X},{element:04X}) declares {length} value bytes but only {end - pos - F.ITEM_HEADER_SIZE} follow: truncated", truncated=True)
    return F.BY_TAG.get((group, element)), pos + F.ITEM_HEADER_SIZE, value_end


def iter_items(data: bytes, pos: int, end: int) -> Iterator[tuple[int, F.Field | None, int, int]]:
    """(offset, field or None when unknown, value start, value end) of each item until ``end``."""
    while pos < end:
        fld, value_start, value_end = _item_at(data, pos, end)
        yield pos, fld, value_start, value_end
        pos = value_end


def parse_timestamp(data: bytes, start: int) -> dt.datetime:
    t = data[start + F.HEADER_SIZE : start + F.COUNTER_OFFSET]
    try:
        return dt.datetime(int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[10:12]), int(t[13:15]), int(t[16:18]))
    except ValueError:
        raise BrokenMessage(start + F.HEADER_SIZE, f"timestamp {t!r} is no date") from None


_DEVICE_NAMES = {name.encode(): name for name in F.DEVICES}
_POSITION_PREFIX = F.POSITION.header(0)[:8]


def parse_message(data: bytes, start: int, end: int) -> tuple[IcomRecord, int | None]:
    """The record of the message in ``data[start:end]`` and the offset of trailing garbage, if any."""
    if end - start < F.ITEMS_OFFSET:
        raise BrokenMessage(start, f"{end - start} bytes are too few for a message")
    _check_declared_length(data, start, end)
    timestamp = parse_timestamp(data, start)
    values: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    blocks: dict[str, list[float]] = {}
    trailing = None
    pos = start + F.ITEMS_OFFSET
    while pos < end:
        try:
            fld, v0, v1 = _item_at(data, pos, end)
        except BrokenMessage as exc:
            if exc.truncated or not all(d in blocks for d in F.REQUIRED_DEVICES):
                raise
            trailing = pos  # the message is whole: what follows is garbage between messages
            break
        if fld is F.DEVICE_TYPE and data[v0:v1] in _DEVICE_NAMES:
            name = _DEVICE_NAMES[data[v0:v1]]
            if name in blocks:
                raise BrokenMessage(pos, f"a second {name} block")
            blocks[name], pos = _read_block(data, v1, end, name, pos)
            continue
        if fld is F.POSITION:
            raise BrokenMessage(pos, "a leaf/jaw position outside a device block (too many positions?)")
        if fld is not None and fld is not F.DEVICE_TYPE:
            _store(fld, data[v0:v1], pos, values, lists)
        pos = v1
    for device in F.REQUIRED_DEVICES:
        if device not in blocks:
            raise BrokenMessage(start, f"no {device} block ({F.DEVICES[device]} positions expected)")
    return _record(start, timestamp, data[start + F.COUNTER_OFFSET], values, lists, blocks), trailing


def _read_block(data: bytes, pos: int, end: int, name: str, block_offset: int) -> tuple[list[float], int]:
    """The positions (cm) of one device block and where the block ends: they are most of every message."""
    expected = F.DEVICES[name]
    found = _split_block(data, pos, end, expected)
    if found is None:
        found = _walk_block(data, pos, end, name, expected, block_offset)
    raw, pos = found
    try:
        numbers = [float(v) for v in raw]
    except ValueError:
        bad = next(v for v in raw if not _is_number(v))
        raise BrokenMessage(block_offset, f"{name} block holds {bad[:40]!r}, not a number") from None
    if F.NOT_AVAILABLE_NUMBER in numbers:
        numbers = [float("nan") if v == F.NOT_AVAILABLE_NUMBER else v for v in numbers]
    return numbers, pos


def _split_block(data: bytes, pos: int, end: int, expected: int) -> tuple[list[bytes], int] | None:
    """Fast path: split the block at the position items' fixed 8-byte prefix; None unless every length checks out."""
    pieces = data[pos:end].split(_POSITION_PREFIX, expected)
    if len(pieces) != expected + 1 or pieces[0]:
        return None
    body, last = pieces[1:-1], pieces[-1]
    if len(last) < 4 or last[1:4] != b"\x00\x00\x00" or len(last) < 4 + last[0]:
        return None
    # a piece shorter than its length field (two item headers back to back) leaves the block to the walk
    if any(len(p) < 4 or len(p) != 4 + p[0] or p[1:4] != b"\x00\x00\x00" for p in body):
        return None
    values = [p[4:] for p in body] + [last[4 : 4 + last[0]]]
    block_end = pos + 8 * expected + sum(len(p) for p in body) + 4 + last[0]
    return values, block_end


def _walk_block(data: bytes, pos: int, end: int, name: str, expected: int, block_offset: int) -> tuple[list[bytes], int]:
    """Item by item, to say exactly what is wrong with a block the fast path refused."""
    raw: list[bytes] = []
    while len(raw) < expected and pos + F.ITEM_HEADER_SIZE <= end and data.startswith(_POSITION_PREFIX, pos):
        if data.startswith(_POSITION_PREFIX, pos + len(_POSITION_PREFIX)):
            raise BrokenMessage(pos, f"{name} position {len(raw) + 1} has no length or value (two item headers back to back)")
        value_end = pos + F.ITEM_HEADER_SIZE + int.from_bytes(data[pos + 8 : pos + F.ITEM_HEADER_SIZE], "little")
        if value_end > end:
            raise BrokenMessage(pos, f"{name} position runs past the end of the message: truncated", truncated=True)
        raw.append(data[pos + F.ITEM_HEADER_SIZE : value_end])
        pos = value_end
    if len(raw) < expected:
        raise BrokenMessage(block_offset, f"{name} block has {len(raw)} of {expected} positions")
    return raw, pos


def _is_number(raw: bytes) -> bool:
    try:
        float(raw)
        return True
    except ValueError:
        return False


def _store(fld: F.Field, raw: bytes, offset: int, values: dict[str, Any], lists: dict[str, list[str]]) -> None:
    """Keep a value by the field's multiplicity: the first available one, or all of them."""
    text = raw.decode("latin-1")
    if text == F.NOT_AVAILABLE:
        return
    if fld.multiplicity == "all":
        lists.setdefault(fld.name, []).append(text)
    elif fld.name not in values:
        if fld.type is str:
            values[fld.name] = text
            return
        try:
            values[fld.name] = fld.type(raw)
        except ValueError:
            raise BrokenMessage(offset, f"{fld.label} value {raw[:40]!r} is not a number") from None


def _check_declared_length(data: bytes, start: int, end: int) -> None:
    """plancheck's header declares the message length: a stream cut at an item boundary shows here."""
    declared = int.from_bytes(data[start : start + 4], "little")
    ours = data[start + 4 : start + F.HEADER_SIZE] == b"\x00\x00\x00\x00"
    if ours and end == len(data) and end - start < declared <= MAX_MESSAGE_BYTES:
        raise BrokenMessage(end, f"stream ends after {end - start} of the {declared} bytes the message header declares: truncated", truncated=True)


def _record(start: int, timestamp: dt.datetime, counter: int, values: dict[str, Any], lists: dict[str, list[str]], blocks: dict[str, list[float]]) -> IcomRecord:
    named = {k: values.pop(k, None) for k in ("patient_id", "patient_name", "machine", "field_id", "energy", "radiation_type", "mu", "total_mu", "gantry", "collimator")}
    if "previous_interlocks" in lists:
        values["previous_interlocks"] = tuple(lists["previous_interlocks"])
    return IcomRecord(
        offset=start,
        timestamp=timestamp,
        counter=counter,
        mlc=mlc_to_delivery(blocks["MLCX"]),
        jaw=jaw_to_delivery(blocks["ASYMY"]),
        jaw_x=np.asarray(blocks["ASYMX"]) * 10.0 if "ASYMX" in blocks else None,
        interlocks=tuple(lists.get("interlocks", ())),
        other=values,
        **named,
    )


# ---- coordinates (pymedphys' Delivery convention) -------------------------


def mlc_to_delivery(raw_cm: list[float]) -> np.ndarray:
    """160 iCOM leaf positions (cm, as sent) to (80, 2) mm: leaves reversed, banks swapped, one negated."""
    mlc = np.asarray(raw_cm, dtype=float).reshape(F.LEAF_PAIRS, 2)[::-1, ::-1] * 10.0
    mlc[:, 1] = -mlc[:, 1]
    return np.round(mlc, 10)


def jaw_to_delivery(raw_cm: list[float]) -> np.ndarray:
    return np.round(np.asarray(raw_cm, dtype=float)[::-1] * 10.0, 10)


def mlc_from_delivery(mlc_mm: np.ndarray) -> np.ndarray:
    """Inverse of :func:`mlc_to_delivery`: (80, 2) mm to the 160 values (cm) in stream order."""
    raw = np.array(mlc_mm, dtype=float, copy=True)
    raw[:, 1] = -raw[:, 1]
    return (raw[::-1, ::-1] / 10.0).reshape(-1)


def jaw_from_delivery(jaw_mm: np.ndarray) -> np.ndarray:
    return np.asarray(jaw_mm, dtype=float)[::-1] / 10.0
