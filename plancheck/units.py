"""Units and spellings normalised where values are read (energies, angles IEC 61217, text, names): below every source and the delivery model."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from collections.abc import Sequence

if TYPE_CHECKING:
    import numpy as np

def energy(value: object, modality: str | None = None, fff: bool = False) -> str:
    """'x06', '6 MV', 'Xrays 6', '6MV FFF', 6.0 -> '6X' / '6FFF'; '6E', '9 MeV', electrons -> '9E'."""
    raw = str(value).strip().upper()
    match = re.search(r"\d+(?:\.\d+)?", raw)
    if not match:
        raise ValueError(f"cannot read an energy from {value!r}")
    label = f"{float(match.group()):g}"
    electron = (modality or "").lower().startswith("e") or bool(
        re.search(r"(^E|ELECTRON|MEV|\dE$|\d\s*E\b)", raw)
    )
    if electron:
        return f"{label}E"
    return f"{label}FFF" if fff or "FFF" in raw or "SRS" in raw else f"{label}X"


def modality(value: object) -> str:
    text = str(value).strip().lower()
    if text.startswith(("e", "elec")):
        return "electron"
    if text.startswith(("x", "ph", "pho")):
        return "photon"
    raise ValueError(f"unknown modality {value!r}")


def angle_iec(value: float) -> float:
    """Any angle in degrees to IEC 61217's 0 <= a < 360, rounded to 0.01 deg."""
    a = round(float(value) % 360.0, 2)
    return 0.0 if a >= 360.0 else a


def text(value: object) -> str:
    """MOSAIQ text columns are space-padded; None becomes ''."""
    return "" if value is None else str(value).strip()


def person_name(last: object, first: object) -> str:
    return f"{text(last).upper()}^{text(first).upper()}".rstrip("^")


def gantry_direction(start: float, stop: float, code: object = None) -> str:
    """CW, CC or NONE, from a code ('CW'/'CC'/1/2) where given, else from start and stop."""
    if code is not None and str(code).strip():
        c = str(code).strip().upper()
        if c in ("CW", "1"):
            return "CW"
        if c in ("CC", "CCW", "2"):
            return "CC"
        if c in ("NONE", "0"):
            return "NONE"
    return "NONE" if angle_iec(start) == angle_iec(stop) else "CW"


def bipolar(angles_iec: Sequence[float] | np.ndarray) -> np.ndarray:
    """IEC 0..360 angles to pymedphys' bipolar -180..180; a 180 takes the sign of its nearest neighbour."""
    import numpy as np

    a = np.asarray(angles_iec, dtype=float) % 360.0
    if np.all(a == 180.0):
        return a
    a = np.where(a > 180.0, a - 360.0, a)
    others = np.flatnonzero(a != 180.0)
    for i in np.flatnonzero(a == 180.0):
        nearest = others[np.argmin(np.abs(others - i))]
        if a[nearest] < 0:
            a[i] = -180.0
    return a
