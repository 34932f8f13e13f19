"""The ``icom`` source: what the linac reported delivering, from the listener's archives.

Reads ``<icom_dir>/patients/<ID>_<NAME>/*.xz`` and splits each archive into
delivered beams (:func:`deliveries.split_records`), keyed by the field ID the
stream carries. For a weekly chart check a physicist needs every delivery, so:

* every delivered beam gives ``delivery`` rows (item = archive key): delivered
  MU, time, machine, and ``partial`` where the stream gives the beam's total MU;
* the newest delivery of each field gives the ``beam`` rows (delivered MU, energy,
  gantry start/stop, collimator, machine, beam-on time) and the control points in
  ``Reading.deliveries[field ID]``, so the implicit checks compare what was last
  delivered with the plan;
* warnings name what needs a look: a field delivered more than once on one day
  (a repeat or an interrupted beam), a partial delivery, unreadable archives and
  archives the listener set aside in ``unknown_error_in_record``.

:func:`delivered_beams` gives every delivery with its control points, for
matching each one to its plan beam.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from plancheck.errors import PlancheckError, SourceError
from plancheck.sources import Reading, Request, configured_folder
from plancheck.sources.icom.archive_layout import SET_ASIDE_SUFFIX, UNREADABLE, patient_prefix
from plancheck.delivery.recording import Recording
from plancheck.sources.icom.deliveries import GAP_S, delivered_beam, split_records
from plancheck.sources.icom.reader import read_icom
from plancheck.units import angle_iec, energy, modality
from plancheck.table import Param, iso
import itertools

SOURCE = "icom"
log = logging.getLogger(__name__)


def patient_dirs(root: Path, patient_id: str) -> list[Path]:
    """Folders ``<ID>_<NAME>`` of one patient below ``root`` (a name may have changed: all of them)."""
    if not root.is_dir():
        return []
    prefix = patient_prefix(patient_id)
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix))
    except OSError as exc:
        raise SourceError(f"cannot list the iCOM archive folder ({exc.strerror or exc})", where=str(root), fix="check the folder's permissions") from None


def delivered_beams(icom_dir: Path, patient_id: str, gap_s: float = GAP_S) -> tuple[list[Recording], list[str]]:
    """Every delivered beam archived for the patient, oldest first, and warnings met on the way."""
    beams: list[Recording] = []
    warnings: list[str] = []
    for folder in patient_dirs(icom_dir / "patients", patient_id):
        for path in sorted(folder.glob("*.xz")):
            try:
                found = _beams_in(path, f"{folder.name}/{path.stem}", patient_id, gap_s, warnings)
            except PlancheckError as exc:
                where = "" if str(path) in exc.message else f"{path}: "
                warnings.append(f"{where}{exc.message}; this archive is left out, the others are read")
                continue
            beams.extend(found)
    for folder in patient_dirs(icom_dir / UNREADABLE, patient_id):
        warnings += _unreadable(folder)
    beams.sort(key=lambda b: (b.start, b.key))
    return beams, warnings


def _unreadable(folder: Path) -> list[str]:
    """Warnings for what the listener set aside for this patient: whole deliveries, and pieces of deliveries."""
    files = sorted(folder.glob("*.xz"))
    pieces = [p.name for p in files if SET_ASIDE_SUFFIX in p.stem]
    whole = [p.name for p in files if p.name not in pieces]
    out = []
    if whole:
        out.append(f"{len(whole)} delivery archive(s) the listener could not read are set aside in {folder} ({', '.join(whole)}); see the listener's log")
    if pieces:
        out.append(f"{len(pieces)} delivery(ies) had messages the listener could not read, set aside in {folder} ({', '.join(pieces)}); "
                   "those deliveries are read without them: see the listener's log for their offsets")
    return out


def _beams_in(path: Path, key: str, patient_id: str, gap_s: float, warnings: list[str]) -> list[Recording]:
    reading = read_icom(path, strict=False)
    warnings.extend(f"{issue.message} (skipped)" for issue in reading.issues)
    runs = [run for run in split_records(reading.records, gap_s) if _rises(run)]
    if not runs:
        raise SourceError(f"no delivered beam in this archive ({len(reading.records)} readable message(s), no MU counter rising)", where=str(path),
                          fix="the listener archives only deliveries: was the file emptied or replaced?")
    found = []
    for index, run in enumerate(runs):
        if run[0].patient_id != patient_id:
            warnings.append(f"{path} byte {run[0].offset}: a delivery for patient {run[0].patient_id!r} in this patient's folder; left out")
            continue
        run_key = key if len(runs) == 1 else f"{key}#{index + 1}"
        found.append(delivered_beam(run, key=run_key, path=path, where=str(path)))
    return found


def _rises(run: list[Any]) -> bool:
    mus = [r.mu for r in run if r.mu is not None]
    return any(b > a for a, b in itertools.pairwise(mus))


def read(request: Request) -> Reading | None:
    folder = configured_folder(request.config.icom_dir, "iCOM", "icom", fix=" to the listener's --dir")
    if folder is None:
        return None
    beams, warnings = delivered_beams(folder, request.patient_id)
    reading = Reading(warnings=warnings, recordings=list(beams))
    if not beams:
        return reading
    newest = beams[-1]
    where = _where(newest)
    reading.rows += [
        Param("patient", "", "patient_id", newest.patient_id, "", SOURCE, where),
        Param("patient", "", "patient_name", dicom_name(newest.patient_name), "", SOURCE, where),
    ]
    by_field: dict[str, list[Recording]] = defaultdict(list)
    for beam in beams:
        by_field[beam.field_id].append(beam)
        reading.rows += _delivery_rows(beam)
        if beam.partial:
            reading.warnings.append(f"beam {beam.field_id} on {beam.start:%Y-%m-%d %H:%M}: delivered {beam.delivered_mu:g} of {beam.total_mu:g} MU (partial) [{beam.key}]")
    for label, delivered in by_field.items():
        last = delivered[-1]
        reading.rows += _beam_rows(label, last, reading.warnings)
        reading.deliveries[label] = last.delivery
        reading.warnings += _repeats(label, delivered)
    return reading


def _where(beam: Recording) -> str:
    return f"{beam.path} byte {beam.offset}" if beam.path else beam.key


def dicom_name(name: str) -> str:
    """'DOE, JOHN' (iCOM) to 'DOE^JOHN', upper case."""
    parts = [p.strip() for p in name.replace("^", ",").split(",") if p.strip()]
    return "^".join(parts[:2]).upper()


def _delivery_rows(beam: Recording) -> list[Param]:
    where = _where(beam)

    def p(param: str, value: Any, unit: str = "") -> Param:
        return Param("delivery", beam.field_id, param, value, unit, SOURCE, where, item=beam.key)

    rows = [
        p("delivered_mu", round(beam.delivered_mu, 4), "MU"),
        p("delivered_at", iso(beam.start)),
        p("delivery_machine", beam.machine.upper()),
    ]
    if beam.partial is not None:
        rows.append(p("partial", beam.partial))
    return rows


def _beam_rows(label: str, beam: Recording, warnings: list[str]) -> list[Param]:
    where = _where(beam)
    d = beam.delivery

    def p(param: str, value: Any, unit: str = "") -> Param:
        return Param("beam", label, param, value, unit, SOURCE, where)

    rows = [
        p("mu", round(beam.delivered_mu, 4), "MU"),
        p("machine", beam.machine.upper()),
        p("beam_on_time_s", beam.beam_on_time_s, "s"),
    ]
    if len(d):
        rows += [
            p("gantry_start", angle_iec(d.gantry[0]), "deg"),
            p("gantry_stop", angle_iec(d.gantry[-1]), "deg"),
            p("collimator", angle_iec(d.collimator[0]), "deg"),
        ]
    if beam.energy:
        try:
            kind = modality(beam.radiation_type) if beam.radiation_type else None
            rows.append(p("energy", energy(beam.energy, kind)))
        except ValueError as exc:
            warnings.append(f"{where}: beam {label}: {exc}; no energy row")
    return rows


def _repeats(label: str, delivered: list[Recording]) -> list[str]:
    days: dict[str, list[Recording]] = defaultdict(list)
    for beam in delivered:
        days[f"{beam.start:%Y-%m-%d}"].append(beam)
    return [
        f"beam {label} delivered {len(same)} times on {day} ({', '.join(f'{b.start:%H:%M:%S} {b.delivered_mu:g} MU' for b in same)}): "
        "a repeat or an interrupted beam? the beam rows describe the newest"
        for day, same in days.items()
        if len(same) > 1
    ]
