"""MOSAIQ's tables and columns as SQLAlchemy Core metadata (the subset plancheck reads).

The names are MOSAIQ's own, so the same queries run on a clinic's SQL Server and on
the embedded SQLite demo database, which is created from this same metadata.
Text columns in MOSAIQ are space-padded CHAR; readers strip them.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, LargeBinary, MetaData, SmallInteger, String, Table

metadata = MetaData()


def _t(name: str, *columns: Column) -> Table:
    return Table(name, metadata, *columns)


Ident = _t("Ident", Column("Pat_Id1", Integer, primary_key=True), Column("IDA", String(20)), Column("IDB", String(20)))

Patient = _t(
    "Patient",
    Column("Pat_ID1", Integer, primary_key=True),
    Column("Last_Name", String(40)),
    Column("First_Name", String(40)),
    Column("Birth_DtTm", DateTime),
)

Staff = _t(
    "Staff",
    Column("Staff_ID", Integer, primary_key=True),
    Column("Last_Name", String(40)),
    Column("First_Name", String(40)),
    Column("Type", String(20)),
)

Site = _t(
    "Site",
    Column("SIT_ID", Integer, primary_key=True),
    Column("SIT_SET_ID", Integer),
    Column("Version", SmallInteger),
    Column("Pat_ID1", Integer),
    Column("Site_Name", String(20)),
    Column("Technique", String(30)),
    Column("Modality", String(20)),
    Column("Energy", String(20)),
    Column("Dose_Tx", Float),
    Column("Dose_Ttl", Float),
    Column("Fractions", SmallInteger),
    Column("Frac_Pattern", String(30)),
    Column("Notes", String(255)),
    Column("Sanct_DtTm", DateTime),
    Column("Sanct_Id", Integer),
    Column("Status_Enum", SmallInteger),
    Column("Edit_DtTm", DateTime),
)

TxField = _t(
    "TxField",
    Column("FLD_ID", Integer, primary_key=True),
    Column("FLD_SET_ID", Integer),
    Column("Version", SmallInteger),
    Column("Pat_ID1", Integer),
    Column("SIT_Set_ID", Integer),
    Column("Field_Label", String(16)),
    Column("Field_Name", String(64)),
    Column("Machine_ID_Staff_ID", Integer),
    Column("Type_Enum", SmallInteger),
    Column("Modality_Enum", SmallInteger),
    Column("Meterset", Float),
    Column("ControlPoints", SmallInteger),
    Column("Sad", Float),
    Column("Ssd", Float),
    Column("Sanct_DtTm", DateTime),
    Column("Sanct_Id", Integer),
    Column("Edit_DtTm", DateTime),
)

TxFieldPoint = _t(
    "TxFieldPoint",
    Column("TFP_ID", Integer, primary_key=True),
    Column("FLD_ID", Integer),
    Column("Point", SmallInteger),
    Column("Index", Float),
    Column("A_Leaf_Set", LargeBinary),
    Column("B_Leaf_Set", LargeBinary),
    Column("Gantry_Ang", Float),
    Column("Coll_Ang", Float),
    Column("Coll_X1", Float),
    Column("Coll_X2", Float),
    Column("Coll_Y1", Float),
    Column("Coll_Y2", Float),
    Column("Energy", Float),
    Column("Energy_Unit_Enum", SmallInteger),
    Column("Couch_Ang", Float),
    Column("Couch_Vrt", Float),
    Column("Couch_Lat", Float),
    Column("Couch_Lng", Float),
    Column("Gantry_Dir_Enum", SmallInteger),
)

TrackTreatment = _t(
    "TrackTreatment",
    Column("TTX_ID", Integer, primary_key=True),
    Column("Pat_ID1", Integer),
    Column("FLD_ID", Integer),
    Column("SIT_ID", Integer),
    Column("Machine_ID_Staff_ID", Integer),
    Column("Create_DtTm", DateTime),
    Column("Edit_DtTm", DateTime),
    Column("WasQAMode", SmallInteger),
    Column("WasBeamComplete", SmallInteger),
    Column("WasCanceled", SmallInteger),
    Column("DHS_ID", Integer),
)

Dose_Hst = _t(
    "Dose_Hst",
    Column("DHS_ID", Integer, primary_key=True),
    Column("Pat_ID1", Integer),
    Column("SIT_ID", Integer),
    Column("FLD_ID", Integer),
    Column("Tx_DtTm", DateTime),
    Column("Fractions_Tx", SmallInteger),
    Column("Dose_Tx_Act", Float),
    Column("Dose_Ttl_Act", Float),
    Column("Meterset", Float),
    Column("WasQAMode", SmallInteger),
    Column("WasOverridden", SmallInteger),
    Column("PartiallyTreated", SmallInteger),
    Column("Termination_Status_Enum", SmallInteger),
    Column("Override_Reason", String(255)),
)

QCLTask = _t("QCLTask", Column("TSK_ID", Integer, primary_key=True), Column("Description", String(60)))

Chklist = _t(
    "Chklist",
    Column("CHK_ID", Integer, primary_key=True),
    Column("Pat_ID1", Integer),
    Column("TSK_ID", Integer),
    Column("Due_DtTm", DateTime),
    Column("Complete", SmallInteger),
    Column("Act_DtTm", DateTime),
    Column("Rsp_Staff_ID", Integer),
)

Schedule = _t(
    "Schedule",
    Column("Sch_Id", Integer, primary_key=True),
    Column("Sch_Set_Id", Integer),
    Column("Version", SmallInteger),
    Column("Pat_ID1", Integer),
    Column("App_DtTm", DateTime),
    Column("Activity", String(10)),
    Column("SysDefStatus", String(4)),
    Column("Location", Integer),
)

Object = _t(
    "Object",
    Column("OBJ_ID", Integer, primary_key=True),
    Column("OBJ_SET_ID", Integer),
    Column("Version", SmallInteger),
    Column("Pat_ID1", Integer),
    Column("DocType", Integer),
    Column("File_Format", SmallInteger),
    Column("Status_Enum", SmallInteger),
    Column("Sanct_DtTm", DateTime),
    Column("Create_DtTm", DateTime),
)

ObjFilenames = _t(
    "ObjFilenames",
    Column("OFN_ID", Integer, primary_key=True),
    Column("OBJ_ID", Integer),
    Column("eSCANFilename", String(255)),
    Column("PageNumber", SmallInteger),
)

Prompt = _t("Prompt", Column("PGroup", String(4), primary_key=True), Column("Enum", Integer, primary_key=True), Column("Text", String(60)))
