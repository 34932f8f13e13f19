"""The Monaco source: a patient's tel.1 from FocalData, as collected-table rows and deliveries.

Beam labels. A tel.1 names none of its beams (docs/monaco.md), so each is matched
to a plan beam by what it holds (``matching``): first to an RT Plan (``*.dcm``) in
the plan folder, then to the RT Plan and MOSAIQ beams the collector read before
this source. A matched beam takes the plan's label (the RT Plan's BeamName, which
Monaco calls the Field ID and MOSAIQ the field label); the reason is in every row's
provenance. An ambiguous or unmatched beam keeps a label no plan uses
(``tel.1 beam 2``) and a warning names it and why: nothing is guessed. The rows hold
only what the tel.1 holds (MU, control points, gantry, collimator, jaws).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.registry import BY_NAME, TIMED_SOURCES
from plancheck.sources import Reading, Request, configured_folder
from plancheck.sources.monaco.focaldata import MonacoPlan, find_plans, patient_id_of, patient_name
from plancheck.sources.monaco.matching import BeamMatch, PlanBeams, match_beams
from plancheck.sources.monaco.telfile import TelBeam, read_tel
from plancheck.table import Param, ParamTable, SchemaError, validate_row
from plancheck.units import angle_iec

SOURCE = "monaco_tel"
# plan sources with control points that the collector reads before this one, most trusted first (rtplan, mosaiq)
COLLECTED_REFERENCES = tuple(s for s in TIMED_SOURCES if BY_NAME[s].priority < BY_NAME[SOURCE].priority)
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
    references = plan_references(plan.folder, request.collected)
    for tel_path in plan.tel_paths:
        tel = read_tel(tel_path)
        reading.warnings += tel.warnings
        matches = match_beams(tel, references)
        for match in matches:
            _take_beam(reading, match, str(tel_path))
        if all(m.matched for m in matches) or not tel.has_static:
            reading.rows.append(Param("prescription", "", "beam_count", len(matches), "", SOURCE, str(tel_path)))
    return reading


def _take_beam(reading: Reading, match: BeamMatch, tel_path: str) -> None:
    label = match.label
    if not match.matched:
        reading.warnings.append(f"{tel_path} line {match.beam.line}: {label} {match.reason}; its rows are compared with no plan beam")
    if label in reading.deliveries:
        reading.warnings.append(f"{tel_path}: beam {label} also in an earlier tel.1 of the plan; kept both rows")
    try:
        rows = beam_rows(match.beam, label, tel_path, match.reason)
        for row in rows:
            validate_row(row)
    except (SourceError, SchemaError) as exc:
        reading.warnings.append(f"beam {label} left out: {exc}")
        return
    reading.rows += rows
    reading.deliveries[label] = match.beam.delivery()


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


# ---- the plans to match beams to -----------------------------------------------
def plan_references(folder: Path, collected: ParamTable | None) -> list[PlanBeams]:
    """RT Plans in the plan folder, then the RT Plan and MOSAIQ beams already collected, in that order."""
    plans = []
    for dcm in sorted({*folder.glob("*.dcm"), *folder.glob("*.DCM")}):
        beams = _rtplan_beams(dcm)
        if beams:
            plans.append(PlanBeams(f"RT Plan {dcm.name} in the plan folder", beams))
    for source in COLLECTED_REFERENCES:
        beams = collected.deliveries_of(source) if collected is not None else {}
        if beams:
            plans.append(PlanBeams(source, beams))
    return plans


def _rtplan_beams(path: Path) -> dict[str, Delivery] | None:
    """The RT Plan's beams with control points, or None if unreadable."""
    from plancheck.sources.rtplan import load, rows_from_dataset

    try:
        _, deliveries, _ = rows_from_dataset(load(path), str(path))
    except (SourceError, AttributeError, KeyError, ValueError, IndexError) as exc:
        log.info("ignoring %s for beam matching: %s", path, exc)
        return None
    return deliveries


# ---- rows ---------------------------------------------------------------------
def beam_rows(beam: TelBeam, label: str, tel_path: str, reason: str = "") -> list[Param]:
    """The vocabulary rows of one tel.1 beam; provenance names the file, the control point's line and the match reason."""
    d = beam.delivery()
    why = f"; {reason}" if reason else ""
    where, first, last = (f"{tel_path} line {n}{why}" for n in (beam.line, beam.lines[0], beam.lines[-1]))

    def p(param: str, value: Any, unit: str = "", at: str = where) -> Param:
        return Param("beam", label, param, value, unit, SOURCE, at)

    return [
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
