"""Which way a page's text runs, and boxes turned so that text reads upright.

A page may be displayed turned by its ``/Rotate`` entry (PDF 32000-1 §7.7.3.3: a multiple
of 90, degrees clockwise), and its text may be drawn turned inside the content stream.
A report reads in the frame where most of its characters run left to right, whatever
produced that: so the frame is found from the characters themselves (see
docs/pdf-templates.md, "Rotated pages"). Angles here are quarter turns clockwise as
seen on the page (y pointing down), 0 to 3; text at any other angle is ``None``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

ANGLE_TOLERANCE_RAD = 0.02  # about 1 degree: text turned by more than this off a quarter is not read

Box = tuple[float, float, float, float]  # x0, x1, top, bottom; y measured down from the page's top


def quarter(angle_cw_rad: float) -> int | None:
    """Quarter turns clockwise (0-3) for an angle, or None when it is not near a multiple of 90 degrees."""
    turns = angle_cw_rad / (math.pi / 2)
    nearest = round(turns)
    if abs(turns - nearest) * (math.pi / 2) > ANGLE_TOLERANCE_RAD:
        return None
    return nearest % 4


def matrix_quarter(a: float, b: float) -> int | None:
    """Quarter turns of text whose rendering matrix starts ``(a, b, ...)`` (PDF space, y up)."""
    return quarter(math.atan2(-b, a))


def reading_turns(turns: Iterable[int | None], default: int = 0) -> int:
    """The quarter turns most characters run at (``default`` on a tie or with none)."""
    counts = Counter(t for t in turns if t is not None)
    if not counts:
        return default
    best = max(counts.values())
    return default if counts.get(default) == best else min(t for t, n in counts.items() if n == best)


def turn_box(box: Box, turns: int, width: float, height: float) -> Box:
    """``box`` on a ``width`` x ``height`` page, in the frame of the page turned ``turns`` quarters anticlockwise.

    Text that ran ``turns`` quarters clockwise runs left to right in that frame.
    """
    x0, x1, top, bottom = box
    for _ in range(turns % 4):
        x0, x1, top, bottom = top, bottom, width - x1, width - x0
        width, height = height, width
    return x0, x1, top, bottom


def turned_size(width: float, height: float, turns: int) -> tuple[float, float]:
    """Width and height of a page turned ``turns`` quarters."""
    return (height, width) if turns % 2 else (width, height)
