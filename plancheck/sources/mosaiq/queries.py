"""The SELECTs plancheck sends to MOSAIQ: one per table per patient, never one per beam.

Each is built from what this MOSAIQ has (:class:`Discovered`): only present columns are
selected, under plancheck's name for them, and a filter on an absent column (``Version``,
``Suppressed``) is left out, which the run's warnings say. SQLAlchemy Core only, no
dialect-specific functions, so each compiles for SQL Server and runs on SQLite.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Integer, and_, case, func, literal, select, true
from sqlalchemy.sql.expression import Label
from sqlalchemy.types import TypeEngine

from plancheck.sources.mosaiq.connect import Query
from plancheck.sources.mosaiq.discovery import Discovered
from plancheck.sources.mosaiq.schema import metadata


def _type(table: str, column: str) -> TypeEngine[Any]:
    return next(c.type for c in metadata.tables[table].columns if c.name == column)


class _Picker:
    """Collects labelled columns of several tables, with the declared type of each label."""

    def __init__(self, d: Discovered) -> None:
        self.d = d
        self.columns: list[Label[Any]] = []
        self.types: dict[str, TypeEngine[Any] | None] = {}

    def add(self, table: str, columns: Iterable[str] | None = None, *, source: Any = None, prefix: str = "") -> None:
        if not self.d.has(table):
            return
        t = source if source is not None else self.d.table(table)
        for name in columns if columns is not None else [c.key for c in self.d.table(table).c]:
            if self.d.has(table, name):
                label = f"{prefix}{name}"
                self.columns.append(t.c[name].label(label))
                self.types[label] = _type(table, name)

    def query(self, table: str, key: tuple[str, ...], build: Any) -> Query:
        return Query(build(select(*self.columns)), table, key, self.types)


def _current(d: Discovered, table: str, t: Any = None) -> ColumnElement[bool]:
    """Version 0 is the current row (older versions count down from 32000, so an archived row always has
    its number: an empty Version is current too); no Version column: every row."""
    t = t if t is not None else d.table(table)
    return (t.c.Version == 0) | t.c.Version.is_(None) if d.has(table, "Version") else true()


def _not_suppressed(d: Discovered, table: str) -> ColumnElement[bool]:
    t = d.table(table)
    return (t.c.Suppressed == 0) | t.c.Suppressed.is_(None) if d.has(table, "Suppressed") else true()


def ident(d: Discovered, ida: str) -> Query:
    t = d.table("Ident")
    p = _Picker(d)
    p.add("Ident", ["Pat_Id1", "IDA"])
    # SQL Server compares CHAR ignoring trailing spaces; SQLite does not
    match = ida == t.c.IDA if d.dialect == "mssql" else func.rtrim(t.c.IDA) == ida
    return p.query("Ident", ("Pat_Id1",), lambda s: s.where(match))


def patient(d: Discovered, pat_id: int) -> Query:
    p = _Picker(d)
    p.add("Patient")
    return p.query("Patient", ("Pat_ID1",), lambda s: s.where(d.table("Patient").c.Pat_ID1 == pat_id))


def sites(d: Discovered, pat_id: int) -> Query:
    """Current prescriptions, with the approver's name where Staff is there to give it."""
    site = d.table("Site")
    p = _Picker(d)
    p.add("Site")
    p.types["Energy"] = None  # smallint on real servers (0 in every real row); read as text
    approver = d.table("Staff").alias("approver") if d.has("Staff") and d.has("Site", "Sanct_Id") else None
    if approver is not None:
        p.add("Staff", ["Last_Name", "First_Name"], source=approver, prefix="Approver_")

    def build(s: Any) -> Any:
        if approver is not None:
            s = s.select_from(site.outerjoin(approver, approver.c.Staff_ID == site.c.Sanct_Id))
        return s.where(site.c.Pat_ID1 == pat_id, _current(d, "Site")).order_by(site.c.SIT_ID)

    return p.query("Site", ("SIT_ID",), build)


def _with_machine(d: Discovered, p: _Picker, table: str) -> Any:
    """``table`` outer-joined to its machine's Staff row (adding Machine_Last_Name), or ``table`` alone."""
    t = d.table(table)
    if not (d.has("Staff") and d.has(table, "Machine_ID_Staff_ID")):
        return t
    machine = d.table("Staff").alias("machine")
    p.add("Staff", ["Last_Name"], source=machine, prefix="Machine_")
    return t.outerjoin(machine, machine.c.Staff_ID == t.c.Machine_ID_Staff_ID)


def _fields(d: Discovered, condition: Any) -> Query:
    p = _Picker(d)
    p.add("TxField")
    source = _with_machine(d, p, "TxField")
    return p.query("TxField", ("FLD_ID",), lambda s: s.select_from(source).where(condition).order_by(d.table("TxField").c.FLD_ID))


def fields(d: Discovered, pat_id: int, sit_set_id: int) -> Query:
    """Current fields of one prescription, with the machine's name."""
    field = d.table("TxField")
    return _fields(d, and_(field.c.Pat_ID1 == pat_id, field.c.SIT_Set_ID == sit_set_id, _current(d, "TxField")))


def fields_by_id(d: Discovered, fld_ids: list[int]) -> Query:
    """Fields by FLD_ID, whatever their version."""
    return _fields(d, d.table("TxField").c.FLD_ID.in_(fld_ids))


def field_points(d: Discovered, fld_ids: list[int]) -> Query:
    """Control points of all the plan's fields in one query."""
    t = d.table("TxFieldPoint")
    p = _Picker(d)
    p.add("TxFieldPoint")
    return p.query("TxFieldPoint", ("FLD_ID", "Point"), lambda s: s.where(t.c.FLD_ID.in_(fld_ids)).order_by(t.c.FLD_ID, t.c.Point))


def dose_history(d: Discovered, pat_id: int, sit_set_id: int) -> Query:
    """Every delivered-beam record of the prescription (any version of the site)."""
    hst, site = d.table("Dose_Hst"), d.table("Site")
    p = _Picker(d)
    p.add("Dose_Hst")
    order = [hst.c.Tx_DtTm] if d.has("Dose_Hst", "Tx_DtTm") else []
    return p.query(
        "Dose_Hst",
        ("DHS_ID",),
        lambda s: s.select_from(hst.join(site, site.c.SIT_ID == hst.c.SIT_ID))
        .where(hst.c.Pat_ID1 == pat_id, sit_set_id == site.c.SIT_SET_ID)
        .order_by(*order, hst.c.DHS_ID),
    )


def treatments(d: Discovered, pat_id: int) -> Query:
    """Treatment tracking (machine per delivery) for the patient."""
    p = _Picker(d)
    p.add("TrackTreatment", ["TTX_ID", "DHS_ID", "Machine_ID_Staff_ID"])
    source = _with_machine(d, p, "TrackTreatment")
    return p.query("TrackTreatment", ("TTX_ID",), lambda s: s.select_from(source).where(d.table("TrackTreatment").c.Pat_ID1 == pat_id))


def tasks(d: Discovered, pat_id: int) -> Query:
    """Current, not deleted QCL tasks with their descriptions."""
    chk = d.table("Chklist")
    p = _Picker(d)
    p.add("Chklist")
    task = d.table("QCLTask") if d.has("QCLTask") and d.has("Chklist", "TSK_ID") else None
    if task is not None:
        p.add("QCLTask", ["Description"])

    def build(s: Any) -> Any:
        if task is not None:
            s = s.select_from(chk.outerjoin(task, task.c.TSK_ID == chk.c.TSK_ID))
        return s.where(chk.c.Pat_ID1 == pat_id, _current(d, "Chklist"), _not_suppressed(d, "Chklist")).order_by(chk.c.Chk_id)

    return p.query("Chklist", ("Chk_id",), build)


def schedule(d: Discovered, pat_id: int) -> Query:
    """Current, not deleted appointments."""
    t = d.table("Schedule")
    p = _Picker(d)
    p.add("Schedule")
    live = and_(t.c.Pat_ID1 == pat_id, _current(d, "Schedule"), _not_suppressed(d, "Schedule"))
    return p.query("Schedule", ("Sch_Id",), lambda s: s.where(live).order_by(t.c.Sch_Id))


def documents(d: Discovered, pat_id: int) -> Query:
    """Scanned/imported documents with their file names and titles (for the PDF sources)."""
    obj, files = d.table("Object"), d.table("ObjFilenames")
    p = _Picker(d)
    p.add("Object")
    p.add("ObjFilenames", ["eSCANFilename", "PageNumber"])
    prompt = d.table("Prompt") if d.has("Prompt") and d.has("Object", "DocType") else None
    if prompt is not None:
        p.columns.append(prompt.c.Text.label("Title"))
        p.types["Title"] = _type("Prompt", "Text")

    def build(s: Any) -> Any:
        joined = obj.join(files, files.c.OBJ_ID == obj.c.OBJ_ID)
        if prompt is not None:
            joined = joined.outerjoin(prompt, and_(prompt.c.PGroup == "ESC7", prompt.c.Enum == obj.c.DocType))
        order = [files.c.PageNumber] if d.has("ObjFilenames", "PageNumber") else []
        return s.select_from(joined).where(obj.c.Pat_ID1 == pat_id).order_by(obj.c.OBJ_ID, *order)

    return p.query("Object", ("OBJ_ID",), build)


def jaw_evidence(d: Discovered, machine_id: int, sample_fields: int = 300) -> Query:
    """For one machine's latest fields: control points whose jaws fit only signed IEC (Y2 - Y1 = Field_Y)
    and those that fit only distances (Y1 + Y2 = Field_Y), and the same for X. All counted by the server."""
    point, field = d.table("TxFieldPoint"), d.table("TxField")
    latest = select(field.c.FLD_ID).where(field.c.Machine_ID_Staff_ID == machine_id).order_by(field.c.FLD_ID.desc()).limit(sample_fields)
    columns: list[Label[Any]] = [literal(machine_id, Integer).label("Machine")]
    for axis in ("Y", "X"):
        if all(d.has("TxFieldPoint", c) for c in (f"Field_{axis}", f"Coll_{axis}1", f"Coll_{axis}2")):
            one, two, opening = point.c[f"Coll_{axis}1"], point.c[f"Coll_{axis}2"], point.c[f"Field_{axis}"]
            iec, dist = func.abs(two - one - opening) <= 0.051, func.abs(two + one - opening) <= 0.051
            columns.append(func.sum(case((and_(iec, ~dist), 1), else_=0)).label(f"iec_{axis}"))
            columns.append(func.sum(case((and_(dist, ~iec), 1), else_=0)).label(f"distance_{axis}"))
    stmt = select(*columns).where(point.c.FLD_ID.in_(latest))
    return Query(stmt, "TxFieldPoint", ("Machine",), {c.name: Integer() for c in columns})


def counts(d: Discovered, table: str, column: str) -> Query:
    """How often each value of ``table.column`` occurs (clinic codes in use, for `mosaiq doctor`)."""
    t = d.table(table)
    stmt = select(t.c[column].label("value"), func.count().label("count")).group_by(t.c[column]).order_by(func.count().desc())
    return Query(stmt, table, ("value",), {"value": _type(table, column), "count": Integer()})


def task_counts(d: Discovered) -> Query:
    """How many Chklist rows each QCL task description has."""
    chk, task = d.table("Chklist"), d.table("QCLTask")
    stmt = (
        select(task.c.Description.label("value"), func.count().label("count"))
        .select_from(chk.join(task, task.c.TSK_ID == chk.c.TSK_ID))
        .group_by(task.c.Description)
        .order_by(func.count().desc())
    )
    return Query(stmt, "Chklist", ("value",), {"value": _type("QCLTask", "Description"), "count": Integer()})


def machines(d: Discovered) -> Query:
    """Every machine fields name, with its Staff row where there is one."""
    field = d.table("TxField")
    p = _Picker(d)
    if d.has("Staff"):
        staff = d.table("Staff")
        p.add("Staff", ["Last_Name", "Type"])
        stmt = (
            select(field.c.Machine_ID_Staff_ID.label("Staff_ID"), *p.columns, func.count().label("fields"))
            .select_from(field.outerjoin(staff, staff.c.Staff_ID == field.c.Machine_ID_Staff_ID))
            .where(field.c.Machine_ID_Staff_ID.is_not(None))
            .group_by(field.c.Machine_ID_Staff_ID, *[c.element for c in p.columns])
        )
    else:
        stmt = (
            select(field.c.Machine_ID_Staff_ID.label("Staff_ID"), func.count().label("fields"))
            .where(field.c.Machine_ID_Staff_ID.is_not(None))
            .group_by(field.c.Machine_ID_Staff_ID)
        )
    return Query(stmt, "TxField", ("Staff_ID",), {"Staff_ID": Integer(), "fields": Integer(), **p.types})


# the per-patient queries, in the order the reader sends them (for `mosaiq doctor PATIENT` and the compile test)
PATIENT_QUERIES = (ident, patient, sites, fields, field_points, dose_history, treatments, tasks, schedule, documents)
