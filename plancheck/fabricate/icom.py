"""Write iCOM Vx streams from a Delivery: one message per control point, in the layout of :mod:`fields`.

The streams read back through ``pymedphys.Delivery.from_icom`` and through
plancheck's reader. Precision: numbers are written with ``decimals`` digits after
the point (default 7), so MU and angles come back within 5e-8 and positions
(sent in cm) within 5e-7 mm; ``decimals=2`` gives the coarser 0.1 mm steps a
linac stream carries.
"""

from __future__ import annotations

import datetime as dt
import lzma
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from plancheck.sources.icom import fields as F
from plancheck.icom_service.journal import write_atomic
from plancheck.sources.icom.reader import jaw_from_delivery, mlc_from_delivery

if TYPE_CHECKING:
    from plancheck.delivery.model import Delivery

Item = tuple[F.Field, str]
DEFAULT_RATE_HZ = 4.0  # about the message rate of an Elekta iCOM Vx stream
_ENERGY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(X|FFF|E)\s*$", re.IGNORECASE)


def check_text(value: str, what: str) -> str:
    """Refuse text pymedphys' reader could not read back (it takes ``[,-'" .A-Za-z0-9]``)."""
    raw = value.encode("latin-1", errors="replace")
    bad = sorted({chr(b) for b in raw if b not in F.VALUE_CHARACTERS})
    if not raw or bad:
        raise ValueError(f"{what} {value!r} cannot be written to an iCOM stream ({'empty' if not raw else 'characters ' + ''.join(bad)}); use letters, digits, space and , . ' -")
    if len(raw) > 255:
        raise ValueError(f"{what} is longer than 255 characters")
    return value


def icom_name(name: str) -> str:
    """'DOE^JOHN' (DICOM) to 'DOE, JOHN', the form an iCOM value can carry."""
    parts = [p.strip() for p in name.split("^") if p.strip()]
    return ", ".join(parts[:2]) if parts else name


def icom_energy(label: str) -> tuple[str, str]:
    """plancheck's '6X', '10FFF', '6E' to the iCOM energy text and radiation type."""
    match = _ENERGY.match(label)
    if not match:
        return check_text(label, "energy"), "PHOTON"
    value, kind = match.group(1), match.group(2).upper()
    if kind == "E":
        return f"{value} MeV", "ELECTRON"
    return (f"{value} MV FFF" if kind == "FFF" else f"{value} MV"), "PHOTON"


def number(value: float, decimals: int) -> str:
    """Fixed-point text; never 10 characters long, as pymedphys cannot read a length byte of 0x0A."""
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value} to an iCOM stream")
    text = f"{value:.{decimals}f}"
    return text + "0" if len(text) == 10 else text


def encode_message(timestamp: dt.datetime, counter: int, items: Iterable[Item]) -> bytes:
    """One message: header (length), timestamp, counter, items."""
    body = bytearray()
    for fld, value in items:
        raw = value.encode("latin-1")
        body += fld.header(len(raw))
        body += raw
    stamp = f"{timestamp:%Y-%m-%d%H:%M:%S}".encode()
    length = F.ITEMS_OFFSET + len(body)
    return length.to_bytes(4, "little") + b"\x00\x00\x00\x00" + stamp + bytes([counter % 256]) + bytes(body)


def collimation_items(mlc_mm: np.ndarray, jaw_mm: np.ndarray, decimals: int) -> list[Item]:
    """The MLCX block (160 positions) and the ASYMY block (2), in cm, stream order."""
    items: list[Item] = [(F.DEVICE_TYPE, "MLCX")]
    items += [(F.POSITION, number(v, decimals)) for v in mlc_from_delivery(mlc_mm)]
    items.append((F.DEVICE_TYPE, "ASYMY"))
    items += [(F.POSITION, number(v, decimals)) for v in jaw_from_delivery(jaw_mm)]
    return items


def state_items(gantry: float, collimator: float, mlc_mm: np.ndarray, jaw_mm: np.ndarray, decimals: int) -> list[Item]:
    """Gantry, collimator and collimation: what every message carries."""
    return [
        (F.BY_NAME["gantry"], number(gantry, decimals)),
        (F.BY_NAME["collimator"], number(collimator, decimals)),
        *collimation_items(mlc_mm, jaw_mm, decimals),
    ]


def idle_message(timestamp: dt.datetime, counter: int, machine: str, gantry: float, collimator: float, mlc_mm: np.ndarray, jaw_mm: np.ndarray, decimals: int = 7) -> bytes:
    """A message sent while no patient is loaded: machine state only."""
    items = [(F.BY_NAME["machine"], check_text(machine, "machine")), *state_items(gantry, collimator, mlc_mm, jaw_mm, decimals)]
    return encode_message(timestamp, counter, items)


def delivery_messages(
    delivery: Delivery,
    *,
    patient_id: str,
    patient_name: str,
    machine: str,
    start: dt.datetime,
    field_id: str = "1",
    energy: str = "6X",
    rate_hz: float = DEFAULT_RATE_HZ,
    first_counter: int = 0,
    decimals: int = 7,
    times_s: Sequence[float] | np.ndarray | None = None,
) -> Iterator[bytes]:
    """Messages of one beam, one per control point, at ``times_s`` (default: 1/rate_hz apart)."""
    if len(delivery) == 0:
        raise ValueError("the delivery has no control points")
    energy_text, radiation = icom_energy(energy)
    beam = [
        (F.BY_NAME["patient_id"], check_text(patient_id, "patient ID")),
        (F.BY_NAME["patient_name"], check_text(icom_name(patient_name), "patient name")),
        (F.BY_NAME["field_id"], check_text(field_id, "field ID")),
        (F.BY_NAME["machine"], check_text(machine, "machine")),
        (F.BY_NAME["radiation_type"], radiation),
        (F.BY_NAME["energy"], energy_text),
        (F.BY_NAME["total_mu"], number(float(delivery.mu[-1]), decimals)),
    ]
    if times_s is None:
        times_s = [i / rate_hz for i in range(len(delivery))]
    for i in range(len(delivery)):
        items = [*beam, (F.BY_NAME["mu"], number(float(delivery.mu[i]), decimals))]
        items += state_items(float(delivery.gantry[i]), float(delivery.collimator[i]), delivery.mlc[i], delivery.jaw[i], decimals)
        yield encode_message(start + dt.timedelta(seconds=float(times_s[i])), first_counter + i, items)


def write_icom_stream(
    delivery: Delivery,
    *,
    patient_id: str,
    patient_name: str,
    machine: str,
    start: dt.datetime,
    field_id: str = "1",
    energy: str = "6X",
    rate_hz: float = DEFAULT_RATE_HZ,
    first_counter: int = 0,
    decimals: int = 7,
) -> bytes:
    """The iCOM stream of one delivered beam (see :func:`delivery_messages`)."""
    return b"".join(
        delivery_messages(
            delivery, patient_id=patient_id, patient_name=patient_name, machine=machine, start=start,
            field_id=field_id, energy=energy, rate_hz=rate_hz, first_counter=first_counter, decimals=decimals,
        )
    )


def write_icom_file(path: str | Path, stream: bytes) -> Path:
    """Save a stream, lzma-compressed where the name ends in ``.xz``; atomic (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lzma.compress(stream, format=lzma.FORMAT_XZ) if path.suffix == ".xz" else stream)
    return path
