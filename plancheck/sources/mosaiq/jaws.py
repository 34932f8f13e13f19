"""How each machine stores its jaws and leaves in TxFieldPoint, found from the data.

Elekta machines keep signed IEC 61217 positions: Coll_Y2 - Coll_Y1 = Field_Y. Varian and
Siemens machines keep Y1 and X1 (and leaf bank A) as positive distances from the axis:
Coll_Y1 + Coll_Y2 = Field_Y. A control point whose jaws fit one rule and not the other is
evidence; plancheck.toml ``[mosaiq] jaw_convention`` overrides it for a machine.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plancheck.sources.mosaiq import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from plancheck.sources.mosaiq.connect import Mosaiq
    from plancheck.sources.mosaiq.settings import MosaiqSettings

IEC, DISTANCE = "iec", "distance"


@dataclass(frozen=True)
class JawConvention:
    """A machine's convention, the points that showed it, and where the answer came from."""

    convention: str  # iec | distance
    iec_points: int = 0
    distance_points: int = 0
    source: str = "data"  # data | plancheck.toml | assumed (no point told) | default (no Field_Y: said once by discovery)

    @property
    def distance(self) -> bool:
        return self.convention == DISTANCE

    def describe(self, machine: str) -> str:
        counts = f"{self.iec_points} control points fit signed IEC, {self.distance_points} fit distances"
        name = "signed IEC (Elekta)" if self.convention == IEC else "Y1/X1 as distances (Varian, Siemens)"
        return f"{machine}: {name}, from {self.source} ({counts})"

    @property
    def doubt(self) -> str:
        """Why the answer may be wrong ('' when the data were clear)."""
        if self.source == "assumed":
            return "no control point tells the jaw convention apart; signed IEC assumed: set [mosaiq] jaw_convention in plancheck.toml"
        if self.source == "data" and self.iec_points and self.distance_points:
            return "control points fit both jaw conventions; the majority is used: set [mosaiq] jaw_convention in plancheck.toml"
        return ""


_FOUND: weakref.WeakKeyDictionary[Engine, dict[int, JawConvention]] = weakref.WeakKeyDictionary()


def from_counts(iec: int, distance: int) -> JawConvention:
    if not iec and not distance:
        return JawConvention(IEC, 0, 0, "assumed")
    return JawConvention(DISTANCE if distance > iec else IEC, iec, distance)


def find(db: Mosaiq, machine_id: int | None, machine_name: str, settings: MosaiqSettings) -> JawConvention:
    """The convention of one machine: plancheck.toml's, else from its latest fields (cached per engine)."""
    if machine_name.upper() in settings.jaw_convention:
        return JawConvention(settings.jaw_convention[machine_name.upper()], source="plancheck.toml")
    d = db.schema
    if machine_id is None or not d.has("TxField", "Machine_ID_Staff_ID") or not d.has("TxFieldPoint", "Field_Y"):
        return JawConvention(IEC, source="default")
    found = _FOUND.setdefault(db.engine, {})
    if int(machine_id) not in found:
        row = db.rows(queries.jaw_evidence(d, int(machine_id)))[0]
        count = lambda name: int(row.get(f"{name}_Y") or 0) + int(row.get(f"{name}_X") or 0)  # noqa: E731
        found[int(machine_id)] = from_counts(count("iec"), count("distance"))
    return found[int(machine_id)]


def to_iec(one: float | None, convention: JawConvention) -> float | None:
    """Coll_Y1 / Coll_X1 (or a bank-A leaf) as a signed IEC position."""
    if one is None:
        return None
    return -one if convention.distance else one
