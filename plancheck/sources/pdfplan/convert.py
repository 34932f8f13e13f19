"""Text from a printout to a vocabulary value: numbers with their units, angles, energies, names, dates.

Every value leaves here in the unit the vocabulary names (mm, cGy, MU, %, deg,
s), so a PDF printed in cm and Gy compares directly with MOSAIQ and DICOM.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from collections.abc import Mapping, Sequence

from plancheck.units import angle_iec, energy
from plancheck.vocabulary import VOCABULARY

# unit as printed (case-folded) -> (vocabulary unit, factor)
UNITS: dict[str, tuple[str, float]] = {
    "mm": ("mm", 1.0),
    "cm": ("mm", 10.0),
    "m": ("mm", 1000.0),
    "cgy": ("cGy", 1.0),
    "gy": ("cGy", 100.0),
    "mgy": ("cGy", 0.1),
    "mu": ("MU", 1.0),
    "%": ("%", 1.0),
    "deg": ("deg", 1.0),
    "°": ("deg", 1.0),
    "degrees": ("deg", 1.0),
    "s": ("s", 1.0),
    "sec": ("s", 1.0),
    "min": ("s", 60.0),
    "mm/s": ("mm/s", 1.0),
    "deg/s": ("deg/s", 1.0),
}

TRUE_WORDS = {"yes", "y", "true", "approved", "signed", "pass", "passed", "ok"}
FALSE_WORDS = {"no", "n", "false", "unapproved", "not approved", "unsigned", "rejected", "fail", "failed"}
DIRECTIONS = {"CW": "CW", "CC": "CC", "CCW": "CC", "NONE": "NONE", "": "NONE"}
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")

_NUMBER = re.compile(r"\s*([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+)\s*(?:[\[(]?\s*([^\s\d\])][^\s\])]*)\s*[\])]?)?\s*")


class ConvertError(ValueError):
    """Text that does not read as the value the parameter needs."""


def unit_key(unit: str) -> str:
    return unit.strip().strip("[]()").strip().casefold()


def target_unit(param: str) -> str:
    """The unit the vocabulary keeps ``param`` in ('' for counts)."""
    spec = VOCABULARY[param]
    return "deg" if spec.value_type == "angle" else spec.unit


def unit_fits(unit: str, param: str) -> bool:
    """Whether a printed ``unit`` converts to the vocabulary unit of ``param``."""
    known = UNITS.get(unit_key(unit))
    return known is not None and known[0] == target_unit(param)


def number(text: str, unit: str | None, param: str) -> float | int:
    """'94.90', '2.000 Gy', '1,234.5 MU', '-20.00' -> a float in the vocabulary unit (int for counts)."""
    cleaned = text.replace("\u2212", "-").replace("\u00a0", " ")
    match = _NUMBER.fullmatch(cleaned)
    if not match:
        raise ConvertError(f"{text!r} is not a number")
    value = float(match.group(1).replace(",", ""))
    printed_unit = match.group(2)
    want = target_unit(param)
    source_unit = printed_unit or unit
    if source_unit:
        known = UNITS.get(unit_key(source_unit))
        if known is None or known[0] != want:
            raise ConvertError(f"{text!r}: unit {source_unit!r} is not a unit of {param} ({want or 'a count'})")
        value *= known[1]
    elif want == "" and printed_unit:
        raise ConvertError(f"{text!r}: {param} is a count, not a quantity with a unit")
    value = round(value, 6)
    if want == "" and value.is_integer():
        return int(value)
    return value


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = " ".join(str(value).split()).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConvertError(f"{value!r} is not yes/no; add it to the field's map (e.g. map: {{'{value}': true}})")


def date(value: str, formats: Sequence[str]) -> str:
    """Printed date (or date and time) -> ISO 8601 text, trying ``formats`` then ISO forms."""
    text = " ".join(str(value).split())
    for fmt in (*formats, *ISO_FORMATS):
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        has_time = any(code in fmt for code in ("%H", "%I", "%M"))
        return parsed.replace(microsecond=0).isoformat() if has_time else parsed.date().isoformat()
    raise ConvertError(f"{text!r} does not match the date format(s) {', '.join(formats) or 'ISO 8601'}")


def person_name(value: str, order: str = "last_first") -> str:
    """'DOE, JOHN', 'Doe^John', 'John Doe' (order first_last) -> 'DOE^JOHN'."""
    text = " ".join(str(value).split())
    if "^" in text:
        parts = [p.strip() for p in text.split("^")]
    elif "," in text:
        parts = [p.strip() for p in text.split(",", 1)]
    elif order == "first_last" and " " in text:
        first, last = text.rsplit(" ", 1)
        parts = [last, first]
    else:
        parts = [text]
    return "^".join(p.upper() for p in parts[:2] if p) or text.upper()


def direction(value: str) -> str:
    code = " ".join(str(value).split()).upper().strip("-")
    if code not in DIRECTIONS:
        raise ConvertError(f"{value!r} is not a rotation direction (CW, CCW/CC, or none)")
    return DIRECTIONS[code]


def convert(param: str, raw: Any, *, unit: str | None = None, mapping: Mapping[str, Any] | None = None,
            date_formats: Sequence[str] = (), name_order: str = "last_first") -> Any:
    """One printed value to what the vocabulary holds for ``param``; ConvertError says why not."""
    value = raw
    if mapping and isinstance(raw, str):
        key = " ".join(raw.split()).casefold()
        for text, mapped in mapping.items():
            if " ".join(str(text).split()).casefold() == key:
                value = mapped
                break
    value_type = VOCABULARY[param].value_type
    if value_type == "bool":
        return boolean(value)
    if value_type in ("number", "angle"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result: float | int = value
        else:
            result = number(str(value), unit, param)
        return angle_iec(result) if value_type == "angle" else result
    text = " ".join(str(value).split())
    if value_type == "date":
        return date(text, date_formats)
    if param in ("energy", "rx_energy"):
        try:
            return energy(text)
        except ValueError as exc:
            raise ConvertError(str(exc)) from None
    if param == "gantry_direction":
        return direction(text)
    if param == "patient_name":
        return person_name(text, name_order)
    if param in ("machine", "beam_type", "technique"):
        return text.upper()
    return text
