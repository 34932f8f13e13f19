"""Control points from TxFieldPoint: leaf sets are little-endian int16 in 1/100 cm."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import open_mosaiq
from plancheck.sources.mosaiq.schema import TxField


def decode_leaves_mm(raw: bytes | None, where: str) -> np.ndarray:
    """A_Leaf_Set / B_Leaf_Set bytes to leaf positions in mm."""
    if raw is None or len(raw) % 2:
        raise SourceError(f"leaf set of {0 if raw is None else len(raw)} bytes is not a whole number of int16 values", where=where)
    return np.frombuffer(bytes(raw), dtype="<i2").astype(float) / 10.0


def encode_leaves(positions_mm: Any) -> bytes:
    """Leaf positions in mm to MOSAIQ's int16 1/100 cm bytes (used by the demo database)."""
    return np.round(np.asarray(positions_mm, dtype=float) * 10.0).astype("<i2").tobytes()


def as_control_points(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MOSAIQ may keep a static field as one TxFieldPoint; DICOM and pymedphys see two
    (meterset weight 0 and 1, same shape). Normalise to the two."""
    if len(points) != 1:
        return points
    return [{**points[0], "Index": 0.0}, {**points[0], "Index": 1.0, "Point": points[0]["Point"] + 1}]


def delivery_from_points(meterset: float, points: list[dict[str, Any]], where: str) -> Delivery:
    """One field's TxFieldPoint rows (ordered by Point) to a Delivery."""
    if not points:
        raise SourceError("field has no control points (TxFieldPoint)", where=where)
    points = as_control_points(points)
    index = np.array([float(p["Index"]) for p in points])
    if index[-1] <= 0:
        raise SourceError("control points have no meterset weight (Index)", where=where)
    a = np.array([decode_leaves_mm(p["A_Leaf_Set"], f"{where} Point {p['Point']}") for p in points])
    b = np.array([decode_leaves_mm(p["B_Leaf_Set"], f"{where} Point {p['Point']}") for p in points])
    cm = lambda key: np.array([float(p[key] or 0.0) for p in points])  # noqa: E731
    return Delivery.from_banks(
        float(meterset) * index / index[-1], cm("Gantry_Ang"), cm("Coll_Ang"), a, b, cm("Coll_Y1") * 10.0, cm("Coll_Y2") * 10.0
    )


def delivery_from_mosaiq(url_or_engine: str | Engine, field_id: int) -> Delivery:
    db = open_mosaiq(url_or_engine)
    field = db.rows(select(TxField.c.Meterset).where(TxField.c.FLD_ID == int(field_id)))
    if not field:
        raise SourceError(f"no field with FLD_ID {field_id}", where=db.where)
    points = db.rows(queries.field_points([int(field_id)]))
    return delivery_from_points(field[0]["Meterset"], points, f"TxField FLD_ID={field_id}")
