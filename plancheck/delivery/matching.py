"""Match recorded deliveries (iCOM, TRF) to plan beams and to MOSAIQ treatment records.

A recording is matched to a plan beam by patient ID, then field ID or beam
description, then checked by MU and control-point shape (gantry start and stop);
to a treatment record by beam, machine and a time window. Nothing is guessed:
an unmatched or ambiguous recording is listed with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plancheck.delivery.model import Delivery
from plancheck.delivery.recording import Recording

if TYPE_CHECKING:
    from plancheck.table import ParamTable


@dataclass(frozen=True)
class PlanBeam:
    label: str
    name: str
    delivery: Delivery


@dataclass(frozen=True)
class TreatmentRecord:
    item: str  # e.g. "DHS 1234"
    beam: str
    machine: str
    delivered_at: dt.datetime


@dataclass
class Match:
    recording: Recording
    status: str  # matched | unmatched | ambiguous
    beam: str = ""
    record: str = ""
    reasons: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return "".join(str(text).split()).upper()


def _shape_agrees(rec: Delivery, plan: Delivery, mu_tol_percent: float, gantry_tol_deg: float) -> list[str]:
    """Why the recorded shape differs from the plan's (empty when it agrees)."""
    problems = []
    if plan.total_mu > 0 and abs(rec.total_mu - plan.total_mu) > plan.total_mu * mu_tol_percent / 100.0:
        problems.append(f"MU {rec.total_mu:.1f} vs planned {plan.total_mu:.1f}")
    for name, a, b in (("start", rec.gantry[0], plan.gantry[0]), ("stop", rec.gantry[-1], plan.gantry[-1])):
        d = abs((float(a) - float(b) + 180.0) % 360.0 - 180.0)
        if d > gantry_tol_deg:
            problems.append(f"gantry {name} {float(a):.1f} vs planned {float(b):.1f}")
    return problems


def match_beam(rec: Recording, patient_id: str, beams: list[PlanBeam], mu_tol_percent: float = 2.0, gantry_tol_deg: float = 2.0) -> Match:
    if _norm(rec.patient_id) != _norm(patient_id):
        return Match(rec, "unmatched", reasons=[f"patient ID {rec.patient_id!r} in the recording, not {patient_id!r}"])
    by_id = [b for b in beams if _norm(rec.field_id) in (_norm(b.label), _norm(b.name))]
    if len(by_id) > 1:
        return Match(rec, "ambiguous", reasons=[f"field ID {rec.field_id!r} names beams {', '.join(b.label for b in by_id)}"])
    if len(by_id) == 1:
        beam = by_id[0]
        notes = _shape_agrees(rec.delivery, beam.delivery, mu_tol_percent, gantry_tol_deg)
        return Match(rec, "matched", beam.label, reasons=[f"by field ID; {'; '.join(notes)}" if notes else "by field ID"])
    by_shape = [b for b in beams if not _shape_agrees(rec.delivery, b.delivery, mu_tol_percent, gantry_tol_deg)]
    if len(by_shape) == 1:
        return Match(rec, "matched", by_shape[0].label, reasons=[f"field ID {rec.field_id!r} unknown; matched by MU and gantry"])
    if not by_shape:
        return Match(rec, "unmatched", reasons=[f"field ID {rec.field_id!r} is no plan beam and no beam has its MU and gantry range"])
    return Match(rec, "ambiguous", reasons=[f"field ID {rec.field_id!r} unknown; MU and gantry fit {', '.join(b.label for b in by_shape)}"])


def match_record(match: Match, records: list[TreatmentRecord], window: dt.timedelta) -> None:
    """Attach the MOSAIQ treatment record of the same beam and machine within the time window."""
    if match.status != "matched":
        return
    rec = match.recording
    near = [
        r for r in records
        if r.beam == match.beam and (not r.machine or not rec.machine or _norm(r.machine) == _norm(rec.machine))
        and rec.start - window <= r.delivered_at <= rec.end + window
    ]
    if len(near) == 1:
        match.record = near[0].item
    elif not near:
        match.reasons.append(f"no MOSAIQ treatment record for beam {match.beam} on {rec.machine or 'any machine'} within {window} of {rec.start:%Y-%m-%d %H:%M}")
    else:
        match.reasons.append(f"several MOSAIQ records fit ({', '.join(r.item for r in near)}); none chosen")


def treatment_records(table: ParamTable) -> list[TreatmentRecord]:
    """MOSAIQ's delivered-beam records in the collected table, for matching by machine and time."""
    out = []
    for item in table.items("delivery", "mosaiq"):
        rows = table.select(scope="delivery", item=item, source="mosaiq")
        values = {r.param: r.value for r in rows}
        if values.get("delivered_at"):
            out.append(TreatmentRecord(item, rows[0].beam, str(values.get("delivery_machine") or ""), dt.datetime.fromisoformat(str(values["delivered_at"]))))
    return out


def match_in_table(table: ParamTable, patient_id: str, reference: str, evaluation: str, since: dt.datetime | None = None) -> list[Match]:
    """Every recording of ``evaluation`` (since ``since``) matched to the ``reference`` plan beams and MOSAIQ records."""
    refs = table.deliveries_of(reference)
    beams = [PlanBeam(b, str(table.value("beam_name", source=reference, beam=b, scope="beam") or b), d) for b, d in refs.items()]
    recordings = [rec for src, rec in table.recordings if src == evaluation and (since is None or rec.start >= since)]
    return match_deliveries(recordings, patient_id, beams, treatment_records(table))


def match_deliveries(
    recordings: list[Recording],
    patient_id: str,
    beams: list[PlanBeam],
    records: list[TreatmentRecord] = (),  # type: ignore[assignment]
    *,
    mu_tol_percent: float = 2.0,
    gantry_tol_deg: float = 2.0,
    window: dt.timedelta = dt.timedelta(minutes=30),
) -> list[Match]:
    """Every recording with its plan beam and treatment record, or the reason there is none."""
    matches = []
    for rec in sorted(recordings, key=lambda r: r.start):
        m = match_beam(rec, patient_id, beams, mu_tol_percent, gantry_tol_deg)
        match_record(m, list(records), window)
        matches.append(m)
    return matches

