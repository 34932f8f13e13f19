"""MOSAIQ's tables and columns that plancheck reads, as SQLAlchemy Core metadata.

Names and types are those of a real MOSAIQ (pymedphys' extract, ``types_map.toml``);
docs/mosaiq.md gives the evidence for each. A real server may lack any of them: on
connecting, :mod:`plancheck.sources.mosaiq.discovery` learns which exist and binds the
server's own spelling. Each table and column says in ``info`` whether the MOSAIQ source
cannot read without it (``required``) or what its absence disables (``disables``).

The demo database is created from this metadata. Where older plancheck spelled a
column differently the Python ``key`` keeps that spelling; SQL uses the real name.
Text columns in MOSAIQ are space-padded CHAR; readers strip them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, LargeBinary, MetaData, SmallInteger, String, Table

metadata = MetaData()
REQUIRED = "required"


def _t(name: str, disables: str, *columns: Column[Any]) -> Table:
    return Table(name, metadata, *columns, info={"disables": disables})


def _c(name: str, type_: Any, disables: str = "", *, pk: bool = False, key: str | None = None) -> Column[Any]:
    """A column; ``disables`` says what is lost without it (REQUIRED: the source cannot read)."""
    return Column(name, type_, primary_key=pk, key=key or name, info={"disables": disables})


_NAMES = "names are not shown"

Ident = _t(
    "Ident",
    REQUIRED,
    _c("Pat_Id1", Integer, REQUIRED, pk=True),
    _c("IDA", String(20), REQUIRED),
    _c("IDB", String(20)),
)

Patient = _t(
    "Patient",
    "patient name and date of birth are not read",
    _c("Pat_ID1", Integer, REQUIRED, pk=True),
    _c("Last_Name", String(40), "the patient name is not read"),
    _c("First_Name", String(40), "the patient name is not read"),
    _c("Birth_DtTm", DateTime, "the date of birth is not read"),
)

Staff = _t(
    "Staff",
    "machine and approver names are not read",
    _c("Staff_ID", Integer, REQUIRED, pk=True),
    _c("Last_Name", String(40), f"machine and approver {_NAMES}"),
    _c("First_Name", String(40), f"approver first {_NAMES}"),
    _c("Type", String(20), "machines (Type 'Location') are not told from people in `mosaiq doctor`"),
)

Site = _t(
    "Site",
    REQUIRED,
    _c("SIT_ID", Integer, REQUIRED, pk=True),
    _c("SIT_SET_ID", Integer, REQUIRED),
    _c("Version", SmallInteger, "older versions of prescriptions cannot be told from the current one"),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("Site_Name", String(20), "prescriptions have no name (plan label)"),
    _c("Technique", String(30), "the prescribed technique is not read"),
    _c("Modality", String(20), "prescribed modality and energy are not read"),
    _c("Energy", SmallInteger, "a prescribed energy kept apart from Site.Modality is not read"),
    _c("Dose_Tx", Float, "the dose per fraction is not read"),
    _c("Dose_Ttl", Float, "the total dose is not read"),
    _c("Fractions", SmallInteger, "the number of fractions is not read"),
    _c("Frac_Pattern", String(30), "the fractionation pattern is not read"),
    _c("Notes", String(255)),
    _c("Sanct_DtTm", DateTime, "prescription approval is not read"),
    _c("Sanct_Id", Integer, "the prescription's approver is not named"),
    _c("Status_Enum", SmallInteger, "void prescriptions cannot be told apart; the prescription status is not read"),
    _c("Edit_DtTm", DateTime, "the prescription's edit date is not read"),
    _c("Modality_Enum", SmallInteger, "the prescribed modality code is not read"),
)

TxField = _t(
    "TxField",
    REQUIRED,
    _c("FLD_ID", Integer, REQUIRED, pk=True),
    _c("FLD_SET_ID", Integer),
    _c("Version", SmallInteger, "older versions of fields cannot be told from current ones"),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("SIT_Set_ID", Integer, REQUIRED),
    _c("Field_Label", String(16), "fields are labelled by FLD_ID"),
    _c("Field_Name", String(64), "field names are not read"),
    _c("Machine_ID_Staff_ID", Integer, "machines are not named; the jaw convention cannot be found per machine"),
    _c("Type_Enum", SmallInteger, "set-up and imaging fields cannot be told from treatment beams"),
    _c("Modality_Enum", SmallInteger, "beam modality is taken from the energy unit only"),
    _c("Meterset", Float, "MU are not read and control points are not built"),
    _c("ControlPoints", SmallInteger),
    _c("Sad", Float, "SAD is not read"),
    _c("Ssd", Float, "SSD is not read"),
    _c("Sanct_DtTm", DateTime, "field approval is not read"),
    _c("Sanct_ID", Integer, key="Sanct_Id"),
    _c("Edit_DtTm", DateTime, "field edit dates are not read"),
    _c("IsHidden", Boolean, "hidden fields cannot be left out of the plan"),
    _c("IsFFF", Boolean, "flattening-filter-free beams cannot be told from flattened ones"),
)

TxFieldPoint = _t(
    "TxFieldPoint",
    "control points are not read: gantry, collimator, jaws, energy, MLC and MU-density checks are not run",
    _c("TFP_ID", Integer, pk=True),
    _c("FLD_ID", Integer, REQUIRED),
    _c("Point", SmallInteger, REQUIRED),
    _c("Index", Float, "MU per control point are not known: control points are not built"),
    _c("MLC_Leaves", SmallInteger, "the number of leaves is not known: leaf sets are read whole, zero padding included"),
    _c("A_Leaf_Set", LargeBinary, "MLC positions are not read"),
    _c("B_Leaf_Set", LargeBinary, "MLC positions are not read"),
    _c("Gantry_Ang", Float, "gantry angles are not read"),
    _c("Coll_Ang", Float, "collimator angles are not read"),
    _c("Field_X", Float, "the X jaw convention cannot be confirmed from the data"),
    _c("Coll_X1", Float, "X jaws are not read"),
    _c("Coll_X2", Float, "X jaws are not read"),
    _c("Field_Y", Float, "the jaw convention of each machine cannot be found from the data (plancheck.toml or signed IEC is used)"),
    _c("Coll_Y1", Float, "Y jaws are not read"),
    _c("Coll_Y2", Float, "Y jaws are not read"),
    _c("Energy", SmallInteger, "beam energies are not read"),
    _c("Energy_Unit_Enum", SmallInteger, "MV, MeV and kV energies cannot be told apart"),
    _c("Couch_Ang", Float, "couch angles are not read"),
    _c("Couch_Vrt", Float),
    _c("Couch_Lat", Float),
    _c("Couch_Lng", Float),
    _c("Gantry_Dir_Enum", SmallInteger, "gantry direction is taken from start and stop angles"),
)

TrackTreatment = _t(
    "TrackTreatment",
    "the machine of each delivery is not read",
    _c("TTX_ID", Integer, pk=True),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("FLD_ID", Integer),
    _c("SIT_ID", Integer),
    _c("Machine_ID_Staff_ID", Integer, "the machine of each delivery is not read"),
    _c("Create_DtTm", DateTime),
    _c("Edit_DtTm", DateTime),
    _c("WasQAMode", Boolean),
    _c("WasBeamComplete", Boolean),
    _c("WasCanceled", Boolean),
    _c("DHS_ID", Integer, "deliveries are not matched to their machine"),
)

Dose_Hst = _t(
    "Dose_Hst",
    "delivered fractions, dose so far, treatment breaks, QA-mode and override checks are not run",
    _c("DHS_ID", Integer, REQUIRED, pk=True),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("SIT_ID", Integer, REQUIRED),
    _c("FLD_ID", Integer, "deliveries are not matched to fields"),
    _c("Tx_DtTm", DateTime, "delivery dates are not read: treatment breaks are not checked"),
    _c("Fractions_Tx", SmallInteger),
    _c("Fx_Number_InEffect", SmallInteger),
    _c("Dose_Tx_Act", Float),
    _c("Dose_Ttl_Act", Float),
    _c("Dose_Addtl_Projected", Float),
    _c("Meterset", Float, "delivered MU are not read"),
    _c("WasQAMode", Boolean, "QA-mode deliveries cannot be told apart: the QA-mode check is not run"),
    _c("WasOverridden", Boolean, "overrides are not read: the override check is not run"),
    _c("OverrideID", Integer),
    _c("Notes", String(255)),
    _c("Override_Reason", String(255)),
    _c("PartiallyTreated", Boolean, "partial treatments are not read"),
    _c("Termination_Status_Enum", SmallInteger),
)

QCLTask = _t(
    "QCLTask",
    "QCL tasks have no description: chart-check tasks cannot be found",
    _c("TSK_ID", Integer, REQUIRED, pk=True),
    _c("Description", String(60), "QCL tasks have no description: chart-check tasks cannot be found"),
)

Chklist = _t(
    "Chklist",
    "QCL tasks are not read: overdue-task and last-chart-check checks are not run",
    _c("Chk_id", Integer, REQUIRED, pk=True, key="CHK_ID"),
    _c("Chk_set_id", Integer),
    _c("Version", SmallInteger, "older versions of QCL tasks cannot be told from current ones"),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("TSK_ID", Integer, "QCL tasks have no description"),
    _c("Due_DtTm", DateTime, "QCL due dates are not read"),
    _c("Complete", SmallInteger, "QCL completion is not read"),
    _c("Act_DtTm", DateTime, "QCL completion dates are not read"),
    _c("Rsp_Staff_ID", Integer),
    _c("Suppressed", Boolean, "deleted (suppressed) QCL tasks cannot be left out"),
)

Schedule = _t(
    "Schedule",
    "scheduled treatment sessions are not counted",
    _c("Sch_Id", Integer, REQUIRED, pk=True),
    _c("Sch_Set_Id", Integer),
    _c("Version", SmallInteger, "older versions of appointments cannot be told from current ones"),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("App_DtTm", DateTime),
    _c("Activity", String(10), "treatment appointments cannot be told from others: scheduled sessions are not counted"),
    _c("SchStatus_Hist_SD", String(4)),
    _c("SysDefStatus", String(4)),
    _c("Suppressed", Boolean, "deleted (suppressed) appointments cannot be left out"),
    _c("Location", Integer),
)

Object = _t(
    "Object",
    "documents (plan reports, second checks) are not found through MOSAIQ",
    _c("OBJ_ID", Integer, REQUIRED, pk=True),
    _c("OBJ_SET_ID", Integer, "document versions cannot be grouped"),
    _c("Version", SmallInteger, "the current version of a document cannot be found"),
    _c("Pat_ID1", Integer, REQUIRED),
    _c("DocType", Integer, "documents have no type"),
    _c("File_Format", SmallInteger),
    _c("Status_Enum", SmallInteger, "document approval and void status are not read"),
    _c("Sanct_DtTm", DateTime, "document approval dates are not read"),
    _c("Create_DtTm", DateTime),
)

ObjFilenames = _t(
    "ObjFilenames",
    "documents (plan reports, second checks) are not found through MOSAIQ",
    _c("OFN_ID", Integer, pk=True),
    _c("OBJ_ID", Integer, REQUIRED),
    _c("eSCANFilename", String(255), REQUIRED),
    _c("PageNumber", SmallInteger),
)

Prompt = _t(
    "Prompt",
    "document types have no title",
    _c("PGroup", String(4), REQUIRED, pk=True),
    _c("Enum", Integer, REQUIRED, pk=True),
    _c("Text", String(60), REQUIRED),
)

# Columns of which any one will do: the first present is read, and only when none is does the run say so.
ALTERNATIVES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("Schedule", "status"): (("SchStatus_Hist_SD", "SysDefStatus"), "appointment status is not read: cancelled sessions are counted"),
    ("Dose_Hst", "dose"): (("Dose_Addtl_Projected", "Dose_Tx_Act"), "delivered dose is not read"),
    ("Dose_Hst", "fraction"): (("Fx_Number_InEffect", "Fractions_Tx"), "fraction numbers are not read"),
    ("Dose_Hst", "override_comment"): (("Notes", "Override_Reason"), "override comments are not read: the override-comment check is not run"),
}


def disables(table: str, column: str | None = None) -> str:
    """What the absence of ``table`` (or of one of its columns) disables; REQUIRED or '' (nothing)."""
    t = metadata.tables[table]
    if column is None:
        return str(t.info["disables"])
    return str(next(c for c in t.columns if c.name == column).info["disables"])
