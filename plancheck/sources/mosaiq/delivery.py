"""Control points from TxFieldPoint.

Leaf sets are little-endian int16 in 1/100 cm, always 200 bytes: only the first
``MLC_Leaves`` values are leaves, the rest is zero padding. Machines that keep Y1/X1 as
distances keep leaf bank A the same way (:mod:`jaws`); both are turned to signed IEC here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import open_mosaiq
from plancheck.sources.mosaiq.jaws import IEC, JawConvention

SIGNED_IEC = JawConvention(IEC, source="assumed")


def decode_leaves_mm(raw: bytes | None, where: str, leaves: int | None = None) -> np.ndarray:
    """A_Leaf_Set / B_Leaf_Set bytes to the first ``leaves`` positions in mm (all of them when None)."""
    if raw is None or len(raw) % 2:
        raise SourceError(f"leaf set of {0 if raw is None else len(raw)} bytes is not a whole number of int16 values", where=where)
    values = np.frombuffer(bytes(raw), dtype="<i2")
    if leaves is not None:
        if not 0 <= leaves <= len(values):
            raise SourceError(f"MLC_Leaves is {leaves} but the leaf set holds {len(values)} values", where=where)
        values = values[:leaves]
    return values.astype(float) / 10.0


def encode_leaves(positions_mm: Any, pad_to: int = 0) -> bytes:
    """Leaf positions in mm to MOSAIQ's int16 1/100 cm bytes, zero-padded to ``pad_to`` values (real MOSAIQ: 100)."""
    values = np.round(np.asarray(positions_mm, dtype=float) * 10.0).astype("<i2")
    return np.pad(values, (0, max(0, pad_to - len(values)))).astype("<i2").tobytes()


def as_control_points(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MOSAIQ may keep a static field as one TxFieldPoint; DICOM and pymedphys see two
    (meterset weight 0 and 1, same shape). Normalise to the two."""
    if len(points) != 1:
        return points
    return [{**points[0], "Index": 0.0}, {**points[0], "Index": 1.0, "Point": points[0]["Point"] + 1}]


def _banks(points: list[dict[str, Any]], where: str, convention: JawConvention) -> tuple[np.ndarray, np.ndarray]:
    def bank(p: dict[str, Any], column: str) -> np.ndarray:
        leaves = p.get("MLC_Leaves")
        return decode_leaves_mm(p.get(column), f"{where} Point {p['Point']}", None if leaves is None else int(leaves))

    banks_a, banks_b = [bank(p, "A_Leaf_Set") for p in points], [bank(p, "B_Leaf_Set") for p in points]
    if len({len(x) for x in banks_a + banks_b}) != 1:
        raise SourceError("control points have different numbers of leaves (MLC_Leaves)", where=where)
    a, b = np.array(banks_a), np.array(banks_b)
    return (-a if convention.distance else a), b


def delivery_from_points(meterset: float, points: list[dict[str, Any]], where: str, convention: JawConvention = SIGNED_IEC) -> Delivery:
    """One field's TxFieldPoint rows (ordered by Point) to a Delivery, in signed IEC."""
    if not points:
        raise SourceError("field has no control points (TxFieldPoint)", where=where)
    points = as_control_points(points)
    index = np.array([float(p.get("Index") or 0.0) for p in points])
    if index[-1] <= 0:
        raise SourceError("control points have no meterset weight (Index)", where=where)
    a, b = _banks(points, where, convention)
    cm = lambda key: np.array([float(p.get(key) or 0.0) for p in points])  # noqa: E731
    y1 = -cm("Coll_Y1") if convention.distance else cm("Coll_Y1")
    return Delivery.from_banks(float(meterset) * index / index[-1], cm("Gantry_Ang"), cm("Coll_Ang"), a, b, y1 * 10.0, cm("Coll_Y2") * 10.0)


def delivery_from_mosaiq(url_or_engine: str | Engine, field_id: int) -> Delivery:
    """One field's planned delivery, as pymedphys' ``Delivery.from_mosaiq`` reads it (signed IEC)."""
    from plancheck.sources.mosaiq.jaws import find
    from plancheck.sources.mosaiq.settings import MosaiqSettings

    db = open_mosaiq(url_or_engine)
    d = db.schema
    rows = db.rows(queries.fields_by_id(d, [int(field_id)]))
    if not rows:
        raise SourceError(f"no field with FLD_ID {field_id}", where=db.where)
    field = rows[0]
    convention = find(db, field.get("Machine_ID_Staff_ID"), str(field.get("Machine_Last_Name") or ""), MosaiqSettings())
    points = db.rows(queries.field_points(d, [int(field_id)]))
    return delivery_from_points(field.get("Meterset") or 0.0, points, f"TxField FLD_ID={field_id}", convention)
