"""The MOSAIQ source: patient, prescription, fields, control points, treatment history, QCL tasks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from plancheck.errors import PatientNotFound, SourceError
from plancheck.sources import Reading, Request
from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq, open_mosaiq
from plancheck.sources.mosaiq.delivery import as_control_points, delivery_from_points
from plancheck.sources.normalise import angle_iec, energy, gantry_direction, modality, person_name, text
from plancheck.table import Param, iso

SOURCE = "mosaiq"
SITE_STATUS = {1: "void", 3: "complete", 4: "hold", 5: "approved", 7: "pending"}
FIELD_TYPES = {1: "STATIC", 2: "STEPNSHOOT", 3: "SETUP", 4: "SETUP", 6: "PORT", 8: "DMLC", 11: "ARC", 13: "VMAT", 14: "DMLC"}
SETUP_TYPES = {3, 4, 6}
MODALITY_ENUM = {1: "photon", 2: "electron"}
GANTRY_DIR = {0: "NONE", 1: "CW", 2: "CC"}
CANCELLED = {"X", "C"}
# TxFieldPoint.Energy_Unit_Enum: 2 MV, 3 MeV; 4 flags a flattening-filter-free beam. Verify these codes on
# your MOSAIQ (Energy_Unit_Enum lookups differ between versions) and change them here if needed.
FFF_UNIT = 4
CHART_CHECK = "chart check"


def _p(scope: str, beam: str, param: str, value: Any, unit: str, where: str, item: str = "") -> Param:
    return Param(scope, beam, param, value, unit, SOURCE, where, item)


def read(request: Request) -> Reading | None:
    url = request.config.mosaiq_url
    if not url:
        return None
    db = open_mosaiq(url, request.config.mosaiq_timeout_s)
    return read_patient(db, request.patient_id, request.plan)


def _choose_site(sites: list[dict[str, Any]], plan: str | None, patient_id: str, warnings: list[str]) -> dict[str, Any]:
    live = [s for s in sites if s["Status_Enum"] != 1]
    if plan:
        named = [s for s in live if text(s["Site_Name"]) == plan]
        if not named:
            names = ", ".join(text(s["Site_Name"]) for s in live) or "none"
            raise SourceError(f"patient {patient_id} has no current prescription named {plan!r} (current: {names})", fix="pass --plan with one of those names")
        return named[-1]
    if not live:
        raise SourceError(f"patient {patient_id} has no current (non-void) prescription in MOSAIQ")
    approved = [s for s in live if s["Sanct_DtTm"] is not None]
    chosen = (approved or live)[-1]
    if len(live) > 1:
        warnings.append(f"{len(live)} current prescriptions ({', '.join(text(s['Site_Name']) for s in live)}); checked {text(chosen['Site_Name'])!r}, pass --plan to choose")
    return chosen


def read_patient(db: Mosaiq, patient_id: str, plan: str | None) -> Reading:
    reading = Reading()
    ident = db.rows(queries.ident(patient_id))
    if not ident:
        raise PatientNotFound(f"no patient with ID {patient_id!r} in MOSAIQ ({db.where})")
    pat = ident[0]["Pat_Id1"]
    reading.rows += _patient_rows(db.rows(queries.patient(pat)), patient_id, pat)
    site = _choose_site(db.rows(queries.sites(pat)), plan, patient_id, reading.warnings)
    reading.rows += _site_rows(site)
    fields = db.rows(queries.fields(pat, site["SIT_SET_ID"]))
    points = db.rows(queries.field_points([f["FLD_ID"] for f in fields])) if fields else []
    by_field: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in points:
        by_field[p["FLD_ID"]].append(p)
    labels: dict[int, str] = {}
    for f in fields:
        label = text(f["Field_Label"]) or str(f["FLD_ID"])
        labels[f["FLD_ID"]] = label
        reading.rows += _field_rows(f, label, by_field.get(f["FLD_ID"], []), reading)
    treatment_beams = sum(1 for f in fields if f["Type_Enum"] not in SETUP_TYPES)
    reading.rows.append(_p("prescription", "", "beam_count", treatment_beams, "", f"TxField SIT_Set_ID={site['SIT_SET_ID']}"))
    machines = {t["DHS_ID"]: text(t["Machine_Name"]).upper() for t in db.rows(queries.treatments(pat)) if t["DHS_ID"] is not None}
    reading.rows += _history_rows(db.rows(queries.dose_history(pat, site["SIT_SET_ID"])), labels, machines, site)
    reading.rows += _task_rows(db.rows(queries.tasks(pat)))
    reading.rows += _schedule_rows(db.rows(queries.schedule(pat)))
    return reading


def _patient_rows(rows: list[dict[str, Any]], patient_id: str, pat: int) -> list[Param]:
    where = f"Patient Pat_ID1={pat}"
    out = [_p("patient", "", "patient_id", patient_id, "", f"Ident Pat_Id1={pat}")]
    if rows:
        r = rows[0]
        out.append(_p("patient", "", "patient_name", person_name(r["Last_Name"], r["First_Name"]), "", where))
        if r["Birth_DtTm"] is not None:
            out.append(_p("patient", "", "birth_date", r["Birth_DtTm"].date().isoformat(), "", where))
    return out


def _site_rows(s: dict[str, Any]) -> list[Param]:
    where = f"Site SIT_ID={s['SIT_ID']}"
    mod = modality(s["Modality"]) if text(s["Modality"]) else None
    rows = [
        _p("prescription", "", "plan_label", text(s["Site_Name"]), "", where),
        _p("prescription", "", "site_name", text(s["Site_Name"]), "", where),
        _p("prescription", "", "technique", text(s["Technique"]), "", where),
        _p("prescription", "", "frac_pattern", text(s["Frac_Pattern"]), "", where),
        _p("prescription", "", "rx_status", SITE_STATUS.get(s["Status_Enum"], f"status {s['Status_Enum']}"), "", where),
        _p("prescription", "", "rx_approved", s["Sanct_DtTm"] is not None and s["Status_Enum"] in (3, 5), "", where),
        _p("prescription", "", "rx_edited_date", iso(s["Edit_DtTm"]), "", where),
    ]
    if mod:
        rows.append(_p("prescription", "", "modality", mod, "", where))
    if text(s["Energy"]):
        rows.append(_p("prescription", "", "rx_energy", energy(s["Energy"], mod), "", where))
    for param, column in (("dose_per_fraction_cgy", "Dose_Tx"), ("total_dose_cgy", "Dose_Ttl")):
        if s[column] is not None:
            rows.append(_p("prescription", "", param, round(float(s[column]), 4), "cGy", where))
    if s["Fractions"] is not None:
        rows.append(_p("prescription", "", "fractions", int(s["Fractions"]), "", where))
    if s["Sanct_DtTm"] is not None:
        rows.append(_p("prescription", "", "rx_approved_date", iso(s["Sanct_DtTm"]), "", where))
        rows.append(_p("prescription", "", "rx_approved_by", person_name(s["Approver_Last"], s["Approver_First"]), "", where))
    return rows


def _field_rows(f: dict[str, Any], label: str, points: list[dict[str, Any]], reading: Reading) -> list[Param]:
    where = f"TxField FLD_ID={f['FLD_ID']}"
    setup = f["Type_Enum"] in SETUP_TYPES
    mod = MODALITY_ENUM.get(f["Modality_Enum"], "photon")
    rows = [
        _p("beam", label, "beam_name", text(f["Field_Name"]), "", where),
        _p("beam", label, "setup_field", setup, "", where),
        _p("beam", label, "machine", text(f["Machine_Name"]).upper(), "", where),
        _p("beam", label, "modality", mod, "", where),
        _p("beam", label, "beam_type", FIELD_TYPES.get(f["Type_Enum"], f"TYPE {f['Type_Enum']}"), "", where),
        _p("beam", label, "beam_approved", f["Sanct_DtTm"] is not None, "", where),
        _p("beam", label, "beam_edited_date", iso(f["Edit_DtTm"]), "", where),
    ]
    for param, column in (("sad_mm", "Sad"), ("ssd_mm", "Ssd")):
        if f[column] is not None:
            rows.append(_p("beam", label, param, round(float(f[column]) * 10.0, 2), "mm", where))
    if not setup and f["Meterset"] is not None:
        rows.append(_p("beam", label, "mu", round(float(f["Meterset"]), 4), "MU", where))
    if not points:
        if not setup:
            reading.warnings.append(f"{where} (field {label}): no control points in TxFieldPoint; control-point checks skipped for it")
        return rows
    first, last = points[0], points[-1]
    pw = f"TxFieldPoint FLD_ID={f['FLD_ID']} Point={first['Point']}"
    rows += [
        _p("beam", label, "control_points", len(as_control_points(points)), "", where),
        _p("beam", label, "gantry_start", angle_iec(first["Gantry_Ang"]), "deg", pw),
        _p("beam", label, "gantry_stop", angle_iec(last["Gantry_Ang"]), "deg", f"TxFieldPoint FLD_ID={f['FLD_ID']} Point={last['Point']}"),
        _p("beam", label, "gantry_direction", gantry_direction(first["Gantry_Ang"], last["Gantry_Ang"], GANTRY_DIR.get(first["Gantry_Dir_Enum"])), "", pw),
        _p("beam", label, "collimator", angle_iec(first["Coll_Ang"]), "deg", pw),
        _p("beam", label, "couch", angle_iec(first["Couch_Ang"] or 0.0), "deg", pw),
    ]
    if first["Energy"] is not None:
        rows.append(_p("beam", label, "energy", energy(f"{first['Energy']:g}{'FFF' if first['Energy_Unit_Enum'] == FFF_UNIT else ''}", mod), "", pw))
    for param, column in (("jaw_x1_mm", "Coll_X1"), ("jaw_x2_mm", "Coll_X2"), ("jaw_y1_mm", "Coll_Y1"), ("jaw_y2_mm", "Coll_Y2")):
        if first[column] is not None:
            rows.append(_p("beam", label, param, round(float(first[column]) * 10.0, 2), "mm", pw))
    if not setup and f["Meterset"] is not None:
        try:
            reading.deliveries[label] = delivery_from_points(f["Meterset"], points, where)
        except SourceError as exc:
            reading.warnings.append(f"field {label}: {exc.message}")
    return rows


def _history_rows(history: list[dict[str, Any]], labels: dict[int, str], machines: dict[int, str], site: dict[str, Any]) -> list[Param]:
    rows: list[Param] = []
    days: set[dt.date] = set()
    fractions: set[int] = set()
    dose = 0.0
    for h in history:
        item, beam, where = f"DHS {h['DHS_ID']}", labels.get(h["FLD_ID"], str(h["FLD_ID"])), f"Dose_Hst DHS_ID={h['DHS_ID']}"
        qa = bool(h["WasQAMode"])
        rows += [
            _p("delivery", beam, "delivered_at", iso(h["Tx_DtTm"]), "", where, item),
            _p("delivery", beam, "delivered_mu", round(float(h["Meterset"] or 0.0), 4), "MU", where, item),
            _p("delivery", beam, "delivered_dose_cgy", round(float(h["Dose_Tx_Act"] or 0.0), 4), "cGy", where, item),
            _p("delivery", beam, "fraction_number", int(h["Fractions_Tx"] or 0), "", where, item),
            _p("delivery", beam, "qa_mode", qa, "", where, item),
            _p("delivery", beam, "overridden", bool(h["WasOverridden"]), "", where, item),
            _p("delivery", beam, "override_comment", text(h["Override_Reason"]), "", where, item),
            _p("delivery", beam, "partial", bool(h["PartiallyTreated"]), "", where, item),
            _p("delivery", beam, "delivery_machine", machines.get(h["DHS_ID"], ""), "", where, item),
        ]
        if not qa and h["Tx_DtTm"] is not None:
            days.add(h["Tx_DtTm"].date())
            if h["Fractions_Tx"]:
                fractions.add(int(h["Fractions_Tx"]))
            dose += float(h["Dose_Tx_Act"] or 0.0)
    where = f"Dose_Hst SIT_SET_ID={site['SIT_SET_ID']}"
    ordered = sorted(days)
    rows += [
        _p("prescription", "", "fractions_delivered", len(fractions), "", where),
        _p("prescription", "", "dose_delivered_cgy", round(dose, 4), "cGy", where),
        _p("prescription", "", "longest_break_days", max((b - a).days for a, b in zip(ordered, ordered[1:])) if len(ordered) > 1 else 0, "days", where),
    ]
    if ordered:
        rows += [
            _p("prescription", "", "first_treatment_date", ordered[0].isoformat(), "", where),
            _p("prescription", "", "last_treatment_date", ordered[-1].isoformat(), "", where),
        ]
    return rows


def _task_rows(tasks: list[dict[str, Any]]) -> list[Param]:
    rows: list[Param] = []
    checks: list[dt.datetime] = []
    for t in tasks:
        item, where = f"CHK {t['CHK_ID']}", f"Chklist CHK_ID={t['CHK_ID']}"
        complete = bool(t["Complete"])
        rows += [
            _p("task", "", "task_description", text(t["Description"]), "", where, item),
            _p("task", "", "task_due", iso(t["Due_DtTm"]), "", where, item),
            _p("task", "", "task_complete", complete, "", where, item),
        ]
        if t["Act_DtTm"] is not None:
            rows.append(_p("task", "", "task_completed_at", iso(t["Act_DtTm"]), "", where, item))
            if complete and CHART_CHECK in text(t["Description"]).lower():
                checks.append(t["Act_DtTm"])
    if checks:
        rows.append(_p("prescription", "", "last_check_date", iso(max(checks)), "", "Chklist (chart check tasks)"))
    return rows


def _schedule_rows(appointments: list[dict[str, Any]]) -> list[Param]:
    treatments = [a for a in appointments if text(a["Activity"]).upper().startswith("TX") and text(a["SysDefStatus"]).upper() not in CANCELLED]
    return [_p("prescription", "", "fractions_scheduled", len(treatments), "", "Schedule (treatment appointments)")] if appointments else []
