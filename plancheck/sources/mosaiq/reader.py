"""The MOSAIQ source: patient, prescription, fields, control points, treatment history, QCL tasks.

Reads whatever this MOSAIQ has (:mod:`discovery`): an absent table or column disables only
what needs it, and the run says so once, by name. A row that cannot be read is named and
left out; the other rows are read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from plancheck.errors import PatientNotFound, SourceError
from plancheck.sources import Reading, Request
from plancheck.sources.mosaiq import jaws, queries
from plancheck.sources.mosaiq.connect import Mosaiq, Query, open_mosaiq
from plancheck.sources.mosaiq.fields import Field, field_rows, p
from plancheck.sources.mosaiq.history import history_rows, schedule_rows, task_rows
from plancheck.sources.mosaiq.meanings import CHECKED_MODALITIES, SITE_APPROVED, SITE_STATUS, SITE_VOID, prescribed
from plancheck.sources.mosaiq.settings import MosaiqSettings
from plancheck.units import energy, person_name, text
from plancheck.table import Param, iso

SOURCE = "mosaiq"


def read(request: Request) -> Reading | None:
    url = request.config.mosaiq_url
    if not url:
        return None
    db = open_mosaiq(url, request.config.mosaiq_timeout_s)
    return read_patient(db, request.patient_id, request.plan, request.config.mosaiq)


class _Session:
    """One patient's read: the connection, what the schema has, and the warnings met."""

    def __init__(self, db: Mosaiq, reading: Reading) -> None:
        self.db, self.d, self.reading = db, db.schema, reading

    def rows(self, query: Query) -> list[dict[str, Any]]:
        rows, problems = self.db.read(query)
        self.reading.warnings += problems
        return rows


def read_patient(db: Mosaiq, patient_id: str, plan: str | None, settings: MosaiqSettings | None = None) -> Reading:
    settings = settings or MosaiqSettings()
    reading = Reading()
    s = _Session(db, reading)
    if s.d.fatal:
        raise SourceError("; ".join(a.message for a in s.d.fatal), where=db.where, fix="run `plancheck mosaiq doctor` with your IT")
    reading.warnings += s.d.warnings
    ident = s.rows(queries.ident(s.d, patient_id))
    if not ident:
        raise PatientNotFound(f"no patient with ID {patient_id!r} in MOSAIQ ({db.where})")
    pat = ident[0]["Pat_Id1"]
    reading.rows.append(p("patient", "", "patient_id", patient_id, "", f"Ident Pat_Id1={pat}"))
    if s.d.has("Patient"):
        reading.rows += _patient_rows(s.rows(queries.patient(s.d, pat)), pat)
    site = _choose_site(s.rows(queries.sites(s.d, pat)), plan, patient_id, reading.warnings)
    reading.rows += _site_rows(site)
    fields = _read_fields(s, pat, site["SIT_SET_ID"], settings)
    for f in fields:
        reading.rows += field_rows(f, reading)
    treatment = [f for f in fields if f.treatment]
    reading.rows.append(p("prescription", "", "beam_count", len(treatment), "", f"TxField SIT_Set_ID={site['SIT_SET_ID']}"))
    _name_unchecked_modalities(treatment, reading)
    _read_history(s, pat, site["SIT_SET_ID"], {f.row["FLD_ID"]: f.label for f in fields}, settings)
    return reading


def _read_fields(s: _Session, pat: int, sit_set_id: int, settings: MosaiqSettings) -> list[Field]:
    rows = [r for r in s.rows(queries.fields(s.d, pat, sit_set_id)) if not r.get("IsHidden")]  # hidden: not part of the plan
    points: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows and s.d.has("TxFieldPoint"):
        for pt in s.rows(queries.field_points(s.d, [r["FLD_ID"] for r in rows])):
            points[pt["FLD_ID"]].append(pt)
    conventions: dict[Any, jaws.JawConvention] = {}
    fields = []
    for r in rows:
        machine = r.get("Machine_ID_Staff_ID")
        if machine not in conventions:
            name = text(r.get("Machine_Last_Name")).upper()
            conventions[machine] = jaws.find(s.db, machine, name, settings)
            if conventions[machine].doubt and points.get(r["FLD_ID"]):
                s.reading.warnings.append(f"machine {name or machine}: {conventions[machine].doubt}")
        fields.append(Field(r, points.get(r["FLD_ID"], []), conventions[machine]))
    return fields


def _name_unchecked_modalities(treatment: list[Field], reading: Reading) -> None:
    unchecked: dict[str, list[str]] = defaultdict(list)
    for f in treatment:
        unchecked[f.modality or "of unknown modality"].append(f.label)
    for modality, labels in unchecked.items():
        if modality not in CHECKED_MODALITIES:
            reading.warnings.append(
                f"field(s) {', '.join(labels)} are {modality} (TxField Modality_Enum): plancheck has no rule set for {modality} fields; "
                "their modality-specific checks are not run"
            )


def _read_history(s: _Session, pat: int, sit_set_id: int, labels: dict[int, str], settings: MosaiqSettings) -> None:
    d, reading = s.d, s.reading
    machines: dict[int, str] = {}
    if d.has("TrackTreatment") and d.has("TrackTreatment", "DHS_ID"):
        machines = {t["DHS_ID"]: text(t.get("Machine_Last_Name")).upper() for t in s.rows(queries.treatments(d, pat)) if t.get("DHS_ID") is not None}
    if d.has("Dose_Hst"):
        reading.rows += history_rows(s.rows(queries.dose_history(d, pat, sit_set_id)), labels, machines, sit_set_id, d)
    if d.has("Chklist"):
        reading.rows += task_rows(s.rows(queries.tasks(d, pat)), settings)
    if d.has("Schedule"):
        reading.rows += schedule_rows(s.rows(queries.schedule(d, pat)), d, settings)


def _choose_site(sites: list[dict[str, Any]], plan: str | None, patient_id: str, warnings: list[str]) -> dict[str, Any]:
    live = [s for s in sites if s.get("Status_Enum") != SITE_VOID]
    if plan:
        named = [s for s in live if text(s.get("Site_Name")) == plan]
        if not named:
            names = ", ".join(text(s.get("Site_Name")) for s in live) or "none"
            raise SourceError(f"patient {patient_id} has no current prescription named {plan!r} (current: {names})", fix="pass --plan with one of those names")
        return named[-1]
    if not live:
        raise SourceError(f"patient {patient_id} has no current (non-void) prescription in MOSAIQ")
    approved = [s for s in live if s.get("Sanct_DtTm") is not None]
    chosen = (approved or live)[-1]
    if len(live) > 1:
        names = ", ".join(text(s.get("Site_Name")) for s in live)
        warnings.append(f"{len(live)} current prescriptions ({names}); checked {text(chosen.get('Site_Name'))!r}, pass --plan to choose")
    return chosen


def _patient_rows(rows: list[dict[str, Any]], pat: int) -> list[Param]:
    if not rows:
        return []
    r, where = rows[0], f"Patient Pat_ID1={pat}"
    out = [p("patient", "", "patient_name", person_name(r.get("Last_Name"), r.get("First_Name")), "", where)]
    if r.get("Birth_DtTm") is not None:
        out.append(p("patient", "", "birth_date", r["Birth_DtTm"].date().isoformat(), "", where))
    return out


def _rx_energy(s: dict[str, Any]) -> tuple[str | None, str | None]:
    """Modality and energy from Site.Modality ('x06', 'e12', 'Xrays'); Site.Energy only where it is not 0."""
    modality, rx = prescribed(text(s.get("Modality")))
    kept = text(s.get("Energy"))
    if rx is None and kept and kept not in ("0", "0.0"):
        try:
            rx = energy(kept, modality)
        except ValueError:
            rx = None
    return modality, rx


def _site_rows(s: dict[str, Any]) -> list[Param]:
    where = f"Site SIT_ID={s['SIT_ID']}"
    name, status = text(s.get("Site_Name")), s.get("Status_Enum")
    modality, rx = _rx_energy(s)
    values: dict[str, Any] = {
        "plan_label": name,
        "site_name": name,
        "technique": text(s.get("Technique")) if "Technique" in s else None,
        "frac_pattern": text(s.get("Frac_Pattern")) if "Frac_Pattern" in s else None,
        "rx_status": None if status is None else SITE_STATUS.get(status, f"status {status}"),
        "rx_approved": s.get("Sanct_DtTm") is not None and (status is None or status in SITE_APPROVED),
        "rx_edited_date": iso(s.get("Edit_DtTm")),
        "rx_modality": modality,
        "rx_energy": rx,
        "fractions": None if s.get("Fractions") is None else int(s["Fractions"]),
        "rx_approved_date": iso(s.get("Sanct_DtTm")),
        "rx_approved_by": person_name(s.get("Approver_Last_Name"), s.get("Approver_First_Name")) if s.get("Sanct_DtTm") and "Approver_Last_Name" in s else None,
    }
    rows = [p("prescription", "", k, v, "", where) for k, v in values.items() if v is not None]
    for param, column in (("dose_per_fraction_cgy", "Dose_Tx"), ("total_dose_cgy", "Dose_Ttl")):
        if s.get(column) is not None:
            rows.append(p("prescription", "", param, round(float(s[column]), 4), "cGy", where))
    return rows
