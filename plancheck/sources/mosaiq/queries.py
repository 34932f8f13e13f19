"""The SELECTs plancheck sends to MOSAIQ: one per table per patient, never one per beam.

SQLAlchemy Core only, no dialect-specific functions, so each compiles for SQL Server
(tested with the mssql dialect) and runs on the SQLite demo.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from plancheck.sources.mosaiq.schema import (
    Chklist, Dose_Hst, Ident, Object, ObjFilenames, Patient, Prompt, QCLTask, Schedule, Site, Staff, TrackTreatment,
    TxField, TxFieldPoint,
)

approver = Staff.alias("approver")
machine = Staff.alias("machine")


def ident(ida: str) -> Select:
    return select(Ident.c.Pat_Id1, Ident.c.IDA).where(Ident.c.IDA == ida)


def patient(pat_id: int) -> Select:
    return select(Patient).where(Patient.c.Pat_ID1 == pat_id)


def sites(pat_id: int) -> Select:
    """Current (Version 0) prescriptions with the approver's name."""
    return (
        select(Site, approver.c.Last_Name.label("Approver_Last"), approver.c.First_Name.label("Approver_First"))
        .outerjoin(approver, approver.c.Staff_ID == Site.c.Sanct_Id)
        .where(Site.c.Pat_ID1 == pat_id, Site.c.Version == 0)
        .order_by(Site.c.SIT_ID)
    )


def fields(pat_id: int, sit_set_id: int) -> Select:
    """Current fields of one prescription, with the machine's name."""
    return (
        select(TxField, machine.c.Last_Name.label("Machine_Name"))
        .outerjoin(machine, machine.c.Staff_ID == TxField.c.Machine_ID_Staff_ID)
        .where(TxField.c.Pat_ID1 == pat_id, TxField.c.SIT_Set_ID == sit_set_id, TxField.c.Version == 0)
        .order_by(TxField.c.FLD_ID)
    )


def field_points(fld_ids: list[int]) -> Select:
    """Control points of all the plan's fields in one query."""
    return select(TxFieldPoint).where(TxFieldPoint.c.FLD_ID.in_(fld_ids)).order_by(TxFieldPoint.c.FLD_ID, TxFieldPoint.c.Point)


def dose_history(pat_id: int, sit_set_id: int) -> Select:
    """Every delivered-beam record of the prescription (any version of the site)."""
    return (
        select(Dose_Hst)
        .join(Site, Site.c.SIT_ID == Dose_Hst.c.SIT_ID)
        .where(Dose_Hst.c.Pat_ID1 == pat_id, Site.c.SIT_SET_ID == sit_set_id)
        .order_by(Dose_Hst.c.Tx_DtTm, Dose_Hst.c.DHS_ID)
    )


def treatments(pat_id: int) -> Select:
    """Treatment tracking (machine per delivery) for the patient."""
    return (
        select(TrackTreatment, machine.c.Last_Name.label("Machine_Name"))
        .outerjoin(machine, machine.c.Staff_ID == TrackTreatment.c.Machine_ID_Staff_ID)
        .where(TrackTreatment.c.Pat_ID1 == pat_id)
    )


def tasks(pat_id: int) -> Select:
    return (
        select(Chklist, QCLTask.c.Description)
        .outerjoin(QCLTask, QCLTask.c.TSK_ID == Chklist.c.TSK_ID)
        .where(Chklist.c.Pat_ID1 == pat_id)
        .order_by(Chklist.c.Due_DtTm, Chklist.c.CHK_ID)
    )


def schedule(pat_id: int) -> Select:
    return select(Schedule).where(Schedule.c.Pat_ID1 == pat_id, Schedule.c.Version == 0).order_by(Schedule.c.App_DtTm)


def documents(pat_id: int) -> Select:
    """Scanned/imported documents with their file names and titles (for the PDF sources)."""
    return (
        select(Object, ObjFilenames.c.eSCANFilename, ObjFilenames.c.PageNumber, Prompt.c.Text.label("Title"))
        .join(ObjFilenames, ObjFilenames.c.OBJ_ID == Object.c.OBJ_ID)
        .outerjoin(Prompt, (Prompt.c.PGroup == "ESC7") & (Prompt.c.Enum == Object.c.DocType))
        .where(Object.c.Pat_ID1 == pat_id)
        .order_by(Object.c.OBJ_SET_ID, Object.c.Version, ObjFilenames.c.PageNumber)
    )


ALL = (ident, patient, sites, fields, field_points, dose_history, treatments, tasks, schedule, documents)
