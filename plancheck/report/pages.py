"""Comparison pages, drawn by the first report that shows them from the comparisons the checks kept.

A gamma check computes its comparison and keeps it beside the page it names
(``gamma_<beam>_<delivery>.npz`` next to ``.png``, plancheck.delivery.comparison); it draws nothing.
Each writer that shows pages (HTML, PDF, eSCAN PDF) first draws the ones not drawn yet, so
matplotlib loads only where a page is drawn, and ``plancheck check`` leaves the drawing to its
report worker on the machine's other core. A page that cannot be drawn is a warning naming the
file; the check's result stands, and the report notes the page as not found.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zipfile import BadZipFile

from plancheck.checks.results import CheckRun

logger = logging.getLogger(__name__)
KEPT = ".npz"  # the suffix of a kept comparison


def undrawn(run: CheckRun, bases: tuple[Path, ...] = ()) -> list[Path]:
    """The PNG pages ``run`` names that are not drawn yet but whose comparison was kept (looked up as given, then under ``bases``)."""
    pages = []
    for name in dict.fromkeys(f for r in run.results for f in r.figures if f.lower().endswith(".png")):
        path = Path(name)
        for page in [path] if path.is_absolute() else [path, *(b / path for b in bases)]:
            if page.is_file():
                break
            if page.with_suffix(KEPT).is_file():
                pages.append(page)
                break
    return pages


def draw_pages(run: CheckRun, bases: tuple[Path, ...] = ()) -> list[Path]:
    """Draw every page of ``run`` not drawn yet from its kept comparison; returns the pages drawn."""
    pages = undrawn(run, bases)
    if not pages:
        return []
    from plancheck.delivery.comparison import Comparison
    from plancheck.delivery.figures import comparison_figure, save_png  # matplotlib: only when a page is drawn

    drawn = []
    for page in pages:
        try:
            drawn.append(save_png(comparison_figure(Comparison.load(page.with_suffix(KEPT))), page))
        except (OSError, ValueError, KeyError, EOFError, BadZipFile) as exc:  # a damaged or unreadable archive: named, the other pages still drawn
            logger.warning("comparison page %s could not be drawn from %s: %s", page, page.with_suffix(KEPT).name, exc)
    return drawn
