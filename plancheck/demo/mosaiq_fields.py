"""Treatment and imaging fields as MOSAIQ stores them: TxField and TxFieldPoint rows.

Written from the real rows of the pymedphys extract (docs/demo-mosaiq.md): lengths in cm,
leaf sets of 200 bytes (100 little-endian int16 in 1/100 cm, zero after ``MLC_Leaves``),
``Index`` as the cumulative meterset in percent, one point for a static field, the gantry
direction of each point towards the next (3, none, on the last and on static fields), FFF as
``TxField.IsFFF``, and collimator values in the machine's own convention: Elekta machines store
signed IEC jaws and leaves; Varian machines store X1, Y1 and both leaf banks as positive
distances from the axis (bank A on the X2 side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydicom

LEAF_SLOTS = 100  # int16 values per leaf set: always 200 bytes in the real rows
ELEKTA, VARIAN = "elekta", "varian"
DIRECTION = {"CW": 1, "CC": 2, "NONE": 3}  # TxFieldPoint.Gantry_Dir_Enum; 0 is "unspecified"
MV, MEV, KV = 2, 3, 1  # TxFieldPoint.Energy_Unit_Enum
STATIC, SETUP, KV_SETUP, CT, PORT, MV_CT, VMAT = 1, 3, 4, 5, 6, 9, 13  # TxField.Type_Enum
PHOTONS, ELECTRONS = 1, 2  # TxField.Modality_Enum (0 on kV and CT imaging fields)


@dataclass(frozen=True)
class Machine:
    staff_id: int
    name: str
    initials: str
    convention: str  # ELEKTA | VARIAN
    mlc_type: int  # TxFieldPoint.MLC_Type seen on the vendor's real rows: 2 Elekta, 5 Varian


@dataclass
class FieldSpec:
    """One field, before MOSAIQ ids are given: TxField values and its TxFieldPoint values."""

    label: str
    name: str
    type_enum: int
    modality_enum: int
    meterset: float | None
    machine: Machine
    points: list[dict[str, Any]]
    is_fff: bool = False
    is_hidden: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def leaf_set(positions_cm: list[float]) -> bytes:
    """Leaf positions (cm) to MOSAIQ's 200-byte leaf set: int16 1/100 cm, zero-padded."""
    hundredths = [round(p * 100.0) for p in positions_cm]
    if len(hundredths) > LEAF_SLOTS:
        raise ValueError(f"{len(hundredths)} leaves do not fit MOSAIQ's {LEAF_SLOTS} slots")
    padded = hundredths + [0] * (LEAF_SLOTS - len(hundredths))
    return b"".join(v.to_bytes(2, "little", signed=True) for v in padded)


def collimation(machine: Machine, bank_a_mm: list[float], bank_b_mm: list[float], y_mm: tuple[float, float]) -> dict[str, Any]:
    """IEC 61217 leaves and jaws (mm, DICOM banks) to the TxFieldPoint columns of ``machine``."""
    a = [v / 10.0 for v in bank_a_mm]
    b = [v / 10.0 for v in bank_b_mm]
    y1, y2 = y_mm[0] / 10.0, y_mm[1] / 10.0
    open_pairs = [(lo, hi) for lo, hi in zip(a, b, strict=True) if hi - lo > 0.05] or [(-20.0, 20.0)]
    if machine.convention == VARIAN:  # X jaws follow the MLC opening; all distances positive when open
        x1, x2 = round(-min(lo for lo, _ in open_pairs), 1), round(max(hi for _, hi in open_pairs), 1)
        cols: dict[str, Any] = {"Coll_X1": x1, "Coll_X2": x2, "Field_X": round(x1 + x2, 1)}
        cols |= {"Coll_Y1": round(-y1, 1), "Coll_Y2": round(y2, 1), "Field_Y": round(round(-y1, 1) + round(y2, 1), 1)}
        cols |= {"A_Leaf_Set": leaf_set(b), "B_Leaf_Set": leaf_set([-v for v in a])}  # bank A at X2, bank B at X1
    else:  # Elekta Agility has no X jaws: its real rows carry X1 -20, X2 20, Field_X 40
        cols = {"Coll_X1": -20.0, "Coll_X2": 20.0, "Field_X": 40.0}
        cols |= {"Coll_Y1": round(y1, 1), "Coll_Y2": round(y2, 1), "Field_Y": round(round(y2, 1) - round(y1, 1), 1)}
        cols |= {"A_Leaf_Set": leaf_set(a), "B_Leaf_Set": leaf_set(b)}
    return cols | {"MLC_Leaves": len(a), "MLC_Type": machine.mlc_type if a else 0}


def _device(cp: pydicom.Dataset, kind: str) -> list[float] | None:
    for dev in cp.get("BeamLimitingDevicePositionSequence", []):
        if dev.RTBeamLimitingDeviceType == kind:
            return [float(v) for v in dev.LeafJawPositions]
    return None


def beam_points(beam: pydicom.Dataset, machine: Machine, energy: int, unit: int = MV) -> list[dict[str, Any]]:
    """TxFieldPoint values of an RT Plan beam: every control point of a dynamic beam, one for a static one."""
    cps = list(beam.ControlPointSequence)
    final = float(beam.get("FinalCumulativeMetersetWeight", 1.0) or 1.0)
    static = str(beam.BeamType).upper() == "STATIC"
    leaves, y, gantry, direction = _device(cps[0], "MLCX") or [], _device(cps[0], "ASYMY") or [-100.0, 100.0], cps[0].GantryAngle, "NONE"
    points = []
    for i, cp in enumerate(cps[:1] if static else cps):
        leaves, y = _device(cp, "MLCX") or leaves, _device(cp, "ASYMY") or y
        gantry, direction = cp.get("GantryAngle", gantry), str(cp.get("GantryRotationDirection", direction))
        n = len(leaves) // 2
        last = static or i == len(cps) - 1
        points.append({
            "Point": i, "Index": round(100.0 * float(cp.CumulativeMetersetWeight) / final, 3), "Gantry_Ang": float(gantry) % 360.0,
            "Gantry_Dir_Enum": DIRECTION["NONE"] if last else DIRECTION.get(direction, 0), "Coll_Ang": float(cps[0].BeamLimitingDeviceAngle),
            "Coll_Dir_Enum": 3, "Couch_Ang": float(cps[0].get("PatientSupportAngle", 0.0)), "Couch_Ang_Dir_Enum": 3,
            "Energy": energy, "Energy_Unit_Enum": unit, **collimation(machine, leaves[:n], leaves[n:], (y[0], y[1])),
        })
    return points


def imaging_field(label: str, name: str, type_enum: int, machine: Machine) -> FieldSpec:
    """A set-up or imaging field as real rows hold them: one point, no MU; kV and CT fields have modality 0, kV units, no jaws."""
    kv = type_enum in (KV_SETUP, CT)
    point: dict[str, Any] = {"Point": 0, "Index": 0.0, "Gantry_Ang": 0.0, "Gantry_Dir_Enum": 3, "Coll_Ang": 0.0, "Coll_Dir_Enum": 3,
                             "Couch_Ang": 0.0, "Couch_Ang_Dir_Enum": 3, "MLC_Leaves": 0, "MLC_Type": 0,
                             "A_Leaf_Set": leaf_set([]), "B_Leaf_Set": leaf_set([])}
    if kv:
        point |= {"Energy": None, "Energy_Unit_Enum": KV}
    else:  # MV set-up / port images: a 6 MV open field, jaws in the machine's convention
        jaws = collimation(machine, [], [], (-75.0, 75.0))
        point |= {"Energy": 6, "Energy_Unit_Enum": MV} | {k: v for k, v in jaws.items() if k.startswith(("Coll_", "Field_"))}
    meterset = 2.0 if type_enum == PORT else 0.0
    return FieldSpec(label, name, type_enum, 0 if kv else PHOTONS, meterset, machine, [point])


def electron_field(label: str, name: str, energy_mev: int, applicator: str, meterset: float, gantry: float, machine: Machine) -> FieldSpec:
    """An electron field: MeV units, no leaves, the applicator in ``Wdg_Appl`` (as the real electron rows)."""
    point = {"Point": 0, "Index": 0.0, "Gantry_Ang": gantry, "Gantry_Dir_Enum": 3, "Coll_Ang": 0.0, "Coll_Dir_Enum": 3,
             "Couch_Ang": 0.0, "Couch_Ang_Dir_Enum": 3, "Energy": energy_mev, "Energy_Unit_Enum": MEV, "MLC_Leaves": 0, "MLC_Type": 0,
             "A_Leaf_Set": leaf_set([]), "B_Leaf_Set": leaf_set([]), "Coll_X1": 0.0, "Coll_X2": 0.0, "Field_X": 0.0,
             "Coll_Y1": 0.0, "Coll_Y2": 0.0, "Field_Y": 0.0}
    return FieldSpec(label, name, STATIC, ELECTRONS, meterset, machine, [point], extra={"Wdg_Appl": applicator, "Mlc": 0})
