"""The demo MOSAIQ's tables, with MOSAIQ's real columns and SQL Server types.

The tables of the real MOSAIQ extract that ships inside pymedphys take their columns and types
from its ``types_map.toml``, read from the installed package at build time (never copied). The
tables that extract lacks take theirs from public code; docs/demo-mosaiq.md names the source of
each column and marks plancheck's guesses. The DDL keeps SQL Server's type names (``bit``,
``tinyint``, ``decimal``, ...), which SQLite accepts, so the demo database declares what MOSAIQ does.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import pymedphys
from sqlalchemy import Boolean, Column, DateTime, Float, Integer, LargeBinary, MetaData, String, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

TYPES_MAP = Path(pymedphys.__file__).parent / "_mosaiq/mock/data/types_map.toml"

# Tables absent from the extract. Every column is named by a public source (docs/demo-mosaiq.md);
# the SQL Server types are plancheck's guesses from the column's use and MOSAIQ's naming habits.
EXTRA_TABLES: dict[str, dict[str, str]] = {
    "Dose_Hst": {
        "DHS_ID": "int", "Pat_ID1": "int", "Create_DtTm": "datetime", "Create_ID": "int", "Edit_DtTm": "datetime", "Edit_ID": "int",
        "Inst_ID": "int", "Note_ID": "int", "FLD_ID": "int", "SIT_ID": "int", "SIS_ID": "int", "PTC_ID": "int", "Tx_DtTm": "datetime",
        "Fractions_Tx": "smallint", "Fx_Number_InEffect": "smallint", "Energy": "smallint", "Energy_Unit_Enum": "tinyint",
        "PIAcqDevice": "smallint", "Dose_Tx_Act": "decimal", "Dose_Ttl_Act": "decimal", "Dose_Addtl_Projected": "decimal",
        "Staff_Id": "int", "Machine_ID_Staff_ID": "int", "MAC_ID": "int", "TerminationCode": "smallint",
        "Termination_Status_Enum": "tinyint", "Termination_Verify_Status_Enum": "tinyint", "IsInPatient": "bit", "IsOpenPort": "bit",
        "OverrideID": "int", "Overrides1": "int", "Overrides2": "int", "Overrides3": "int", "Overrides4": "int", "Notes": "varchar",
        "WasOverridden": "bit", "WasVerified": "bit", "NewFieldDef": "bit", "WasQAMode": "bit", "PartiallyTreated": "bit",
        "VMIError": "bit", "HasBeenCharted": "bit", "Modality_Enum": "tinyint", "Type_Enum": "tinyint", "Meterset": "decimal",
        "MetersetUnit_Enum": "tinyint", "SecondaryMeterset": "decimal", "SecondaryMetersetUnit_Enum": "tinyint",
        "cGrayPerMeterset": "decimal", "TP_Correction_Factor": "decimal", "XVI_Preset": "varchar",
    },
    "Schedule": {
        "Sch_Id": "int", "Sch_Set_Id": "int", "Version": "smallint", "Pat_ID1": "int", "App_DtTm": "datetime", "Duration_time": "int",
        "Activity": "char", "Location": "int", "Staff_ID": "int", "Inst_ID": "int", "Alert": "char", "Notes": "varchar",
        "Note_ID": "int", "CHG_ID": "int", "Create_DtTm": "datetime", "Create_ID": "int", "Edit_DtTm": "datetime", "Edit_ID": "int",
        "Suppressed": "bit", "SchStatus_Hist_SD": "char", "SchStatus_Hist_UD": "char",
    },
    "Object": {
        "OBJ_ID": "int", "OBJ_SET_ID": "int", "Version": "smallint", "Pat_ID1": "int", "Filenum": "int", "Create_DtTm": "datetime",
        "Create_ID": "int", "Edit_DtTm": "datetime", "Edit_ID": "int", "Sanct_DtTm": "datetime", "Sanct_ID": "int", "DocType": "int",
        "File_Format": "smallint", "Note_ID": "int", "Status_Enum": "smallint", "Inst_ID": "int",
    },
    "ObjFilenames": {"OBJ_ID": "int", "PageNumber": "smallint", "eSCANFilename": "varchar"},
    "Prompt": {"PGroup": "char", "Enum": "int", "Text": "varchar"},
}
KEYS = {"ObjFilenames": ("OBJ_ID", "PageNumber"), "Prompt": ("PGroup", "Enum")}  # otherwise the first column, as pymedphys indexes the CSVs

_PYTHON_SIDE: dict[str, type[TypeEngine]] = {
    "int": Integer, "smallint": Integer, "tinyint": Integer, "bigint": Integer, "bit": Boolean,
    "decimal": Float, "float": Float, "real": Float, "numeric": Float, "datetime": DateTime,
    "varchar": String, "char": String, "nvarchar": String, "text": String,
    "binary": LargeBinary, "varbinary": LargeBinary, "timestamp": LargeBinary, "image": LargeBinary,
}


@cache
def extract_tables() -> dict[str, dict[str, str]]:
    """The real extract's tables: name -> column -> SQL Server type, in the extract's column order."""
    with TYPES_MAP.open("rb") as f:
        return {table: {column: str(kind).lower() for column, kind in columns.items()} for table, columns in tomllib.load(f).items()}


def demo_tables() -> dict[str, dict[str, str]]:
    """Every table of the demo database: the extract's, then the ones defined from public code."""
    return {**extract_tables(), **EXTRA_TABLES}


def _ddl(name: str, columns: dict[str, str]) -> str:
    key = ", ".join(f'"{c}"' for c in KEYS.get(name, (next(iter(columns)),)))
    body = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    return f'CREATE TABLE "{name}" ({body}, PRIMARY KEY ({key}))'


def create_tables(conn: Connection, tables: dict[str, dict[str, str]]) -> dict[str, Table]:
    """Create the tables with their real type names; return SQLAlchemy tables to insert rows through."""
    metadata = MetaData()
    handles: dict[str, Table] = {}
    for name, columns in tables.items():
        conn.execute(text(_ddl(name, columns)))
        handles[name] = Table(name, metadata, *(Column(c, _PYTHON_SIDE[kind]()) for c, kind in columns.items()))
    return handles
