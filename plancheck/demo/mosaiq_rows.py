"""MOSAIQ's row conventions shared by the demo's tables: ids, versions, padded text, fields.

Versions as the real Site and TxField rows keep them: every version is a row of its own; the
oldest row's id is the ``*_SET_ID`` of all; the current row has ``Version`` 0 and the older
ones 32000, 31999, ... in the order they were made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from plancheck.demo.mosaiq_fields import FieldSpec

FIRST_OLD_VERSION = 32000


class Ids:
    """Deterministic primary keys, one counter per table."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str, start: int = 1) -> int:
        self.next[table] = self.next.get(table, start) + 1
        return self.next[table] - 1


def pad(value: str, width: int) -> str:
    """A CHAR-like value: MOSAIQ keeps many text columns space-padded to their width."""
    return value.ljust(width)


def versioned(rows: list[dict[str, Any]], id_col: str, set_col: str, ids: Ids, table: str, start: int) -> list[dict[str, Any]]:
    """The versions of one record, oldest first, with ids, set id and Version numbers (last is current)."""
    out: list[dict[str, Any]] = []
    for k, row in enumerate(rows):
        row_id = ids(table, start)
        set_id = out[0][id_col] if out else row_id
        out.append({**row, id_col: row_id, set_col: set_id, "Version": 0 if k == len(rows) - 1 else FIRST_OLD_VERSION - k})
    return out


def field_rows(
    spec: FieldSpec, pat: int, sit_set: int, order: int, approved: dt.datetime, ids: Ids, edits: tuple[dict[str, Any], ...] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """TxField rows (one per version: ``edits`` are the older versions' differing values, oldest first) and their points."""
    base = {
        "Pat_ID1": pat, "SIT_Set_ID": sit_set, "Field_Label": spec.label, "Field_Name": spec.name, "Machine_ID_Staff_ID": spec.machine.staff_id,
        "Type_Enum": spec.type_enum, "Modality_Enum": spec.modality_enum, "Meterset": spec.meterset, "MetersetUnit_Enum": 1,
        "ControlPoints": len(spec.points), "IsFFF": spec.is_fff, "IsHidden": spec.is_hidden, "Sad": 100.0, "Ssd": None,
        "Mlc": int(any(p["MLC_Leaves"] for p in spec.points)), "Beam_Type_Flag": 1, "DisplaySequence": order,
        "Create_DtTm": approved - dt.timedelta(days=2), "Create_ID": 202, "Edit_DtTm": approved, "Edit_ID": 202,
        "Sanct_DtTm": approved, "Sanct_ID": 202, **spec.extra,
    }
    versions = [{**base, **edit, "Edit_DtTm": approved - dt.timedelta(days=len(edits) - k)} for k, edit in enumerate(edits)] + [base]
    fields = versioned(versions, "FLD_ID", "FLD_SET_ID", ids, "TxField", 1000)
    points = [
        {**point, "TFP_ID": ids("TxFieldPoint"), "FLD_ID": f["FLD_ID"], "Create_DtTm": f["Create_DtTm"], "Edit_DtTm": f["Edit_DtTm"]}
        for f in fields for point in spec.points
    ]
    return fields, points
