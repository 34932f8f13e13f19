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
from typing import Any, Iterator

import numpy as np

from plancheck.errors import SourceError
from plancheck.sources.icom import fields as F

log = logging.getLogger(__name__)

TIMESTAMP = re.compile(rb"\d\d\d\d-\d\d-\d\d\d\d:\d\d:\d\d")
MAX_MESSAGE_BYTES = 1 << 20


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


class BrokenMessage(Exception):
    """A message that cannot be read; carries the offset of the damage."""

    def __init__(self, offset: int, what: str, truncated: bool = False) -> None:
        super().__init__(what)
        self.offset, self.what, self.truncated = offset, what, truncated


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
        data = decoder.decompress(raw)
    except lzma.LZMAError as exc:
        raise SourceError(f"corrupt xz archive ({exc})", where=f"{where} byte 0..{len(raw)}", fix="restore it from the listener's raw journal with `plancheck icom archive`") from None
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
    ends = starts[1:] + [len(data)]
    for start, end in zip(starts, ends):
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


def iter_items(data: bytes, pos: int, end: int) -> Iterator[tuple[int, F.Field | None, int, int, bytes]]:
    """(offset, field or None when unknown, value start, value end, VR) of each item until ``end``.

    Raises BrokenMessage at bytes that are no item or at an item that runs past ``end``.
    """
    unpack = F.ITEM_HEADER.unpack_from
    by_tag = F.BY_TAG
    while pos < end:
        if end - pos < F.ITEM_HEADER_SIZE:
            raise BrokenMessage(pos, f"{end - pos} bytes at the end are too few for an item header")
        group, element, vr, pad, kind, length = unpack(data, pos)
        if pad != b"\x00" or kind not in (b"P", b"R") or vr not in F.KNOWN_VRS:
            raise BrokenMessage(pos, "bytes that are no iCOM item")
        value_start = pos + F.ITEM_HEADER_SIZE
        value_end = value_start + length
        if value_end > end:
            raise BrokenMessage(pos, f"item ({group:04X},{element:04X}) declares {length} value bytes but only {end - value_start} follow: truncated", truncated=True)
        yield pos, by_tag.get((group, element)), value_start, value_end, vr
        pos = value_end


def parse_timestamp(data: bytes, start: int) -> dt.datetime:
    t = data[start + F.HEADER_SIZE : start + F.COUNTER_OFFSET]
    try:
        return dt.datetime(int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[10:12]), int(t[13:15]), int(t[16:18]))
    except ValueError:
        raise BrokenMessage(start + F.HEADER_SIZE, f"timestamp {t!r} is no date") from None


def parse_message(data: bytes, start: int, end: int) -> tuple[IcomRecord, int | None]:
    """The record of the message in ``data[start:end]`` and the offset of trailing garbage, if any."""
    if end - start < F.ITEMS_OFFSET:
        raise BrokenMessage(start, f"{end - start} bytes are too few for a message")
    timestamp = parse_timestamp(data, start)
    counter = data[start + F.COUNTER_OFFSET]
    values: dict[str, Any] = {}
    collected = _Collected()
    trailing = None
    items = iter_items(data, start + F.ITEMS_OFFSET, end)
    while True:
        try:
            offset, fld, v0, v1, _ = next(items)
        except StopIteration:
            break
        except BrokenMessage as exc:
            if exc.truncated or not collected.complete():
                raise
            trailing = exc.offset
            break
        collected.item(fld, data[v0:v1], offset, values)
    _check_declared_length(data, start, end)
    collected.finish(start)
    return _record(start, timestamp, counter, values, collected), trailing


class _Collected:
    """Collimator blocks and multi-valued items of one message while it is parsed."""

    def __init__(self) -> None:
        self.devices: dict[str, list[float]] = {}
        self.device: str | None = None
        self.device_offset = 0
        self.lists: dict[str, list[str]] = {}

    def item(self, fld: F.Field | None, raw: bytes, offset: int, values: dict[str, Any]) -> None:
        if fld is F.POSITION:
            if self.device is None:
                raise BrokenMessage(offset, "a leaf/jaw position with no device-type item before it")
            self.devices[self.device].append(_number(raw, float, offset, nan_when_missing=True))
            return
        self._close_device()
        if fld is None:
            return
        text = raw.decode("latin-1")
        if fld is F.DEVICE_TYPE:
            if text in F.DEVICES:
                if text in self.devices:
                    raise BrokenMessage(offset, f"a second {text} block")
                self.device, self.device_offset = text, offset
                self.devices[text] = []
            return
        if text == F.NOT_AVAILABLE:
            return
        if fld.multiplicity == "all":
            self.lists.setdefault(fld.name, []).append(text)
        elif fld.name not in values:
            values[fld.name] = text if fld.type is str else _number(raw, fld.type, offset)

    def _close_device(self) -> None:
        if self.device is not None:
            got, expected = len(self.devices[self.device]), F.DEVICES[self.device]
            if got != expected:
                raise BrokenMessage(self.device_offset, f"{self.device} block has {got} of {expected} positions")
            self.device = None

    def complete(self) -> bool:
        """Every required block is read in full (so what follows may be skipped as garbage)."""
        return all(len(self.devices.get(d, ())) == F.DEVICES[d] for d in F.REQUIRED_DEVICES) and (
            self.device is None or len(self.devices[self.device]) == F.DEVICES[self.device]
        )

    def finish(self, start: int) -> None:
        self._close_device()
        for device in F.REQUIRED_DEVICES:
            if device not in self.devices:
                raise BrokenMessage(start, f"no {device} block ({F.DEVICES[device]} positions expected)")


def _number(raw: bytes, kind: type, offset: int, nan_when_missing: bool = False) -> Any:
    try:
        if nan_when_missing and raw == b"-32767":
            return float("nan")
        return kind(raw)
    except ValueError:
        raise BrokenMessage(offset, f"value {raw[:40]!r} is not a number") from None


def _check_declared_length(data: bytes, start: int, end: int) -> None:
    """plancheck's header declares the message length: a stream cut at an item boundary shows here."""
    declared = int.from_bytes(data[start : start + 4], "little")
    ours = data[start + 4 : start + F.HEADER_SIZE] == b"\x00\x00\x00\x00"
    if ours and end == len(data) and end - start < declared <= MAX_MESSAGE_BYTES:
        raise BrokenMessage(end, f"stream ends after {end - start} of the {declared} bytes the message header declares: truncated", truncated=True)


def _record(start: int, timestamp: dt.datetime, counter: int, values: dict[str, Any], collected: _Collected) -> IcomRecord:
    devices = collected.devices
    named = {k: values.pop(k, None) for k in ("patient_id", "patient_name", "machine", "field_id", "energy", "radiation_type", "mu", "total_mu", "gantry", "collimator")}
    return IcomRecord(
        offset=start,
        timestamp=timestamp,
        counter=counter,
        mlc=mlc_to_delivery(devices["MLCX"]),
        jaw=jaw_to_delivery(devices["ASYMY"]),
        jaw_x=np.asarray(devices["ASYMX"]) * 10.0 if "ASYMX" in devices else None,
        interlocks=tuple(collected.lists.get("interlocks", ())),
        other={**values, **({"previous_interlocks": tuple(collected.lists["previous_interlocks"])} if "previous_interlocks" in collected.lists else {})},
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
