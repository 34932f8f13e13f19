"""The demo clinic's MOSAIQ: a SQLite database with MOSAIQ's real tables, columns and conventions,
filled from the real Monaco-exported RT Plans that ship inside pymedphys, and the DICOM RT Plans to match.

The database follows the real MOSAIQ extract shipped with pymedphys, not plancheck's reader
(docs/demo-mosaiq.md gives the evidence for each convention). Everything is derived from a fixed
reference date, so building twice gives the same content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from sqlalchemy import create_engine, insert

from plancheck.demo.mosaiq_chart import APPROVED, SIGNED, VOID, Delivered, appointment, document, dose_rows, task
from plancheck.demo.mosaiq_fields import (
    CT, ELEKTA, KV_SETUP, PHOTONS, PORT, SETUP, STATIC, VARIAN, VMAT, FieldSpec, Machine, beam_points, electron_field, imaging_field,
)
from plancheck.demo.mosaiq_rows import Ids, field_rows, pad, versioned
from plancheck.demo.mosaiq_schema import create_tables, demo_tables
from plancheck.demo.patients import DEMO_TODAY, PATIENTS, DemoPatient, demo_plan, weekdays_before

__all__ = ["DEMO_TODAY", "MACHINES", "PATIENTS", "DemoClinic", "DemoPatient", "build_demo_mosaiq"]

MACHINES = {  # treatment machines are Staff rows of Type 'Location'
    "AGILITY1": Machine(101, "AGILITY1", "AG1", ELEKTA, 2),
    "AGILITY2": Machine(102, "AGILITY2", "AG2", ELEKTA, 2),
    "CLINAC1": Machine(103, "CLINAC1", "CL1", VARIAN, 5),
}
CT_SIM = 104
STAFF = {201: ("HOUSE", "GREGORY", "Radiation Onc", "GH"), 202: ("CURIE", "MARIE", "Physicist", "MC"), 203: ("NIGHTINGALE", "FLORENCE", "Therapist", "FN")}
TASKS = {1: "Weekly Chart Check", 2: "Physics Final Check", 3: "Physics Plan Check"}
DOC_TYPES = {101: "Treatment Plan", 102: "Second Check RadCalc"}  # Prompt PGroup 'ESC7'
TREATMENT, SIMULATION = "TX", "CTSIM"  # Schedule.Activity: the clinic's own codes
FIELD_EDITS = {("020304", "07x07"): ({"Field_Name": "07x07 draft", "Ssd": 91.0}, {"Field_Name": "07x07 draft", "Ssd": 91.5})}
EDITED_AFTER_FRACTION = 2  # fractions up to this one were delivered on the field's previous version


@dataclass
class DemoClinic:
    folder: Path
    database: Path
    dicom_dir: Path
    escan_dir: Path
    patients: tuple[DemoPatient, ...]
    rt_plans: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"


def _plan_mu(ds: pydicom.Dataset) -> dict[str, float]:
    numbers = {int(rb.ReferencedBeamNumber): float(rb.BeamMeterset) for rb in ds.FractionGroupSequence[0].ReferencedBeamSequence}
    return {str(b.BeamName): numbers[int(b.BeamNumber)] for b in ds.BeamSequence}


def _plan_fields(ds: pydicom.Dataset, patient: DemoPatient, machine: Machine) -> list[FieldSpec]:
    """The RT Plan's beams as MOSAIQ fields, with 00017R's planted MU, gantry and energy errors."""
    errors, plan_mu, specs = patient.patient_id == "00017R", _plan_mu(ds), []
    for beam in ds.BeamSequence:
        label, cps = str(beam.BeamName), beam.ControlPointSequence
        energy = int(float(cps[0].NominalBeamEnergy)) + (4 if errors and label == "1-2" else 0)
        points = beam_points(beam, machine, energy)
        if errors and label == "1-1":
            points[0]["Gantry_Ang"] = (points[0]["Gantry_Ang"] + 2.0) % 360.0
        fff = any(str(f.get("FluenceModeID", "")) == "FFF" for f in beam.get("PrimaryFluenceModeSequence", []))
        extra = {"Sad": float(beam.SourceAxisDistance) / 10.0, "Ssd": float(cps[0].get("SourceToSurfaceDistance", 1000.0)) / 10.0,
                 "OriginalBeamName": label, "OriginalBeamNumber": int(beam.BeamNumber)}
        mu = round(plan_mu[label] * (1.03 if errors and label == "1-2" else 1.0), 2)
        kind = VMAT if str(beam.BeamType).upper() == "DYNAMIC" else STATIC
        specs.append(FieldSpec(label, str(beam.get("BeamDescription", label)), kind, PHOTONS, mu, machine, points, is_fff=fff, extra=extra))
    return specs


def _other_fields(patient: DemoPatient, machine: Machine, plan: list[FieldSpec]) -> list[FieldSpec]:
    """Set-up and imaging fields, an electron boost, and a hidden (not planned) field, as real plans hold them."""
    extra = {
        "015112": [imaging_field("CBCT", "kV CBCT", KV_SETUP, machine),
                   FieldSpec("1-3", "replaced arc", STATIC, PHOTONS, 55.0, machine, [{**plan[0].points[0], "Gantry_Dir_Enum": 3}], is_hidden=True)],
        "00017R": [imaging_field("CBCT", "kV CBCT", KV_SETUP, machine)],
        "020304": [imaging_field("SUAP", "Setup AP", SETUP, machine), imaging_field("SULAT", "Setup LAT", SETUP, machine),
                   imaging_field("PORT", "Port AP", PORT, machine)],
        "030405": [imaging_field("CT", "CT", CT, machine)],
        "040506": [electron_field("E1", "scar boost", 9, "A10", 120.0, 20.0, machine), imaging_field("KV", "kV Setup", KV_SETUP, machine)],
    }
    return extra.get(patient.patient_id, [])


def _site_rows(patient: DemoPatient, pat: int, ids: Ids) -> list[dict[str, Any]]:
    """The prescription (Site): the energy only in the Modality text, Energy 0; 020304 re-approved once before treatment."""
    pending = patient.patient_id == "00017R"
    approved = DEMO_TODAY - dt.timedelta(days=13)
    base = {
        "Pat_ID1": pat, "Site_Name": patient.site, "Technique": pad(patient.technique, 20), "Modality": patient.rx_modality, "Energy": 0,
        "Modality_Enum": 0 if patient.electron_boost else PHOTONS, "Target": "Plan", "Dose_Tx": patient.dose_per_fraction_cgy,
        "Dose_Ttl": patient.dose_per_fraction_cgy * patient.fractions, "Fractions": patient.fractions, "Frac_Pattern": "Daily", "Notes": "",
        "Sanct_DtTm": None if pending else approved, "Sanct_Id": None if pending else 201, "Status_Enum": 7 if pending else 5,
        "Create_DtTm": approved - dt.timedelta(days=2), "Create_ID": 201, "Edit_DtTm": approved, "Edit_ID": 201,
    }
    versions = [base]
    if patient.patient_id == "020304":
        before = approved - dt.timedelta(days=1)
        versions = [{**base, "Fractions": 28, "Dose_Ttl": patient.dose_per_fraction_cgy * 28, "Edit_DtTm": before, "Sanct_DtTm": before}, base]
    return versioned(versions, "SIT_ID", "SIT_SET_ID", ids, "Site", 300)


def _treatment_days(patient: DemoPatient) -> list[dt.datetime]:
    if patient.check_kinds == ("final",):
        return weekdays_before(DEMO_TODAY, patient.fractions)
    if patient.patient_id == "00017R":  # a nine-day break
        return weekdays_before(DEMO_TODAY - dt.timedelta(days=10), 3) + weekdays_before(DEMO_TODAY, 2)
    return weekdays_before(DEMO_TODAY, 3 if not patient.rt_plan else 5)


def _weekdays_from(start: dt.datetime, n: int) -> list[dt.datetime]:
    days: list[dt.datetime] = []
    d = start.replace(hour=9, minute=0)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def _schedule(patient: DemoPatient, pat: int, days: list[dt.datetime], location: int, ids: Ids) -> list[dict[str, Any]]:
    """A CT simulation and one treatment appointment per fraction (00017R: two short); 015112 also has a cancelled and a deleted one."""
    total = patient.fractions - 2 if patient.patient_id == "00017R" else patient.fractions
    when = days + _weekdays_from(DEMO_TODAY + dt.timedelta(days=1), total - len(days))
    rows = [appointment(pat, days[0] - dt.timedelta(days=7), SIMULATION, " C", CT_SIM, ids)]
    for i, day in enumerate(when[:total]):
        status = ("SC" if i == 0 else "FC" if i == total - 1 else " C") if i < len(days) else "  "
        rows.append(appointment(pat, day, TREATMENT, status, location, ids))
    if patient.patient_id == "015112":
        rows.append(appointment(pat, when[len(days)] + dt.timedelta(hours=2), TREATMENT, "X", location, ids))
        rows.append(appointment(pat, when[len(days) + 1] + dt.timedelta(hours=3), TREATMENT, "  ", location, ids, suppressed=True))
    return rows


def _tasks(patient: DemoPatient, pat: int, ids: Ids) -> list[dict[str, Any]]:
    """A done weekly check, an open final check; 00017R an overdue task; 015112 an overdue one that was deleted (Suppressed)."""
    checked = weekdays_before(DEMO_TODAY, 2)[0].replace(hour=8)  # the weekly check before the last treatment day (whatever today's weekday)
    rows = [task(pat, 1, checked, checked, ids),
            task(pat, 2, DEMO_TODAY + dt.timedelta(days=30), None, ids)]
    if patient.patient_id == "00017R":
        rows.append(task(pat, 3, DEMO_TODAY - dt.timedelta(days=5), None, ids))
    if patient.patient_id == "015112":
        rows.append(task(pat, 3, DEMO_TODAY - dt.timedelta(days=6), None, ids, suppressed=True))
    return rows


def _documents(patient: DemoPatient, pat: int, ids: Ids) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan report (015112: an older, voided version too) and the RadCalc second check."""
    signed, pid = DEMO_TODAY - dt.timedelta(days=11), patient.patient_id
    plan = [(VOID, signed - dt.timedelta(days=2), f"{pid}_plan_v1.pdf")] if pid == "015112" else []
    objects, files = document(pat, 101, [*plan, (APPROVED, signed, f"{pid}_plan.pdf")], ids)
    more_objects, more_files = document(pat, 102, [(SIGNED, signed, f"{pid}_radcalc.pdf")], ids)
    return objects + more_objects, files + more_files


Rows = dict[str, list[dict[str, Any]]]
Treated = list[tuple[FieldSpec, list[int]]]  # treatment fields with their FLD_IDs, oldest version first


def _fields(patient: DemoPatient, pat: int, sit_set: int, ds: pydicom.Dataset, ids: Ids, rows: Rows) -> Treated:
    """Write every field (all versions) and return the treatment fields with their FLD_IDs, oldest version first."""
    machine = MACHINES[patient.machine]
    plan = _plan_fields(ds, patient, machine)
    treated: Treated = []
    approved = DEMO_TODAY - dt.timedelta(days=12)
    for order, spec in enumerate(plan + _other_fields(patient, machine, plan), start=1):
        edits = FIELD_EDITS.get((patient.patient_id, spec.label), ())
        fields, points = field_rows(spec, pat, sit_set, order, approved, ids, edits)
        if edits:  # the current version was made after the fraction its predecessor last treated
            edited = _treatment_days(patient)[EDITED_AFTER_FRACTION - 1] + dt.timedelta(hours=3)
            fields[-1] |= {"Create_DtTm": edited, "Edit_DtTm": edited, "Sanct_DtTm": edited}
        rows["TxField"] += fields
        rows["TxFieldPoint"] += points
        if spec.meterset and not spec.is_hidden and spec.type_enum not in (SETUP, KV_SETUP, CT, PORT):
            treated.append((spec, [f["FLD_ID"] for f in fields]))
    return treated


def _history(patient: DemoPatient, pat: int, sit: int, ds: pydicom.Dataset, treated: Treated, ids: Ids) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    days, plan_mu = _treatment_days(patient), _plan_mu(ds)
    per_field = patient.dose_per_fraction_cgy / len(treated)

    def delivered(spec: FieldSpec, fld_ids: list[int], fraction: int) -> Delivered:
        fld = fld_ids[-2] if len(fld_ids) > 1 and fraction <= EDITED_AFTER_FRACTION else fld_ids[-1]
        point = spec.points[0]
        return Delivered(fld, plan_mu.get(spec.label, spec.meterset or 0.0), per_field, point["Energy"], point["Energy_Unit_Enum"],
                         spec.modality_enum, spec.type_enum, spec.machine.staff_id)

    beams = [[delivered(spec, fld_ids, f) for spec, fld_ids in treated] for f in range(1, len(days) + 1)]
    planted = {(2, 0): "qa", (4, 1): "override"} if patient.patient_id == "00017R" else {}
    return dose_rows(pat, sit, days, beams, ids, planted)


def _static_rows(rows: Rows) -> None:
    rows["Staff"] += [{"Staff_ID": m.staff_id, "Type": "Location", "Last_Name": pad(m.name, 40), "Initials": pad(m.initials, 6),
                       "Category": 0, "Machine_Type": 1} for m in MACHINES.values()]
    rows["Staff"].append({"Staff_ID": CT_SIM, "Type": "Location", "Last_Name": pad("CT SIM", 40), "Initials": pad("CT", 6), "Category": 0})
    rows["Staff"] += [{"Staff_ID": k, "Type": t, "Last_Name": pad(last, 40), "First_Name": first, "Initials": pad(ini, 6), "Category": 0,
                       "Machine_Type": 0} for k, (last, first, t, ini) in STAFF.items()]
    rows["QCLTask"] += [{"TSK_ID": k, "Description": pad(v, 20), "Inactive": False} for k, v in TASKS.items()]
    rows["Prompt"] += [{"PGroup": "ESC7", "Enum": k, "Text": pad(v, 20)} for k, v in DOC_TYPES.items()]


def _patient_rows(patient: DemoPatient, pat: int, ds: pydicom.Dataset, ids: Ids, rows: Rows) -> None:
    ident = ids("Ident")
    rows["Ident"].append({"IDENT_ID": ident, "IDENT_Set_ID": ident, "Version": 0, "Pat_Id1": pat, "IDA": patient.patient_id})
    rows["Patient"].append({"Pat_ID1": pat, "Last_Name": patient.last, "First_Name": patient.first,
                            "Birth_DtTm": dt.datetime.combine(patient.birth, dt.time()), "Create_DtTm": DEMO_TODAY - dt.timedelta(days=30)})
    sites = _site_rows(patient, pat, ids)
    rows["Site"] += sites
    treated = _fields(patient, pat, sites[0]["SIT_SET_ID"], ds, ids, rows)
    hist, track = _history(patient, pat, sites[-1]["SIT_ID"], ds, treated, ids)
    rows["Dose_Hst"] += hist
    rows["TrackTreatment"] += track
    rows["Schedule"] += _schedule(patient, pat, _treatment_days(patient), MACHINES[patient.machine].staff_id, ids)
    rows["Chklist"] += _tasks(patient, pat, ids)
    if patient.rt_plan:
        objects, files = _documents(patient, pat, ids)
        rows["Object"] += objects
        rows["ObjFilenames"] += files


def build_demo_mosaiq(out_dir: Path) -> DemoClinic:
    """Create ``out_dir/mosaiq.db`` and ``out_dir/dicom/<ID>/RP.<site>.dcm`` for the demo patients."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "mosaiq.db"
    db.unlink(missing_ok=True)
    ids, tables = Ids(), demo_tables()
    rows: Rows = {name: [] for name in tables}
    _static_rows(rows)
    clinic = DemoClinic(out_dir, db, out_dir / "dicom", out_dir / "escan", PATIENTS)
    for n, patient in enumerate(PATIENTS, start=1):
        ds = demo_plan(patient)
        if patient.rt_plan:
            path = clinic.dicom_dir / patient.patient_id / f"RP.{patient.site.replace(' ', '_')}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
            clinic.rt_plans[patient.patient_id] = path
        _patient_rows(patient, 10000 + n, ds, ids, rows)
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        handles = create_tables(conn, tables)
        for name, data in rows.items():
            if data:
                columns = list(dict.fromkeys(c for row in data for c in row))
                conn.execute(insert(handles[name]), [{c: row.get(c) for c in columns} for row in data])
    engine.dispose()
    return clinic
