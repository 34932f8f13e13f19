"""What MOSAIQ's codes and texts mean (evidence for each in docs/mosaiq.md)."""

from __future__ import annotations

import datetime as dt
import re

# TxField.Type_Enum
FIELD_TYPES = {
    0: "UNSPECIFIED", 1: "STATIC", 2: "STEPNSHOOT", 3: "SETUP", 4: "KV SETUP", 5: "CT", 6: "PORT", 7: "FIXED", 8: "DYNAMIC",
    9: "MV CT", 11: "ARC", 12: "SKIP ARCS", 13: "VMAT", 14: "DMLC", 15: "HELICAL", 16: "FIXED ANGLE", 17: "PATH", 18: "SHOT",
    20: "USER", 21: "PDR",
}
NOT_TREATMENT = frozenset({3, 4, 5, 6, 9})  # set-up, kV set-up, CT, port film, MV CT: imaging, never treatment beams

# TxField.Modality_Enum (Site.Modality_Enum, Dose_Hst.Modality_Enum)
MODALITIES = {
    1: "photon", 2: "electron", 3: "cobalt-60", 4: "orthovoltage", 5: "electron", 6: "proton", 7: "kV",
    8: "brachytherapy (Ir-192)", 9: "ion", 20: "user-defined",
}
CHECKED_MODALITIES = frozenset({"photon", "electron"})  # the modalities plancheck has rule sets for

# TxFieldPoint.Energy_Unit_Enum
ENERGY_UNITS = {1: "kV", 2: "MV", 3: "MeV"}
# TxFieldPoint.Gantry_Dir_Enum (0: unspecified, as on the first point of real arcs)
GANTRY_DIRECTIONS = {1: "CW", 2: "CC", 3: "NONE"}
# Site.Status_Enum
SITE_STATUS = {0: "unknown", 1: "void", 2: "closed", 3: "complete", 4: "hold", 5: "approved", 6: "process lock", 7: "pending"}
SITE_VOID = 1
SITE_APPROVED = (3, 5)
# Object.Status_Enum
OBJECT_VOID = 1
OBJECT_APPROVED = frozenset({5, 8, 9})  # approved, signed, co-signed / approved
# Chklist.Act_DtTm on a task not yet done
PLACEHOLDER_BEFORE = dt.datetime(1900, 1, 1)

_RX = re.compile(r"^\s*(?P<kind>x(?:[\s-]*rays?)?|e(?:lectrons?|lect)?|p(?:hotons?)?)\s*(?P<energy>\d+(?:\.\d+)?)?\s*(?P<rest>.*)$", re.IGNORECASE)


def prescribed(modality_text: str) -> tuple[str | None, str | None]:
    """Site.Modality text to (modality, energy): 'x06' -> photon 6X, 'e12' -> electron 12E,
    'x10MV' -> 10X, 'Xray6FFFFF' -> 6FFF; 'Xrays' / 'Electrons' name no energy."""
    match = _RX.match(modality_text or "")
    if not match:
        return None, None
    electron = match["kind"][0].lower() == "e"
    kind = "electron" if electron else "photon"
    if match["energy"] is None:
        return kind, None
    label = f"{float(match['energy']):g}"
    if electron:
        return kind, f"{label}E"
    return kind, f"{label}FFF" if "FFF" in match["rest"].upper() else f"{label}X"


def beam_energy(energy: int | None, unit: int | None, modality: str | None, fff: bool) -> str | None:
    """TxFieldPoint.Energy with its unit to '6X', '10FFF', '9E'; None where plancheck has no label for it."""
    if energy is None or energy <= 0:
        return None
    unit_name = ENERGY_UNITS.get(unit or 0)
    if modality == "electron" or (modality is None and unit_name == "MeV"):
        return f"{energy:g}E"
    if modality == "photon" or (modality is None and unit_name == "MV"):
        return f"{energy:g}{'FFF' if fff else 'X'}"
    return None


def beam_modality(code: int | None, unit: int | None) -> str | None:
    """Modality_Enum to plancheck's word; when it is 0 or absent, the energy unit (MV photon, MeV electron)."""
    if code in MODALITIES:
        return MODALITIES[code]
    return {2: "photon", 3: "electron"}.get(unit or 0)


def real_date(value: dt.datetime | None) -> dt.datetime | None:
    """A date, or None for MOSAIQ's 1801-01-01 'not done' placeholder."""
    return None if value is None or value < PLACEHOLDER_BEFORE else value


def appointment_cancelled(status: str | None) -> bool:
    """Schedule status 'X' is cancelled; ' C', 'OC', 'SC', 'FC' (stripped: 'C') are completed."""
    return (status or "").strip().upper() == "X"


def version_order(version: int | None) -> int:
    """Sort key, oldest first: archived versions count down from 32000, and 0 is the current one."""
    if version is None:
        return 0
    return 1 << 20 if version == 0 else 32001 - version
