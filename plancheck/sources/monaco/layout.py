"""The Monaco tel.1 control-point layout as one declarative map, and the Monaco versions it covers.

A tel.1 holds, for every control point (Monaco "segment"), one block of lines::

    16 lines of 10 MLC positions   80 leaf pairs, each pair written as (bank A, bank B)
    13 lines of 6 one-digit flags  kept verbatim; their meaning is not published
    1 line  "1,1" or "2,2"         dynamic control point or static (step-and-shoot) segment
    6 lines of parameters          see PARAMETER_LINES

This is the layout pymedphys 0.41 reads (``pymedphys/_monaco/delivery.py``);
Monaco 5.51.10 added two values to the collimator line. Values named
``unknown_*`` sit where pymedphys expects a number but does not use it: the
reader keeps them, the writer writes zeros. Lines outside the blocks (the
plan and beam headers) are not published either; see ``telfile`` for what the
reader takes from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MLC_ROWS, MLC_PER_ROW = 16, 10
LEAF_PAIRS = MLC_ROWS * MLC_PER_ROW // 2
FLAG_ROWS, FLAG_PER_ROW = 13, 6

STATIC_CODE, DYNAMIC_CODE = "2,2", "1,1"


@dataclass(frozen=True)
class LineSpec:
    """One parameter line: the names of its values and those a later Monaco appends."""

    name: str
    fields: tuple[str, ...]
    extra: tuple[str, ...] = ()


PARAMETER_LINES: tuple[LineSpec, ...] = (
    LineSpec("gantry", ("unknown_2a", "gantry_deg")),
    LineSpec("collimator", ("collimator_deg",), extra=("unknown_3b", "unknown_3c")),
    LineSpec("line_4", ("unknown_4a", "unknown_4b", "unknown_4c", "unknown_4d")),
    LineSpec("mu", ("segment_mu", "unknown_5b", "unknown_5c", "unknown_5d")),
    LineSpec("jaws", ("unknown_6a", "jaw_gap_mm", "unknown_6c", "jaw_centre_mm")),
)

# block offsets, from the block's first line
TYPE_LINE = MLC_ROWS + FLAG_ROWS
FIRST_PARAMETER_LINE = TYPE_LINE + 1
BLOCK_LINES = FIRST_PARAMETER_LINE + len(PARAMETER_LINES)


@dataclass(frozen=True)
class Layout:
    """A variant of the block: which parameter lines carry their ``extra`` values."""

    name: str
    extended: frozenset[str]

    def width(self, spec: LineSpec) -> int:
        return len(spec.fields) + (len(spec.extra) if spec.name in self.extended else 0)

    def names(self, spec: LineSpec) -> tuple[str, ...]:
        return spec.fields + (spec.extra if spec.name in self.extended else ())


STANDARD = Layout("standard", frozenset())
MONACO_5_51_10 = Layout("5.51.10", frozenset({"collimator"}))
LAYOUTS = {layout.name: layout for layout in (STANDARD, MONACO_5_51_10)}

# Monaco versions plancheck knows; the layout changed at 5.51.10 and 6.x keeps it.
FIRST_KNOWN_VERSION, FIRST_UNKNOWN_VERSION = (5, 0), (7, 0)
EXTENDED_FROM = (5, 51, 10)

_VERSION = re.compile(r"^\d+(\.\d+)*$")


def parse_version(text: str) -> tuple[int, ...] | None:
    """'5.51.10' -> (5, 51, 10); None where it is not a dotted version."""
    text = text.strip()
    return tuple(int(p) for p in text.split(".")) if _VERSION.match(text) else None


def layout_for_version(version: tuple[int, ...]) -> Layout | None:
    """The block layout a Monaco version writes, or None for a version plancheck does not know."""
    if not FIRST_KNOWN_VERSION <= version < FIRST_UNKNOWN_VERSION:
        return None
    return MONACO_5_51_10 if version >= EXTENDED_FROM else STANDARD


def layout_from_width(collimator_values: int) -> Layout | None:
    """Recognise the layout from the number of values on the collimator line."""
    spec = PARAMETER_LINES[1]
    for layout in LAYOUTS.values():
        if layout.width(spec) == collimator_values:
            return layout
    return None
