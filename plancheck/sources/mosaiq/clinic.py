"""What the worklist needs of MOSAIQ for the whole clinic at once, in six SELECTs (never one per patient).

Current prescriptions with their patients; each prescription's treatment fields and their approval;
the delivered fractions of recently treated prescriptions (``Dose_Hst``, else ``TrackTreatment``);
the next treatment session of each patient (``Schedule``); the last completed chart-check QCL task
of each patient (``Chklist`` + ``QCLTask``). Every date is read as of the end of the day ``on``, so
a past day's worklist is what it was. What this MOSAIQ lacks is said in ``ClinicView.missing``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, String, and_, func, literal, not_, select, true
from sqlalchemy.types import TypeEngine

from plancheck.sources.mosaiq.connect import Mosaiq, Query
from plancheck.sources.mosaiq.discovery import Discovered
from plancheck.sources.mosaiq.meanings import NOT_TREATMENT, PLACEHOLDER_BEFORE, SITE_VOID, appointment_cancelled
from plancheck.sources.mosaiq.settings import MosaiqSettings
from plancheck.units import person_name, text


@dataclass(frozen=True)
class Course:
    """One current (not void) prescription of a patient."""

    pat: int  # Ident.Pat_Id1
    patient_id: str  # Ident.IDA, as people type it (empty when MOSAIQ has none)
    patient_name: str
    sit_set_id: int
    prescription: str  # Site.Site_Name: the plan label a check names
    fractions: int | None  # prescribed
    approved_at: dt.datetime | None  # Site.Sanct_DtTm


@dataclass(frozen=True)
class PlanFields:
    """The current treatment fields of a prescription (set-up, imaging and hidden fields left out)."""

    count: int
    approved: int
    approved_at: dt.datetime | None  # the latest field approval: when this plan version was approved

    @property
    def all_approved(self) -> bool:
        return self.count > 0 and self.approved == self.count


@dataclass
class ClinicView:
    """The clinic's courses and what happened in them, as of the end of ``on``."""

    on: dt.date
    courses: list[Course] = field(default_factory=list)
    plans: dict[int, PlanFields] = field(default_factory=dict)  # by SIT_SET_ID
    fractions: dict[int, list[dt.datetime]] = field(default_factory=dict)  # by SIT_SET_ID: each fraction's first delivery, oldest first
    fractions_from: str = ""  # where fractions were counted, for the reason a person reads
    next_session: dict[int, dt.datetime] = field(default_factory=dict)  # by Pat_ID1: the next treatment appointment
    chart_checks: dict[int, dt.datetime] = field(default_factory=dict)  # by Pat_ID1: the last completed chart-check task
    missing: list[str] = field(default_factory=list)  # what this MOSAIQ lacks, and what that disables


def _when(value: dt.datetime) -> Any:
    return literal(value, DateTime())


def _current(d: Discovered, table: str) -> ColumnElement[bool]:
    t = d.table(table)
    return (t.c.Version == 0) | t.c.Version.is_(None) if d.has(table, "Version") else true()


def _flag_off(d: Discovered, table: str, column: str) -> ColumnElement[bool]:
    t = d.table(table)
    return (t.c[column] == 0) | t.c[column].is_(None) if d.has(table, column) else true()


def _read(db: Mosaiq, stmt: Any, table: str, key: tuple[str, ...], types: dict[str, TypeEngine[Any] | None]) -> list[dict[str, Any]]:
    return db.rows(Query(stmt, table, key, types))


def courses(db: Mosaiq) -> list[Course]:
    """Every current, not void prescription with its patient's ID and name."""
    d = db.schema
    site, ident = d.table("Site"), d.table("Ident")
    cols: list[Any] = [site.c.SIT_SET_ID, site.c.Pat_ID1, ident.c.IDA]
    types: dict[str, TypeEngine[Any] | None] = {"SIT_SET_ID": Integer(), "Pat_ID1": Integer(), "IDA": String()}
    for name, type_ in (("Site_Name", String()), ("Fractions", Integer()), ("Sanct_DtTm", DateTime())):
        if d.has("Site", name):
            cols.append(site.c[name])
            types[name] = type_
    joined = site.join(ident, ident.c.Pat_Id1 == site.c.Pat_ID1)
    if d.has("Patient", "Last_Name") and d.has("Patient", "First_Name"):
        patient = d.table("Patient")
        joined = joined.outerjoin(patient, patient.c.Pat_ID1 == site.c.Pat_ID1)
        cols += [patient.c.Last_Name, patient.c.First_Name]
        types |= {"Last_Name": String(), "First_Name": String()}
    live = (site.c.Status_Enum != SITE_VOID) | site.c.Status_Enum.is_(None) if d.has("Site", "Status_Enum") else true()
    stmt = select(*cols).select_from(joined).where(_current(d, "Site"), live).order_by(site.c.Pat_ID1, site.c.SIT_SET_ID)
    return [
        Course(r["Pat_ID1"], text(r["IDA"]), person_name(r.get("Last_Name"), r.get("First_Name")) or "", r["SIT_SET_ID"],
               text(r.get("Site_Name")), r.get("Fractions") or None, r.get("Sanct_DtTm"))
        for r in _read(db, stmt, "Site", ("SIT_SET_ID",), types)
    ]


def plan_fields(db: Mosaiq) -> dict[int, PlanFields]:
    """Per prescription: its current treatment fields, how many are approved, and the latest approval."""
    d = db.schema
    f = d.table("TxField")
    treatment = not_(f.c.Type_Enum.in_(sorted(NOT_TREATMENT))) | f.c.Type_Enum.is_(None) if d.has("TxField", "Type_Enum") else true()
    approved = d.has("TxField", "Sanct_DtTm")
    stmt = select(
        f.c.SIT_Set_ID.label("sit_set_id"), func.count().label("fields"),
        (func.count(f.c.Sanct_DtTm) if approved else literal(0)).label("approved"),
        (func.max(f.c.Sanct_DtTm) if approved else literal(None, DateTime())).label("approved_at"),
    ).where(_current(d, "TxField"), _flag_off(d, "TxField", "IsHidden"), treatment).group_by(f.c.SIT_Set_ID)
    types: dict[str, TypeEngine[Any] | None] = {"sit_set_id": Integer(), "fields": Integer(), "approved": Integer(), "approved_at": DateTime()}
    return {r["sit_set_id"]: PlanFields(r["fields"], r["approved"], r["approved_at"]) for r in _read(db, stmt, "TxField", ("sit_set_id",), types)}


def _days(rows: list[dict[str, Any]]) -> dict[int, list[dt.datetime]]:
    """One fraction per treatment day (the day's first delivery), where no fraction number is recorded."""
    first: dict[int, dict[dt.date, dt.datetime]] = defaultdict(dict)
    for r in rows:
        if r["at"] is not None:
            day = first[r["sit_set_id"]]
            day[r["at"].date()] = min(r["at"], day.get(r["at"].date(), r["at"]))
    return {k: sorted(v.values()) for k, v in first.items()}


def fractions(db: Mosaiq, since: dt.datetime, until: dt.datetime) -> tuple[dict[int, list[dt.datetime]], str]:
    """Delivered fractions (QA mode left out) of the prescriptions treated since ``since``, up to ``until``:
    from Dose_Hst (the fraction number each record is in), else TrackTreatment (one fraction per day of
    completed beams); and where they were counted."""
    d = db.schema
    done: ColumnElement[bool]
    if d.has("Dose_Hst", "Tx_DtTm"):
        table, at, done = "Dose_Hst", "Tx_DtTm", true()
        number = d.first("Dose_Hst", "Fx_Number_InEffect", "Fractions_Tx")
    elif d.has("TrackTreatment", "SIT_ID") and d.has("TrackTreatment", "Create_DtTm"):
        table, at, number = "TrackTreatment", "Create_DtTm", None
        done = d.table(table).c.WasBeamComplete == 1 if d.has(table, "WasBeamComplete") else true()
    else:
        return {}, ""
    t, site = d.table(table), d.table("Site")
    t2, site2 = t.alias("recent_delivery"), site.alias("recent_site")  # the subquery's own tables: never correlated
    qa2 = (t2.c.WasQAMode == 0) | t2.c.WasQAMode.is_(None) if d.has(table, "WasQAMode") else true()
    done2 = t2.c.WasBeamComplete == 1 if table == "TrackTreatment" and d.has(table, "WasBeamComplete") else true()
    recent = (select(site2.c.SIT_SET_ID).select_from(t2.join(site2, site2.c.SIT_ID == t2.c.SIT_ID))
              .where(qa2, done2, t2.c[at] >= _when(since), t2.c[at] < _when(until)).distinct())
    joined = t.join(site, site.c.SIT_ID == t.c.SIT_ID)
    where = and_(_flag_off(d, table, "WasQAMode"), done, t.c[at] < _when(until), site.c.SIT_SET_ID.in_(recent))
    types: dict[str, TypeEngine[Any] | None] = {"sit_set_id": Integer(), "at": DateTime(), "fraction": Integer()}
    if number is None:
        stmt = select(site.c.SIT_SET_ID.label("sit_set_id"), t.c[at].label("at")).select_from(joined).where(where)
        return _days(_read(db, stmt, table, ("sit_set_id", "at"), types)), f"{table} {at} (one fraction per treatment day)"
    stmt = (select(site.c.SIT_SET_ID.label("sit_set_id"), t.c[number].label("fraction"), func.min(t.c[at]).label("at"))
            .select_from(joined).where(where).group_by(site.c.SIT_SET_ID, t.c[number]))
    out: dict[int, list[dt.datetime]] = defaultdict(list)
    for r in _read(db, stmt, table, ("sit_set_id", "fraction"), types):
        if r["at"] is not None:
            out[r["sit_set_id"]].append(r["at"])
    return {k: sorted(v) for k, v in out.items()}, f"{table} {number}"


def next_sessions(db: Mosaiq, settings: MosaiqSettings, start: dt.datetime, until: dt.datetime) -> dict[int, dt.datetime]:
    """Each patient's next treatment appointment in [start, until): activities from [mosaiq] treatment_activities,
    cancelled ('X') and deleted (Suppressed) ones left out."""
    d = db.schema
    if not (d.has("Schedule", "App_DtTm") and d.has("Schedule", "Activity")):
        return {}
    t = d.table("Schedule")
    status = d.first("Schedule", "SchStatus_Hist_SD", "SysDefStatus")
    cols = [t.c.Sch_Id, t.c.Pat_ID1, t.c.App_DtTm, t.c.Activity, *([t.c[status].label("status")] if status else [])]
    stmt = select(*cols).where(_current(d, "Schedule"), _flag_off(d, "Schedule", "Suppressed"), t.c.App_DtTm >= _when(start),
                               t.c.App_DtTm < _when(until))
    types: dict[str, TypeEngine[Any] | None] = {"Sch_Id": Integer(), "Pat_ID1": Integer(), "App_DtTm": DateTime(), "Activity": String(), "status": String()}
    out: dict[int, dt.datetime] = {}
    for r in _read(db, stmt, "Schedule", ("Sch_Id",), types):
        if r["App_DtTm"] is None or not settings.is_treatment(text(r["Activity"])) or appointment_cancelled(text(r.get("status"))):
            continue
        out[r["Pat_ID1"]] = min(r["App_DtTm"], out.get(r["Pat_ID1"], r["App_DtTm"]))
    return out


def chart_checks(db: Mosaiq, settings: MosaiqSettings, until: dt.datetime) -> dict[int, dt.datetime]:
    """Each patient's last completed chart-check QCL task before ``until`` (task names from [mosaiq] chart_check_tasks)."""
    d = db.schema
    if not (d.has("QCLTask", "Description") and d.has("Chklist", "TSK_ID") and d.has("Chklist", "Act_DtTm")):
        return {}
    task = d.table("QCLTask")
    names = _read(db, select(task.c.TSK_ID, task.c.Description), "QCLTask", ("TSK_ID",), {"TSK_ID": Integer(), "Description": String()})
    ids = sorted(r["TSK_ID"] for r in names if settings.is_chart_check(text(r["Description"])))
    if not ids:
        return {}
    chk = d.table("Chklist")
    complete = chk.c.Complete != 0 if d.has("Chklist", "Complete") else true()
    stmt = (select(chk.c.Pat_ID1, func.max(chk.c.Act_DtTm).label("done"))
            .where(chk.c.TSK_ID.in_(ids), _current(d, "Chklist"), _flag_off(d, "Chklist", "Suppressed"), complete,
                   chk.c.Act_DtTm >= _when(PLACEHOLDER_BEFORE), chk.c.Act_DtTm < _when(until))
            .group_by(chk.c.Pat_ID1))
    rows = _read(db, stmt, "Chklist", ("Pat_ID1",), {"Pat_ID1": Integer(), "done": DateTime()})
    return {r["Pat_ID1"]: r["done"] for r in rows if r["done"] is not None}


LACKS = {  # (table, column) -> what the worklist cannot tell without it
    ("Dose_Hst", "Tx_DtTm"): "delivered fractions are counted from TrackTreatment, one per treatment day",
    ("Schedule", "App_DtTm"): "the next treatment session is not known: a course about to start is listed only when approved recently",
    ("Chklist", "Act_DtTm"): "the last chart check is taken from plancheck's record only (no MOSAIQ QCL fallback)",
    ("TxField", "Sanct_DtTm"): "field approval is not read: no initial check can be found due",
}


def read_clinic(db: Mosaiq, on: dt.date, *, lookback_days: int, lookahead_days: int, settings: MosaiqSettings) -> ClinicView:
    """The whole clinic as of the end of ``on``: six SELECTs, whatever the number of patients."""
    end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time())
    start = dt.datetime.combine(on - dt.timedelta(days=lookback_days), dt.time())
    view = ClinicView(on, courses(db), plan_fields(db))
    view.fractions, view.fractions_from = fractions(db, start, end)
    view.next_session = next_sessions(db, settings, dt.datetime.combine(on, dt.time()), end + dt.timedelta(days=lookahead_days))
    view.chart_checks = chart_checks(db, settings, end)
    d = db.schema
    view.missing = [f"MOSAIQ has no {table}.{column}: {what}" for (table, column), what in LACKS.items() if not d.has(table, column)]
    if not view.fractions_from:
        view.missing.append("MOSAIQ has neither Dose_Hst nor TrackTreatment: no delivered fraction is known")
    return view
