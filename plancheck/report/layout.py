"""How a parameter table fits a width: sources side by side, or folded to one value per row.

Folded, a row shows the value the sources agree on, the sources holding it (by
letter) and the source out of step with its own value, so 80 columns hold seven
sources without cutting a value.
"""

from __future__ import annotations

from plancheck.report.view import ParamRow
from plancheck.table import SOURCES

_LETTERS = {"mosaiq": "M", "plan_pdf": "P", "second_check": "S", "monaco_tel": "T", "icom": "I", "rtplan": "R", "trf": "F", "model": "D"}


def source_letters(sources: list[str]) -> dict[str, str]:
    """A one-letter code for each source (unknown sources get the next free letter)."""
    used: dict[str, str] = {}
    for source in sources:
        letter = _LETTERS.get(source) or next(c for c in (source[:1].upper() + "ABCDEGHJKLNOQUVWXYZ") if c not in used.values())
        used[source] = letter
    return used


def folded_value(row: ParamRow, sources: list[str]) -> tuple[str, list[str], list[str]]:
    """(the value shown, the sources holding it, the sources out of step) for one row.

    Each distinct value of the sources in step is shown (``157.24 / 157.239``), so
    nothing a source said is hidden; the sources out of step are shown apart.
    """
    present = [s for s in sources if s in row.values] or [s for s in SOURCES if s in row.values]
    odd = [s for s in present if row.is_odd(s)]
    held = [s for s in present if s not in odd]
    distinct = list(dict.fromkeys(row.values[s] for s in held))
    return " / ".join(distinct), held, odd
