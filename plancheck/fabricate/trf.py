"""Write Elekta TRF log files in the layout pymedphys' decoder reads (``pymedphys/_trf/decode``).

No TRF ships with pymedphys, so tests and the demo make their own; this is the
layout as far as pymedphys' decoder pins it down (it was reverse engineered,
not documented by Elekta)::

    header  [n][date "yy/mm/dd HH:MM:SS Z"][n][UTC offset "+02:00"][n][field "label/name"][n][machine]
            [MU float64][version int32][item-part count k int32][k pairs of int16 item codes]
    table   one row per 40 ms: version 1: k int16; versions 2, 3: 8 bytes time stamp + k int16;
            version 4: 8 bytes time stamp + k int32

Each [n] is a byte in front of a text; pymedphys only bounds it (date and offset
< 0x1a, field <= 0x32, machine <= 0x10), the writer puts the text's length
there. Table values are integers: angles, positions and MU in tenths (so a TRF
holds 0.1 deg, 0.1 mm and 0.1 MU), dose rate in MU/min, the raw dose in 1/64
MU modulo 2**16. pymedphys' header pattern lets the machine name run on into
the MU's first byte when that byte is printable ASCII; the writer then nudges
the MU by a few units in its last place (< 1e-11 relative) so it cannot.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping

import numpy as np

from plancheck.config import Machine
from plancheck.delivery.model import Delivery
from plancheck.delivery.timing import beam_timing

TIME_INCREMENT_S = 0.04
LEAF_PAIRS = 80
RADIATION_ON, INTERSEGMENT, TERMINATED_OK = 42, 41, 46  # Linac State codes
WEDGE_OUT = 2

# version -> (bytes of time stamp in front of each row, numpy dtype of the values)
VERSIONS = {1: (0, "<i2"), 2: (8, "<i2"), 3: (8, "<i2"), 4: (8, "<i4")}


@dataclass(frozen=True)
class Column:
    """One table column: its item code pair, pymedphys' name for it, and the factor values are stored with."""

    item: int
    part: int
    name: str
    scale: float = 1.0  # stored = value * scale, value as pymedphys decodes it
    default: float = 0.0


def _columns() -> tuple[Column, ...]:
    head = [
        Column(2240, 111, "Control point/Actual Value (None)"),
        Column(2543, 111, "Linac State/Actual Value (None)", default=RADIATION_ON),
        Column(2542, 111, "Actual Dose Rate/Actual Value (Mu/min)"),
        Column(2238, 111, "Step Dose/Actual Value (Mu)", 10.0),
        Column(2162, 101, "Dose/Raw value (1/64th Mu)", 64.0),
        Column(2200, 111, "PRF Pauses/Actual Value (None)"),
        Column(2541, 111, "Wedge Position/Actual Value (None)", default=WEDGE_OUT),
        Column(2224, 129, "Step Gantry/Scaled Actual (deg)", 10.0),
        Column(2225, 129, "Step Collimator/Scaled Actual (deg)", 10.0),
        Column(2226, 129, "Table Isocentric/Scaled Actual (deg)", 10.0),
        Column(2060, 129, "X1 Diaphragm/Scaled Actual (mm)", 10.0),
        Column(2061, 129, "X2 Diaphragm/Scaled Actual (mm)", 10.0),
    ]
    # pymedphys turns the sign of the Y2 bank as it decodes
    y2 = [Column(2380 + i, 129, f"Y2 Leaf {i + 1}/Scaled Actual (mm)", -10.0) for i in range(LEAF_PAIRS)]
    y1 = [Column(2460 + i, 129, f"Y1 Leaf {i + 1}/Scaled Actual (mm)", 10.0) for i in range(LEAF_PAIRS)]
    return tuple(head + y2 + y1)


COLUMNS = _columns()
MLC_STATUS = Column(2170, 111, "Mlc Status/Actual Value (None)")  # version 4 only, after every positional column


def columns_for(version: int) -> tuple[Column, ...]:
    return COLUMNS + ((MLC_STATUS,) if version == 4 else ())


@dataclass(frozen=True)
class TrfHeader:
    """What the TRF header holds."""

    machine: str
    field_label: str
    field_name: str
    mu: float
    delivered_at_utc: dt.datetime = dt.datetime(2024, 1, 1, 8, 0, 0)
    utc_offset: str = "+00:00"
    version: int = 4


def write_trf(path: str | Path, header: TrfHeader, table: Mapping[str, np.ndarray]) -> Path:
    """Write a TRF; ``table`` maps pymedphys column names to the values pymedphys should decode (mm, deg, MU)."""
    if header.version not in VERSIONS:
        raise ValueError(f"TRF version {header.version} unknown: pymedphys reads versions {sorted(VERSIONS)}")
    columns = columns_for(header.version)
    rows = len(next(iter(table.values())))
    stamp_bytes, dtype = VERSIONS[header.version]
    limit = np.iinfo(np.dtype(dtype)).max
    values = np.zeros((rows, len(columns)), dtype=np.int64)
    for j, column in enumerate(columns):
        given = table.get(column.name, np.full(rows, column.default))
        raw = np.round(np.asarray(given, dtype=float) * column.scale).astype(np.int64)
        if column.name.startswith("Dose/Raw"):  # a counter that wraps at 2**16; 16-bit tables hold it signed
            raw = raw % 65536
            raw = np.where(raw > limit, raw - 65536, raw)
        values[:, j] = raw
    if np.abs(values).max(initial=0) > limit:
        raise ValueError(f"a value does not fit TRF version {header.version}'s {np.dtype(dtype).name} table (MU above 3276.7?)")
    body = np.zeros((rows, stamp_bytes + values.shape[1] * np.dtype(dtype).itemsize), dtype=np.uint8)
    if stamp_bytes:
        stamps = np.round(np.arange(rows) * TIME_INCREMENT_S * 1000).astype("<i8")
        body[:, :stamp_bytes] = stamps.view(np.uint8).reshape(rows, 8)
    body[:, stamp_bytes:] = values.astype(dtype).view(np.uint8).reshape(rows, -1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header_bytes(header, columns) + body.tobytes())
    return path


def header_bytes(header: TrfHeader, columns: tuple[Column, ...]) -> bytes:
    field = f"{header.field_label}/{header.field_name}" if header.field_label else header.field_name
    texts = (
        (header.delivered_at_utc.strftime("%y/%m/%d %H:%M:%S Z"), 0x19),
        (header.utc_offset, 0x19),
        (field, 0x32),
        (header.machine, 0x10),
    )
    if "/" in header.field_label:
        raise ValueError(f"TRF field label {header.field_label!r} must not contain '/' (it separates label and name)")
    out = bytearray()
    for text, longest in texts:
        data = text.encode("ascii", errors="replace")
        if len(data) > longest or any(not 0x20 <= b <= 0x7E for b in data):
            raise ValueError(f"TRF header text {text!r} must be printable ASCII of at most {longest} characters")
        out += bytes([len(data)]) + data
    out += _mu_bytes(header.mu)
    out += struct.pack("<ii", header.version, len(columns))
    out += np.array([(c.item, c.part) for c in columns], dtype="<i2").tobytes()
    return bytes(out)


def _mu_bytes(mu: float) -> bytes:
    """The MU as float64, its first byte kept out of printable ASCII (see the module note)."""
    data = bytearray(struct.pack("<d", float(mu)))
    if 0x20 <= data[0] <= 0x7F:
        data[0] = 0x1F if data[0] - 0x1F <= 0x80 - data[0] else 0x80
    return bytes(data)


# ---- a TRF from a planned delivery ----------------------------------------------
def table_from_delivery(delivery: Delivery, machine: Machine) -> dict[str, np.ndarray]:
    """Sample the delivery every 40 ms along the delivery-time model: what a linac following it would log."""
    if delivery.mlc.shape[1] != LEAF_PAIRS:
        raise ValueError(f"a TRF holds {LEAF_PAIRS} leaf pairs (Agility); this delivery has {delivery.mlc.shape[1]}")
    timing = beam_timing(delivery, machine)
    edges = np.concatenate([[0.0], np.cumsum(timing.duration_s)])
    times = np.arange(0.0, edges[-1], TIME_INCREMENT_S)
    times = np.append(times, edges[-1])  # the last row: beam terminated at the end of the last segment
    segment = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, len(timing.mu) - 1)
    span = np.where(timing.duration_s[segment] > 0, timing.duration_s[segment], 1.0)
    frac = np.clip((times - edges[segment]) / span, 0.0, 1.0)

    def at(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        shape = (-1,) + (1,) * (values.ndim - 1)
        return values[segment] + (values[segment + 1] - values[segment]) * frac.reshape(shape)

    mlc, jaw = at(delivery.mlc), at(delivery.jaw)
    state = np.where(timing.mu[segment] > 0, RADIATION_ON, INTERSEGMENT)
    state[-1] = TERMINATED_OK
    table = {
        "Control point/Actual Value (None)": segment.astype(float),
        "Linac State/Actual Value (None)": state.astype(float),
        "Actual Dose Rate/Actual Value (Mu/min)": np.where(state == RADIATION_ON, timing.dose_rate_mu_min[segment], 0.0),
        "Step Dose/Actual Value (Mu)": at(delivery.mu),
        "Dose/Raw value (1/64th Mu)": at(delivery.mu),
        "Wedge Position/Actual Value (None)": np.full(len(times), float(WEDGE_OUT)),
        "Step Gantry/Scaled Actual (deg)": at(delivery.gantry),
        "Step Collimator/Scaled Actual (deg)": at(delivery.collimator),
        "X1 Diaphragm/Scaled Actual (mm)": jaw[:, 0],
        "X2 Diaphragm/Scaled Actual (mm)": jaw[:, 1],
    }
    for i in range(LEAF_PAIRS):
        table[f"Y1 Leaf {i + 1}/Scaled Actual (mm)"] = mlc[:, i, 0]
        table[f"Y2 Leaf {i + 1}/Scaled Actual (mm)"] = mlc[:, i, 1]
    return table


def trf_from_delivery(
    delivery: Delivery,
    path: str | Path,
    *,
    machine: Machine,
    field_label: str,
    field_name: str = "",
    delivered_at_utc: dt.datetime = dt.datetime(2024, 1, 1, 8, 0, 0),
    utc_offset: str = "+00:00",
    version: int = 4,
) -> Path:
    """Write the TRF a linac following ``delivery`` (timed by the delivery-time model) would log."""
    header = TrfHeader(machine.name, field_label, field_name or field_label, delivery.total_mu, delivered_at_utc, utc_offset, version)
    return write_trf(path, header, table_from_delivery(delivery, machine))


def indexed_trf_path(
    root: str | Path,
    patient_id: str,
    last: str,
    first: str,
    field_label: str,
    field_name: str,
    when_local: dt.datetime,
    machine: str,
    *,
    centre: str = "centre",
    field_id: str = "0",
    field_type: str = "",
) -> Path:
    """Where pymedphys' TRF indexer files a delivery: centre/ID_LAST_FIRST/clinical/FLDID_LABEL_NAME_TYPE/DATE_MACHINE/."""
    field_dir = _clean(f"{field_id}_{field_label}_{field_name}_{field_type}")
    delivery_dir = _clean(f"{when_local:%Y-%m-%d_%H%M%S}_{machine}")
    patient_dir = _clean(f"{patient_id}_{last}_{first}")
    return Path(root) / centre / patient_dir / "clinical" / field_dir / delivery_dir / f"{when_local:%y%m%d%H%M%S}_{_clean(machine)}.trf"


def _clean(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)
