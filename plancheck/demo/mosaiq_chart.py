"""The demo chart's history as MOSAIQ records it: Dose_Hst, TrackTreatment, Schedule, Chklist, Object.

Conventions (evidence in docs/demo-mosaiq.md): a delivered field's dose is ``Dose_Addtl_Projected``
(``Dose_Ttl_Act`` is the site's dose before it), the site fraction is ``Fx_Number_InEffect``; an
override's comment is ``Notes``, who overrode ``OverrideID``; appointments completed carry
``SchStatus_Hist_SD`` ' C' (or 'SC'/'OC'/'FC'), 'X' when cancelled, and deleted ones are
``Suppressed``; an open QCL task's ``Act_DtTm`` is the 1801-01-01 placeholder; the current
document is ``Version`` 0 and ``Status_Enum`` 1 void, 8 signed, 9 co-signed / approved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from plancheck.demo.mosaiq_rows import Ids, versioned

NOT_DONE = dt.datetime(1801, 1, 1)  # Chklist.Act_DtTm of an incomplete task in the real rows
APPOINTMENT_15_MIN = 15 * 60 * 100  # Schedule.Duration_time is in 1/100 s
THERAPIST, PHYSICIST = 203, 202
VOID, SIGNED, APPROVED = 1, 8, 9  # Object.Status_Enum
SCAN_DOC = 4  # Object.File_Format: a scanned (eSCAN) document


@dataclass(frozen=True)
class Delivered:
    """One field's delivery, as the history module needs it."""

    fld_id: int
    meterset: float
    dose_cgy: float
    energy: int
    energy_unit: int
    modality_enum: int
    type_enum: int
    machine: int


def dose_rows(
    pat: int, sit: int, days: list[dt.datetime], beams: list[list[Delivered]], ids: Ids, planted: dict[tuple[int, int], str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Dose_Hst and TrackTreatment rows: one per field per fraction; ``beams[f]`` are fraction f's fields,
    ``planted`` marks (fraction, field index) as 'qa' (QA mode) or 'override' (overridden, no comment)."""
    hist, track = [], []
    site_dose = 0.0
    for fraction, (day, fields) in enumerate(zip(days, beams, strict=True), start=1):
        fraction_dose = 0.0
        for k, d in enumerate(fields):
            when, dhs, mark = day + dt.timedelta(minutes=3 * k), ids("Dose_Hst", 5000), planted.get((fraction, k), "")
            hist.append({
                "DHS_ID": dhs, "Pat_ID1": pat, "SIT_ID": sit, "FLD_ID": d.fld_id, "Tx_DtTm": when, "Create_DtTm": when, "Edit_DtTm": when,
                "Fractions_Tx": fraction, "Fx_Number_InEffect": fraction, "Energy": d.energy, "Energy_Unit_Enum": d.energy_unit,
                "Dose_Tx_Act": round(fraction_dose, 4), "Dose_Ttl_Act": round(site_dose, 4), "Dose_Addtl_Projected": round(d.dose_cgy, 4),
                "Meterset": round(d.meterset, 1), "MetersetUnit_Enum": 1, "Modality_Enum": d.modality_enum, "Type_Enum": d.type_enum,
                "Machine_ID_Staff_ID": d.machine, "Staff_Id": THERAPIST, "WasQAMode": mark == "qa", "WasOverridden": mark == "override",
                "OverrideID": THERAPIST if mark == "override" else None, "Overrides1": 1 if mark == "override" else 0,
                "Overrides2": 0, "Overrides3": 0, "Overrides4": 0, "Notes": "", "PartiallyTreated": False, "NewFieldDef": fraction == 1,
                "Termination_Status_Enum": 0,
            })
            track.append({
                "TTX_ID": ids("TrackTreatment"), "Pat_ID1": pat, "FLD_ID": d.fld_id, "SIT_ID": sit, "Machine_ID_Staff_ID": d.machine,
                "Staff_ID": THERAPIST, "Create_DtTm": when - dt.timedelta(minutes=1), "Sent_DtTm": when - dt.timedelta(minutes=1),
                "Edit_DtTm": when, "WasQAMode": mark == "qa", "WasBeamEnabled": True, "WasBeamOn": True, "WasBeamComplete": True,
                "WasCanceled": False, "WasRecorded": True, "WasCFS": False, "WasPassivePlan": False, "WasResolved": False, "DHS_ID": dhs,
            })
            fraction_dose += d.dose_cgy
        site_dose += fraction_dose
    return hist, track


def appointment(pat: int, when: dt.datetime, activity: str, status: str, location: int, ids: Ids, suppressed: bool = False) -> dict[str, Any]:
    """A current (Version 0) Schedule row; ``status`` is SchStatus_Hist_SD (' C' completed, 'X' cancelled, '  ' open)."""
    sch = ids("Schedule", 9000)
    return {
        "Sch_Id": sch, "Sch_Set_Id": sch, "Version": 0, "Pat_ID1": pat, "App_DtTm": when, "Duration_time": APPOINTMENT_15_MIN,
        "Activity": activity.ljust(6), "Location": location, "Staff_ID": None, "Suppressed": suppressed, "SchStatus_Hist_SD": status,
        "SchStatus_Hist_UD": "  ", "Create_DtTm": when - dt.timedelta(days=14), "Edit_DtTm": when, "Notes": "",
    }


def task(pat: int, tsk: int, due: dt.datetime, done: dt.datetime | None, ids: Ids, suppressed: bool = False) -> dict[str, Any]:
    """A Chklist row: done tasks carry their completion time and who completed them; open ones the 1801 placeholder."""
    chk = ids("Chklist", 700)
    return {
        "Chk_id": chk, "Chk_set_id": chk, "Version": 0, "Pat_ID1": pat, "TSK_ID": tsk, "Due_DtTm": due, "Act_DtTm": done or NOT_DONE,
        "Complete": done is not None, "Rsp_Staff_ID": PHYSICIST, "Com_Staff_ID": PHYSICIST if done else None, "Suppressed": suppressed,
        "Create_DtTm": due - dt.timedelta(days=10), "Edit_DtTm": done or due - dt.timedelta(days=10), "Notes": "", "Instructions": "",
    }


def document(pat: int, doc_type: int, versions: list[tuple[int, dt.datetime, str]], ids: Ids) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Object rows of one document (oldest version first: status, time, file) and the ObjFilenames row of each version's page."""
    rows = [
        {"Pat_ID1": pat, "DocType": doc_type, "File_Format": SCAN_DOC, "Status_Enum": status, "Create_DtTm": when, "Edit_DtTm": when,
         "Sanct_DtTm": when if status in (SIGNED, APPROVED) else None, "Sanct_ID": PHYSICIST if status in (SIGNED, APPROVED) else None}
        for status, when, _ in versions
    ]
    objects = versioned(rows, "OBJ_ID", "OBJ_SET_ID", ids, "Object", 8000)
    files = [{"OBJ_ID": o["OBJ_ID"], "PageNumber": 1, "eSCANFilename": name} for o, (_, _, name) in zip(objects, versions, strict=True)]
    return objects, files
