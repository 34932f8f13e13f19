"""Rows of one MOSAIQ field (TxField) and its control points (TxFieldPoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plancheck.errors import SourceError
from plancheck.sources import Reading
from plancheck.sources.mosaiq.delivery import as_control_points, delivery_from_points
from plancheck.sources.mosaiq.jaws import JawConvention, to_iec
from plancheck.sources.mosaiq.meanings import CHECKED_MODALITIES, FIELD_TYPES, GANTRY_DIRECTIONS, NOT_TREATMENT, beam_energy, beam_modality
from plancheck.units import angle_iec, gantry_direction, text
from plancheck.table import Param, iso

SOURCE = "mosaiq"


def p(scope: str, beam: str, param: str, value: Any, unit: str, where: str, item: str = "") -> Param:
    return Param(scope, beam, param, value, unit, SOURCE, where, item)


@dataclass
class Field:
    """One current field with its control points and its machine's jaw convention."""

    row: dict[str, Any]
    points: list[dict[str, Any]]
    convention: JawConvention
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.label = text(self.row.get("Field_Label")) or str(self.row["FLD_ID"])

    @property
    def where(self) -> str:
        return f"TxField FLD_ID={self.row['FLD_ID']}"

    @property
    def treatment(self) -> bool:
        return self.row.get("Type_Enum") not in NOT_TREATMENT

    @property
    def modality(self) -> str | None:
        unit = self.points[0].get("Energy_Unit_Enum") if self.points else None
        return beam_modality(self.row.get("Modality_Enum"), unit)

    @property
    def machine(self) -> str:
        return text(self.row.get("Machine_Last_Name")).upper()


def field_rows(f: Field, reading: Reading) -> list[Param]:
    """The field's rows; its Delivery into ``reading`` (photon treatment fields with leaves)."""
    r, label, where = f.row, f.label, f.where
    code = r.get("Type_Enum")
    rows = [
        p("beam", label, "beam_name", text(r.get("Field_Name")), "", where),
        p("beam", label, "setup_field", not f.treatment, "", where),
        p("beam", label, "beam_approved", r.get("Sanct_DtTm") is not None, "", where),
    ]
    optional = {
        "machine": f.machine or None,
        "modality": f.modality,
        "beam_type": None if code is None else FIELD_TYPES.get(code, f"TYPE {code}"),
        "beam_edited_date": iso(r.get("Edit_DtTm")),
    }
    rows += [p("beam", label, k, v, "", where) for k, v in optional.items() if v is not None]
    for param, column in (("sad_mm", "Sad"), ("ssd_mm", "Ssd")):
        if r.get(column):  # 0 is "not recorded" (150 real fields, photon ones among them, have Sad 0)
            rows.append(p("beam", label, param, round(float(r[column]) * 10.0, 2), "mm", where))
    if f.treatment and r.get("Meterset") is not None:
        rows.append(p("beam", label, "mu", round(float(r["Meterset"]), 4), "MU", where))
    if not f.points:
        if f.treatment:
            reading.warnings.append(f"{where} (field {label}): no control points in TxFieldPoint; control-point checks skipped for it")
        return rows
    rows += _point_rows(f)
    _add_delivery(f, reading)
    return rows


def _point_rows(f: Field) -> list[Param]:
    first, last = f.points[0], f.points[-1]
    label, fld = f.label, f.row["FLD_ID"]
    pw, lw = f"TxFieldPoint FLD_ID={fld} Point={first['Point']}", f"TxFieldPoint FLD_ID={fld} Point={last['Point']}"
    rows = [p("beam", label, "control_points", len(as_control_points(f.points)), "", f.where)]
    if first.get("Gantry_Ang") is not None and last.get("Gantry_Ang") is not None:
        codes = [GANTRY_DIRECTIONS[c] for c in (pt.get("Gantry_Dir_Enum") for pt in f.points) if c in GANTRY_DIRECTIONS]
        rows += [
            p("beam", label, "gantry_start", angle_iec(first["Gantry_Ang"]), "deg", pw),
            p("beam", label, "gantry_stop", angle_iec(last["Gantry_Ang"]), "deg", lw),
            p("beam", label, "gantry_direction", gantry_direction(first["Gantry_Ang"], last["Gantry_Ang"], codes[0] if codes else None), "", pw),
        ]
    for param, column in (("collimator", "Coll_Ang"), ("couch", "Couch_Ang")):
        if first.get(column) is not None:
            rows.append(p("beam", label, param, angle_iec(first[column]), "deg", pw))
    energy = beam_energy(first.get("Energy"), first.get("Energy_Unit_Enum"), f.modality, bool(f.row.get("IsFFF")))
    if energy is not None:
        rows.append(p("beam", label, "energy", energy, "", pw))
    jaws = {
        "jaw_x1_mm": to_iec(first.get("Coll_X1"), f.convention), "jaw_x2_mm": first.get("Coll_X2"),
        "jaw_y1_mm": to_iec(first.get("Coll_Y1"), f.convention), "jaw_y2_mm": first.get("Coll_Y2"),
    }
    rows += [p("beam", label, k, round(float(v) * 10.0, 2) + 0.0, "mm", pw) for k, v in jaws.items() if v is not None]
    return rows


def _add_delivery(f: Field, reading: Reading) -> None:
    if not f.treatment or f.row.get("Meterset") is None or f.modality not in CHECKED_MODALITIES:
        return
    if f.modality == "photon" and any(pt.get("MLC_Leaves") == 0 for pt in f.points):
        reading.warnings.append(f"{f.where} (field {f.label}): no MLC leaves (TxFieldPoint.MLC_Leaves 0); MU-density checks skip it")
        return
    if f.modality != "photon":
        return
    try:
        reading.deliveries[f.label] = delivery_from_points(f.row["Meterset"], f.points, f.where, f.convention)
    except SourceError as exc:
        reading.warnings.append(f"field {f.label}: {exc.message}")
