"""Elekta TRF log files, decoded by pymedphys (``pymedphys.trf.read``), as collected-table rows.

A TRF records one delivered beam every 40 ms. Its header names the machine,
the field (``label/name``; the label is MOSAIQ's field label, which is the RT
Plan's BeamName) and when it was delivered; the table holds MU, gantry,
collimator, diaphragms and leaves. The header does not name the patient, so
plancheck finds a patient's TRF files where pymedphys' indexer files them:
``<trf folder>/<centre>/<PATIENTID>_<LAST>_<FIRST>/clinical/...``. The table
carries no nominal energy (only a calibration block number), so no energy row
is emitted.

Before pymedphys decodes a file, its structure is checked here (header length,
version, whole rows) so a truncated or foreign file is a SourceError naming the
byte offset, never a numpy error.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Reading, Request, configured_folder
from plancheck.units import angle_iec
from plancheck.table import Param, validate_row

SOURCE = "trf"
TIME_INCREMENT_S = 0.04
# version -> (bytes of time stamp in front of each row, bytes per value), as pymedphys' decoder reads them
ROW_LAYOUT = {1: (0, 2), 2: (8, 2), 3: (8, 2), 4: (8, 4)}
STATE = "Linac State/Actual Value (None)"
GANTRY = "Step Gantry/Scaled Actual (deg)"
COLLIMATOR = "Step Collimator/Scaled Actual (deg)"
log = logging.getLogger(__name__)


@dataclass
class TrfLog:
    """One decoded TRF: pymedphys' header fields and table."""

    path: Path
    header: dict[str, Any]
    table: Any  # pandas.DataFrame, index = seconds from the start
    _delivery: Delivery | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return str(self.header["field_label"]).strip() or str(self.header["field_name"]).strip()

    @property
    def machine(self) -> str:
        return str(self.header["machine"]).strip().upper()

    @property
    def delivered_at(self) -> str:
        """Local date and time of the delivery, ISO 8601 (header time is UTC plus the header's offset)."""
        utc = dt.datetime.strptime(str(self.header["date"]), "%y/%m/%d %H:%M:%S Z")
        offset = str(self.header["timezone"])
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = (int(x) for x in offset.lstrip("+-").split(":"))
        return (utc + sign * dt.timedelta(hours=hours, minutes=minutes)).isoformat()

    @property
    def beam_on(self) -> np.ndarray:
        return (self.table[STATE] == "Radiation On").to_numpy()

    @property
    def beam_on_time_s(self) -> float:
        """Rows logged with radiation on, 40 ms each."""
        return round(float(self.beam_on.sum()) * TIME_INCREMENT_S, 2)

    def delivery(self) -> Delivery:
        """pymedphys' delivery of the table (made once: pymedphys takes about a second for a VMAT arc)."""
        import pymedphys

        if self._delivery is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._delivery = Delivery.from_pymedphys(pymedphys.Delivery._from_pandas(self.table))  # as from_trf, without re-reading
        return self._delivery


def check_structure(contents: bytes, where: str) -> None:
    """Raise SourceError (with the byte offset) unless the bytes are a whole TRF pymedphys can decode."""
    from pymedphys._trf.decode.header import decode_header, determine_header_length

    try:
        header_length = determine_header_length(contents)
        header = decode_header(contents[:header_length])
    except (ValueError, IndexError):
        header = None
    if header is None or header.item_parts_length != 2 * header.item_parts_number:
        raise SourceError(
            f"no complete TRF header at offset 0 (file of {len(contents)} bytes; expected date, UTC offset, field, machine, MU, version and item codes)",
            where=where,
            fix="is this an Elekta TRF log file, copied whole?",
        )
    count, version = header.item_parts_number, header.version
    if version not in ROW_LAYOUT:
        raise SourceError(f"unknown TRF version {version} at offset {header_length - 4 * count - 8}", where=where, fix=f"pymedphys reads versions {sorted(ROW_LAYOUT)}")
    stamp, width = ROW_LAYOUT[version]
    row = stamp + width * count
    table = len(contents) - header_length
    if table == 0:
        raise SourceError(f"no table rows after the header (offset {header_length})", where=where, fix="the TRF is truncated: copy it from the linac again")
    if table % row:
        whole = table // row
        raise SourceError(
            f"truncated at offset {len(contents)}: row {whole + 1} starts at offset {header_length + whole * row} and has {table % row} of its {row} bytes",
            where=where,
            fix="the TRF is truncated: copy it from the linac again",
        )


def read_trf(path: str | Path) -> TrfLog:
    """Decode a TRF with pymedphys after checking its structure; SourceError names file and offset."""
    import pymedphys

    path = Path(path)
    try:
        contents = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read TRF ({exc.strerror or exc})", where=str(path)) from None
    check_structure(contents, str(path))
    try:
        header, table = pymedphys.trf.read(path)
    except (ValueError, KeyError, IndexError) as exc:
        raise SourceError(f"pymedphys cannot decode the TRF table ({exc.__class__.__name__}: {str(exc)[:120]})", where=str(path),
                fix="an item code or state this decoder does not know; report it with the file") from None
    fields = ("machine", "date", "timezone", "field_label", "field_name", "mu", "version")
    return TrfLog(path, {k: header[k].iloc[0] for k in fields}, table)


def delivery_from_trf(path: str | Path) -> Delivery:
    """The delivery a TRF logged, one control point per 40 ms row (pymedphys' ``Delivery.from_trf``)."""
    return read_trf(path).delivery()


# ---- rows ------------------------------------------------------------------------
def trf_rows(trf: TrfLog) -> tuple[list[Param], list[Param]]:
    """(beam rows, delivery rows) of one TRF."""
    where = str(trf.path)
    label = trf.label
    on = trf.beam_on if trf.beam_on.any() else np.ones(len(trf.table), dtype=bool)
    gantry = trf.table[GANTRY].to_numpy(dtype=float)[on]
    collimator = trf.table[COLLIMATOR].to_numpy(dtype=float)[on]
    mu = round(trf.delivery().total_mu, 2)
    first, last = f"{where} t={trf.table.index[on][0]:.2f}s", f"{where} t={trf.table.index[on][-1]:.2f}s"
    delta = gantry[-1] - gantry[0]

    def p(param: str, value: Any, unit: str = "", at: str = where) -> Param:
        return Param("beam", label, param, value, unit, SOURCE, at)

    beam = [
        p("machine", trf.machine, at=where + " header"),
        p("mu", mu, "MU"),
        p("gantry_start", angle_iec(gantry[0]), "deg", first),
        p("gantry_stop", angle_iec(gantry[-1]), "deg", last),
        p("gantry_direction", "NONE" if abs(delta) < 0.05 else ("CW" if delta > 0 else "CC")),
        p("collimator", angle_iec(collimator[0]), "deg", first),
        p("beam_on_time_s", trf.beam_on_time_s, "s"),
    ]
    item = f"{label} {trf.delivered_at}"
    delivery = [
        Param("delivery", label, "delivered_mu", mu, "MU", SOURCE, where, item),
        Param("delivery", label, "delivered_at", trf.delivered_at, "", SOURCE, where + " header", item),
        Param("delivery", label, "delivery_machine", trf.machine, "", SOURCE, where + " header", item),
    ]
    return beam, delivery


# ---- the source ---------------------------------------------------------------------
def find_trf_files(root: Path, patient_id: str) -> list[Path]:
    """The patient's clinical TRF files, filed as pymedphys' indexer does (``[indexed/]<centre>/<ID>_<LAST>_<FIRST>/clinical/...``); QA deliveries are left out."""
    found: dict[Path, None] = {}
    for depth in range(3):
        for folder in sorted(root.glob("*/" * depth + f"{glob.escape(patient_id)}_*")):
            if folder.is_dir() and (folder / "clinical").is_dir():
                for path in sorted((folder / "clinical").rglob("*.trf")):
                    found.setdefault(path, None)
    return list(found)


def read(request: Request) -> Reading | None:
    """Beam rows from the newest TRF of each beam; a delivery row for every TRF."""
    root = configured_folder(request.config.trf_dir, "TRF", "trf")
    if root is None:
        return None
    reading = Reading()
    paths = find_trf_files(root, request.patient_id)
    if not paths:
        reading.warnings.append(f"no TRF files for patient {request.patient_id} below {root}")
        return reading
    newest: dict[str, tuple[str, list[Param], Delivery]] = {}
    for path in paths:
        try:
            trf, beam_rows, delivery_rows, delivery = read_log(path)
        except SourceError as exc:
            reading.warnings.append(exc.message)
            continue
        reading.rows += delivery_rows
        if trf.label not in newest or trf.delivered_at > newest[trf.label][0]:
            newest[trf.label] = (trf.delivered_at, beam_rows, delivery)
    for label, (_, beam_rows, delivery) in newest.items():
        reading.rows += beam_rows
        reading.deliveries[label] = delivery
    if not newest and reading.warnings:
        more = f" ({len(reading.warnings) - 1} more)" if len(reading.warnings) > 1 else ""
        raise SourceError(f"none of the patient's {len(paths)} TRF files can be read: {reading.warnings[0]}{more}")
    return reading


def read_log(path: Path) -> tuple[TrfLog, list[Param], list[Param], Delivery]:
    """One TRF as (log, beam rows, delivery rows, delivery), every row checked: a SourceError names the file and
    what is wrong, so one bad file never loses the others."""
    trf = read_trf(path)
    try:
        if not trf.label:
            raise SourceError("the header names no field (label and name are empty)", where=f"{path} header")
        beam_rows, delivery_rows = trf_rows(trf)
        for row in beam_rows + delivery_rows:
            validate_row(row)
        delivery = trf.delivery()
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        what = f"no column {exc}" if isinstance(exc, KeyError) else f"{exc.__class__.__name__}: {str(exc)[:160]}"
        raise SourceError(f"decoded, but its values cannot be read ({what})", where=str(path),
                          fix="a header item or table column this reader does not know; report it with the file") from None
    return trf, beam_rows, delivery_rows, delivery
