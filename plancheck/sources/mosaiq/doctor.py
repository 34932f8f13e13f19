"""What a physicist runs first, with their IT: what this MOSAIQ has of what plancheck reads.

The server and its version, every table and column plancheck uses (present, absent, what an
absence disables), the jaw convention of each machine, the clinic's codes in use (Schedule
activities, QCL task names) and, for a patient, the rows and time of each query.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from plancheck.sources.mosaiq import jaws, queries
from plancheck.sources.mosaiq.connect import Mosaiq, Query
from plancheck.sources.mosaiq.discovery import Discovered
from plancheck.sources.mosaiq.schema import REQUIRED, metadata
from plancheck.sources.mosaiq.settings import MosaiqSettings
from plancheck.units import text


@dataclass
class Machine:
    staff_id: int
    name: str
    staff_type: str
    fields: int
    convention: str
    source: str
    iec_points: int
    distance_points: int


@dataclass
class Diagnosis:
    where: str
    dialect: str
    version: str
    columns: list[dict[str, Any]] = field(default_factory=list)  # table, column, present, server_name, disables
    absences: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    machines: list[Machine] = field(default_factory=list)
    codes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    patient: list[dict[str, Any]] = field(default_factory=list)  # query, table, rows, ms

    @property
    def exit_code(self) -> int:
        """0: plancheck can run its checks; 1: something it cannot read without is absent."""
        return 1 if self.fatal else 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": self.exit_code}


def _columns(d: Discovered) -> list[dict[str, Any]]:
    """One entry per column plancheck reads; an absent table is one entry (column '')."""
    out = []
    for table in metadata.sorted_tables:
        bound = d.tables.get(table.name)
        if bound is None:
            absence = next(a for a in d.absences if a.table == table.name and a.column is None)
            out.append({"table": table.name, "column": "", "present": False, "server_name": "", "disables": _say(absence.disables)})
            continue
        for col in table.columns:
            present = col.name in bound.c
            out.append({
                "table": table.name, "column": col.name, "present": present,
                "server_name": f"{d.actual[table.name]}.{bound.c[col.name].name}" if present else "",
                "disables": "" if present else _say(str(col.info["disables"])),
            })
    return out


def _say(disables: str) -> str:
    return "the MOSAIQ source cannot read without it" if disables == REQUIRED else disables


def _machines(db: Mosaiq, settings: MosaiqSettings) -> list[Machine]:
    d = db.schema
    if not d.has("TxField", "Machine_ID_Staff_ID"):
        return []
    out = []
    for row in db.rows(queries.machines(d)):
        name = text(row.get("Last_Name")) or str(row["Staff_ID"])
        found = jaws.find(db, row["Staff_ID"], name, settings)
        out.append(Machine(
            row["Staff_ID"], name, text(row.get("Type")), row["fields"], found.convention, found.source, found.iec_points, found.distance_points
        ))
    return sorted(out, key=lambda m: m.name.lower())


def _codes(db: Mosaiq) -> dict[str, list[tuple[str, int]]]:
    d = db.schema
    codes: dict[str, list[tuple[str, int]]] = {}
    if d.has("Schedule", "Activity"):
        codes["Schedule.Activity"] = [(text(r["value"]), r["count"]) for r in db.rows(queries.counts(d, "Schedule", "Activity"))]
    if d.has("Chklist", "TSK_ID") and d.has("QCLTask", "Description"):
        codes["QCLTask.Description (Chklist rows)"] = [(text(r["value"]), r["count"]) for r in db.rows(queries.task_counts(d))]
    return codes


def _timed(db: Mosaiq, name: str, query: Query) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    start = time.perf_counter()
    rows, problems = db.read(query)
    ms = round((time.perf_counter() - start) * 1000.0, 1)
    return {"query": name, "table": query.table, "rows": len(rows), "ms": ms, "unreadable_rows": len(problems)}, rows


def _patient(db: Mosaiq, patient_id: str) -> list[dict[str, Any]]:
    """Each per-patient query for ``patient_id`` with its row count and time (all current prescriptions)."""
    d = db.schema
    timing, ident = _timed(db, "ident", queries.ident(d, patient_id))
    out = [timing]
    if not ident:
        return out
    pat = ident[0]["Pat_Id1"]
    timing, sites = _timed(db, "sites", queries.sites(d, pat))
    out.append(timing)
    sets = sorted({s["SIT_SET_ID"] for s in sites})
    plan: list[tuple[str, Any]] = [("patient", lambda: queries.patient(d, pat))] if d.has("Patient") else []
    fields: list[dict[str, Any]] = []
    for sit_set in sets:
        timing, rows = _timed(db, f"fields SIT_Set_ID={sit_set}", queries.fields(d, pat, sit_set))
        out.append(timing)
        fields += rows
        if d.has("Dose_Hst"):
            plan.append((f"dose_history SIT_SET_ID={sit_set}", lambda s=sit_set: queries.dose_history(d, pat, s)))
    if fields and d.has("TxFieldPoint"):
        plan.append(("field_points", lambda: queries.field_points(d, [f["FLD_ID"] for f in fields])))
    optional = (("TrackTreatment", queries.treatments), ("Chklist", queries.tasks), ("Schedule", queries.schedule), ("ObjFilenames", queries.documents))
    plan += [(make.__name__, lambda make=make: make(d, pat)) for table, make in optional if d.has(table) and (table != "ObjFilenames" or d.has("Object"))]
    out += [_timed(db, name, build())[0] for name, build in plan]
    return out


def diagnose(db: Mosaiq, settings: MosaiqSettings, patient_id: str | None = None) -> Diagnosis:
    """Everything ``plancheck mosaiq doctor`` shows (ConnectionFailed when MOSAIQ cannot be reached)."""
    d = db.schema
    found = Diagnosis(db.where, d.dialect, db.server_version(), _columns(d), d.warnings, [a.message for a in d.fatal])
    if found.fatal:
        return found
    found.machines = _machines(db, settings)
    found.codes = _codes(db)
    if patient_id:
        found.patient = _patient(db, patient_id)
    return found
