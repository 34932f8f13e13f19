"""Comparison pages, drawn by the first report that shows them, from the comparisons the checks kept.

A gamma check computes its comparison and keeps it beside the page it names
(``gamma_<beam>_<delivery>.npz`` next to ``.png``, plancheck.delivery.comparison); it draws nothing.
The HTML and PDF writers first draw the pages not drawn yet (inside the report's folder), so
matplotlib loads only where a page is drawn, and ``plancheck check`` leaves the drawing to its
report worker on the machine's other core. A page that cannot be drawn is a warning naming the
file; the check's result stands, and the report notes the page as not found.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from zipfile import BadZipFile

from plancheck.checks.results import CheckRun
from plancheck.report.view import figure_path

logger = logging.getLogger(__name__)
KEPT = ".npz"  # the suffix of a kept comparison


def undrawn(run: CheckRun, bases: tuple[Path, ...]) -> list[Path]:
    """The PNG pages ``run`` names that no report would find yet but whose comparison was kept, both looked up as
    the reports look up a figure (:func:`figure_path`: as given, then under ``bases``). Only pages inside one of
    ``bases`` (the report's folder) are drawn: the page names come from the run, which may be a saved file, and a
    name from data never makes plancheck write outside the report's folder."""
    folders = [b.resolve() for b in bases]
    pages = []
    for name in dict.fromkeys(f for r in run.results for f in r.figures if f.lower().endswith(".png")):
        kept = None if figure_path(name, bases) else figure_path(str(Path(name).with_suffix(KEPT)), bases)
        if kept is not None and any(kept.resolve().is_relative_to(f) for f in folders):
            pages.append(kept.with_suffix(".png"))
    return pages


def draw_pages(run: CheckRun, bases: tuple[Path, ...], *, processes: int = 1) -> list[Path]:
    """Draw every page of ``run`` inside ``bases`` not drawn yet from its kept comparison; returns the pages drawn.

    With ``processes`` > 1 (the report worker, while the first process has little left to do) and more than one page,
    the pages are drawn by that many forked copies of this process, matplotlib already loaded in each; where
    fork is not available (Windows) they are drawn here, one after another.
    """
    pages = undrawn(run, bases)
    if not pages:
        return []
    import plancheck.delivery.figures  # noqa: F401  matplotlib: only when a page is drawn, and before any fork

    workers = min(processes, len(pages)) if "fork" in multiprocessing.get_all_start_methods() else 1
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_draw, pages))
    else:
        outcomes = [_draw(page) for page in pages]
    for page, problem in zip(pages, outcomes, strict=True):
        if problem:  # a damaged or unreadable archive: named, the other pages still drawn
            logger.warning("comparison page %s could not be drawn from %s: %s", page, page.with_suffix(KEPT).name, problem)
    return [page for page, problem in zip(pages, outcomes, strict=True) if not problem]


def _draw(page: Path) -> str:
    """Draw one page from its kept comparison; what went wrong, or "" when it was drawn."""
    from plancheck.delivery.comparison import Comparison
    from plancheck.delivery.figures import comparison_figure, save_png

    try:
        save_png(comparison_figure(Comparison.load(page.with_suffix(KEPT))), page)
    except (OSError, ValueError, KeyError, EOFError, BadZipFile) as exc:
        return str(exc) or exc.__class__.__name__
    return ""
