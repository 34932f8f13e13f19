"""Small read-only look-ups for the command line: patient IDs near a mistyped one, a patient's plan names.

An ID near ``00017r`` is one that reads the same once case and leading zeros are ignored
(``00017R``, ``17R``, ``017r``): the usual slips when an IDA is typed from a chart.
"""

from __future__ import annotations

from sqlalchemy import func, select

from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq, Query
from plancheck.sources.mosaiq.meanings import SITE_VOID
from plancheck.units import text

MAX_SUGGESTIONS = 5


def id_core(patient_id: str) -> str:
    """What is left of an ID once case, spaces and leading zeros are ignored."""
    return patient_id.strip().upper().lstrip("0")


def near_patient_ids(db: Mosaiq, patient_id: str) -> list[str]:
    """Ident IDA values that equal ``patient_id`` but for case and leading zeros (at most five)."""
    core = id_core(patient_id)
    if not core or not db.schema.has("Ident", "IDA"):
        return []
    ida = db.schema.table("Ident").c.IDA
    pattern = "%" + core.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(func.rtrim(ida).label("IDA")).where(func.upper(func.rtrim(ida)).like(pattern, escape="\\")).limit(50)
    rows = db.rows(Query(stmt, "Ident", ("IDA",), {"IDA": None}))
    found = sorted({text(r["IDA"]) for r in rows if id_core(text(r["IDA"])) == core})
    return [f for f in found if f != patient_id][:MAX_SUGGESTIONS]


def plan_names(db: Mosaiq, patient_id: str) -> list[str] | None:
    """The names of the patient's current (non-void) prescriptions; None when MOSAIQ has no such patient."""
    d = db.schema
    ident = db.rows(queries.ident(d, patient_id))
    if not ident:
        return None
    sites = db.rows(queries.sites(d, ident[0]["Pat_Id1"]))
    return [text(s.get("Site_Name")) for s in sites if s.get("Status_Enum") != SITE_VOID]
