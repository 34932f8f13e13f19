"""The Monaco source: a patient's tel.1 from FocalData, as collected-table rows and deliveries.

Beam labels. A tel.1 written by plancheck names its beams (``# beam: 1-1``),
with the RT Plan's BeamName, which Monaco calls the Field ID and MOSAIQ the field
label. A tel.1 straight from Monaco does not name them in any published line:
its beams are found by MU and numbered 1, 2, ...; where an RT Plan (``*.dcm``)
sits in the plan folder and has as many beams with control points, each with
the same number of control points, the beams take that plan's BeamNames, in
order. Otherwise they keep their numbers and a warning says so.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Reading, Request, configured_folder
from plancheck.sources.monaco.focaldata import MonacoPlan, find_plans, patient_id_of, patient_name
from plancheck.sources.monaco.telfile import TelBeam, TelFile, read_tel
from plancheck.units import angle_iec, energy
from plancheck.table import Param, SchemaError, validate_row

SOURCE = "monaco_tel"
log = logging.getLogger(__name__)


def read(request: Request) -> Reading | None:
    """Rows and deliveries of the requested (or newest) Monaco plan of the patient."""
    root = configured_folder(request.config.monaco_dir, "Monaco FocalData", "monaco")
    if root is None:
        return None
    reading = Reading()
    plans = find_plans(root, request.patient_id)
    if not plans:
        reading.warnings.append(f"no Monaco plan with a tel.1 for patient {request.patient_id} below {root}")
        return reading
    plan = _choose(plans, request.plan, reading)
    if plan is None:
        return reading
    reading.rows += _patient_rows(plan)
    for tel_path in plan.tel_paths:
        tel = read_tel(tel_path)
        reading.warnings += tel.warnings
        labels = _labels(tel, plan.folder, reading.warnings)
        for beam in tel.beams:
            label = labels[beam.label]
            if label in reading.deliveries:
                reading.warnings.append(f"{tel_path}: beam {label} also in an earlier tel.1 of the plan; kept both rows")
            try:
                rows = beam_rows(beam, label, str(tel_path))
                for row in rows:
                    validate_row(row)
            except (SourceError, SchemaError) as exc:
                reading.warnings.append(f"beam {label} left out: {exc}")
                continue
            reading.rows += rows
            reading.deliveries[label] = beam.delivery()
        if _beams_reliable(tel):
            reading.rows.append(Param("prescription", "", "beam_count", len(tel.beams), "", SOURCE, str(tel_path)))
    return reading


def _choose(plans: list[MonacoPlan], wanted: str | None, reading: Reading) -> MonacoPlan | None:
    if not wanted:
        return plans[0]
    chosen = [p for p in plans if p.name == wanted] or [p for p in plans if p.name.casefold() == wanted.casefold()]
    if not chosen:
        names = ", ".join(p.name for p in plans)
        reading.warnings.append(f"no Monaco plan named {wanted!r} for this patient (found: {names})")
        return None
    return chosen[0]


def _patient_rows(plan: MonacoPlan) -> list[Param]:
    where = str(plan.patient_dir)
    rows = [
        Param("patient", "", "patient_id", patient_id_of(plan.patient_dir), "", SOURCE, where),
        Param("prescription", "", "plan_label", plan.name, "", SOURCE, str(plan.folder)),
    ]
    name = patient_name(plan.patient_dir)
    if name:
        rows.append(Param("patient", "", "patient_name", name, "", SOURCE, where + f"/demographic.{patient_id_of(plan.patient_dir)} line 3"))
    return rows


def _beams_reliable(tel: TelFile) -> bool:
    return tel.annotated or not any(any(b.static) for b in tel.beams)


# ---- beam labels ------------------------------------------------------------
def _labels(tel: TelFile, folder: Path, warnings: list[str]) -> dict[str, str]:
    own = {b.label: b.label for b in tel.beams}
    if tel.annotated:
        return own
    for dcm in sorted(folder.glob("*.dcm")) + sorted(folder.glob("*.DCM")):
        names = _rtplan_beams(dcm)
        if names and [cps for _, cps in names] == [b.control_points for b in tel.beams]:
            return {b.label: n for b, (n, _) in zip(tel.beams, names, strict=False)}
    warnings.append(f"{tel.path}: beams are not named in the tel.1 and no matching RT Plan is in {folder}; labelled 1..{len(tel.beams)} in file order")
    return own


def _rtplan_beams(path: Path) -> list[tuple[str, int]] | None:
    """(BeamName, control points) of the RT Plan's beams with control points, or None if unreadable."""
    from plancheck.sources.rtplan import load, rows_from_dataset

    try:
        _, deliveries, _ = rows_from_dataset(load(path), str(path))
    except (SourceError, AttributeError, KeyError, ValueError, IndexError) as exc:
        log.info("ignoring %s for beam names: %s", path, exc)
        return None
    return [(label, len(d)) for label, d in deliveries.items()]


# ---- rows ---------------------------------------------------------------------
def beam_rows(beam: TelBeam, label: str, tel_path: str) -> list[Param]:
    """The vocabulary rows of one tel.1 beam; provenance names the file and the control point's line.

    SourceError (naming the line) where an annotation cannot be read."""
    d = beam.delivery()
    where, first, last = f"{tel_path} line {beam.line}", f"{tel_path} line {beam.lines[0]}", f"{tel_path} line {beam.lines[-1]}"

    def p(param: str, value: Any, unit: str = "", at: str = where) -> Param:
        return Param("beam", label, param, value, unit, SOURCE, at)

    rows = [
        p("mu", round(d.total_mu, 4), "MU"),
        p("control_points", beam.control_points),
        p("gantry_start", angle_iec(d.gantry[0]), "deg", first),
        p("gantry_stop", angle_iec(d.gantry[-1]), "deg", last),
        p("gantry_direction", direction(d)),
        p("collimator", angle_iec(d.collimator[0]), "deg", first),
        p("beam_type", beam_type(beam, d)),
        p("jaw_y1_mm", round(-float(d.jaw[0, 1]), 2), "mm", first),
        p("jaw_y2_mm", round(float(d.jaw[0, 0]), 2), "mm", first),
    ]
    info = beam.info
    if info.get("description"):
        rows.append(p("beam_name", info["description"]))
    if info.get("machine"):
        rows.append(p("machine", info["machine"].strip().upper()))
    if info.get("energy"):
        try:
            value = energy(info["energy"])
        except ValueError:
            raise SourceError(f"energy {info['energy'][:40]!r} cannot be read", where=where, fix="write it as 6X, 10FFF or 9E") from None
        rows += [p("energy", value), p("modality", "electron" if value.endswith("E") else "photon")]
    return rows


def direction(d: Delivery) -> str:
    """CW where the (bipolar) gantry angle grows from first to last control point, CC where it falls."""
    delta = float(d.gantry[-1] - d.gantry[0])
    return "NONE" if abs(delta) < 1e-9 else ("CW" if delta > 0 else "CC")


def beam_type(beam: TelBeam, d: Delivery) -> str:
    """STATIC / STEPNSHOOT for static segments; VMAT (gantry turns) or DMLC (gantry still) for dynamic ones."""
    if all(beam.static):
        return "STATIC" if len(beam.static) == 1 else "STEPNSHOOT"
    rotates = len({round(float(g), 2) for g in d.gantry}) > 1
    return "VMAT" if rotates else "DMLC"
