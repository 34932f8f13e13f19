"""Rows of what happened: delivered beams (Dose_Hst), QCL tasks (Chklist), appointments (Schedule)."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Any

from plancheck.sources.mosaiq.discovery import Discovered
from plancheck.sources.mosaiq.fields import p
from plancheck.sources.mosaiq.meanings import appointment_cancelled, real_date
from plancheck.sources.mosaiq.settings import MosaiqSettings
from plancheck.units import text
from plancheck.table import Param, iso

# Per-field dose of a delivery: pymedphys' chart checks read Dose_Addtl_Projected as "field dose delivered"
# (Dose_Ttl_Act + Dose_Addtl_Projected = total so far); Dose_Tx_Act is the fraction's dose and may over-count.
DOSE_COLUMNS = ("Dose_Addtl_Projected", "Dose_Tx_Act")
FRACTION_COLUMNS = ("Fx_Number_InEffect", "Fractions_Tx")
COMMENT_COLUMNS = ("Notes", "Override_Reason")


def _chosen(history: list[dict[str, Any]], d: Discovered, columns: tuple[str, ...]) -> str | None:
    """The first of ``columns`` this MOSAIQ has and fills for these records (else the first it has)."""
    present = [c for c in columns if d.has("Dose_Hst", c)]
    return next((c for c in present if any(h.get(c) is not None for h in history)), present[0] if present else None)


def _delivery_rows(h: dict[str, Any], beam: str, d: Discovered, machine: str, chosen: dict[str, str | None]) -> list[Param]:
    item, where = f"DHS {h['DHS_ID']}", f"Dose_Hst DHS_ID={h['DHS_ID']}"
    dose, fraction, comment = chosen["dose"], chosen["fraction"], chosen["comment"]
    values: list[tuple[str, Any, str, str]] = [
        ("delivered_at", iso(h.get("Tx_DtTm")), "", ""),
        ("delivered_mu", None if h.get("Meterset") is None else round(float(h["Meterset"]), 4), "MU", ""),
        ("delivered_dose_cgy", None if dose is None else round(float(h.get(dose) or 0.0), 4), "cGy", f" {dose}"),
        ("fraction_number", None if fraction is None else int(h.get(fraction) or 0), "", f" {fraction}"),
        ("qa_mode", bool(h["WasQAMode"]) if d.has("Dose_Hst", "WasQAMode") else None, "", ""),
        ("overridden", bool(h["WasOverridden"]) if d.has("Dose_Hst", "WasOverridden") else None, "", ""),
        ("override_comment", None if comment is None else text(h.get(comment)), "", f" {comment}"),
        ("partial", bool(h["PartiallyTreated"]) if d.has("Dose_Hst", "PartiallyTreated") else None, "", ""),
        ("delivery_machine", machine or None, "", ""),
    ]
    return [p("delivery", beam, param, v, unit, where + column, item) for param, v, unit, column in values if v is not None]


def history_rows(history: list[dict[str, Any]], labels: dict[int, str], machines: dict[int, str], sit_set_id: int, d: Discovered) -> list[Param]:
    """Each delivered beam, and the course so far: fractions, dose (which column is named), dates, longest break."""
    rows: list[Param] = []
    days: set[dt.date] = set()
    fractions: set[int] = set()
    chosen = {"dose": _chosen(history, d, DOSE_COLUMNS), "fraction": _chosen(history, d, FRACTION_COLUMNS), "comment": _chosen(history, d, COMMENT_COLUMNS)}
    dose_column, fraction_column = chosen["dose"], chosen["fraction"]
    dose = 0.0
    for h in history:
        rows += _delivery_rows(h, labels.get(h.get("FLD_ID") or -1, str(h.get("FLD_ID"))), d, machines.get(h["DHS_ID"], ""), chosen)
        if h.get("WasQAMode"):
            continue
        if h.get("Tx_DtTm") is not None:
            days.add(h["Tx_DtTm"].date())
        if fraction_column and h.get(fraction_column):
            fractions.add(int(h[fraction_column]))
        dose += float(h.get(dose_column) or 0.0) if dose_column else 0.0
    where = f"Dose_Hst SIT_SET_ID={sit_set_id}"
    ordered = sorted(days)
    if fraction_column:
        rows.append(p("prescription", "", "fractions_delivered", len(fractions), "", f"{where}: distinct {fraction_column}, QA mode left out"))
    if dose_column:
        rows.append(p("prescription", "", "dose_delivered_cgy", round(dose, 4), "cGy", f"{where}: sum of {dose_column}, QA mode left out"))
    if d.has("Dose_Hst", "Tx_DtTm"):
        gap = max((b - a).days for a, b in pairwise(ordered)) if len(ordered) > 1 else 0
        rows.append(p("prescription", "", "longest_break_days", gap, "days", f"{where}: Tx_DtTm"))
    if ordered:
        rows += [
            p("prescription", "", "first_treatment_date", ordered[0].isoformat(), "", f"{where}: Tx_DtTm"),
            p("prescription", "", "last_treatment_date", ordered[-1].isoformat(), "", f"{where}: Tx_DtTm"),
        ]
    return rows


def task_rows(tasks: list[dict[str, Any]], settings: MosaiqSettings) -> list[Param]:
    """Current QCL tasks; the last completed chart check (task names from [mosaiq] chart_check_tasks)."""
    rows: list[Param] = []
    checks: list[dt.datetime] = []
    for t in tasks:
        item, where = f"CHK {t['Chk_id']}", f"Chklist Chk_id={t['Chk_id']}"
        complete, done = bool(t.get("Complete")), real_date(t.get("Act_DtTm"))  # 1801-01-01: not done yet
        rows += [
            p("task", "", "task_description", text(t.get("Description")), "", where, item),
            p("task", "", "task_due", iso(t.get("Due_DtTm")), "", where, item),
            p("task", "", "task_complete", complete, "", where, item),
        ]
        if done is not None:
            rows.append(p("task", "", "task_completed_at", iso(done), "", where, item))
            if complete and settings.is_chart_check(text(t.get("Description"))):
                checks.append(done)
    if checks:
        rows.append(p("prescription", "", "last_check_date", iso(max(checks)), "", f"Chklist (tasks {', '.join(settings.chart_check_tasks)})"))
    return rows


def schedule_rows(appointments: list[dict[str, Any]], d: Discovered, settings: MosaiqSettings) -> list[Param]:
    """Treatment sessions scheduled: activities from [mosaiq] treatment_activities, cancelled ('X') left out."""
    if not appointments or not d.has("Schedule", "Activity"):
        return []
    status = d.first("Schedule", "SchStatus_Hist_SD", "SysDefStatus")
    sessions = [
        a for a in appointments if settings.is_treatment(text(a.get("Activity"))) and not (status and appointment_cancelled(text(a.get(status))))
    ]
    where = f"Schedule (activities {', '.join(settings.treatment_activities)}, status {status or 'not read'})"
    return [p("prescription", "", "fractions_scheduled", len(sessions), "", where)]
