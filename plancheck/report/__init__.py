"""Reports: views of a CheckRun (terminal, HTML, PDF, JSON); none of them re-runs a check.

``render(run, fmt, path)`` draws one format; ``write_all(run, out_dir)`` files the
HTML, JSON and PDF of a run as ``<out_dir>/<patient_id>/<YYYYMMDD_HHMMSS>_<kind>.*``.
The PDF writer (fpdf, a third of a second to load) loads when a PDF is written and matplotlib
when a comparison page is drawn (``report.pages``), so ``plancheck check`` can leave every file
but the JSON to its worker process (``report.worker``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from plancheck.checks.results import CheckRun
from plancheck.report.json import load_run, write_json
from plancheck.report.terminal import render_terminal
from plancheck.paths import path_in, safe_name
from plancheck.report.view import ReportError, created_stamp

FILE_FORMATS = ("html", "json", "pdf")


def _terminal(run: CheckRun, path: Path | None) -> Path | None:
    """To stdout; with a path, the same report as plain text in that file."""
    if path is None:
        render_terminal(run)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        render_terminal(run, Console(file=handle, width=100, force_terminal=False, no_color=True))
    return path


def _file(writer: Callable[[CheckRun, Path], Path], fmt: str) -> Callable[[CheckRun, Path | None], Path]:
    def write(run: CheckRun, path: Path | None) -> Path:
        if path is None:
            raise ReportError(f"the {fmt} report needs a file to write to", fix=f"pass a path, e.g. report.{fmt}")
        return writer(run, path)

    return write


def _loaded_on_use(module: str) -> Callable[[CheckRun, str | Path], Path]:
    """``module``'s ``write_<format>``, its library (jinja2, fpdf) loaded on first use: the process that shows
    a run need not load what only its report worker uses."""

    def write(run: CheckRun, path: str | Path) -> Path:
        writer: Callable[[CheckRun, str | Path], Path] = getattr(importlib.import_module(f"plancheck.report.{module}"), f"write_{module}")
        return writer(run, path)

    write.__doc__ = f"Write the {module.upper()} report of ``run`` to ``path`` (:func:`plancheck.report.{module}.write_{module}`)."
    return write


write_html = _loaded_on_use("html")
write_pdf = _loaded_on_use("pdf")


RENDERERS: dict[str, Callable[[CheckRun, Path | None], Path | None]] = {
    "terminal": _terminal,
    "html": _file(write_html, "html"),
    "pdf": _file(write_pdf, "pdf"),
    "json": _file(write_json, "json"),
}


def render(run: CheckRun, fmt: str, path: str | Path | None = None) -> Path | None:
    """Draw ``run`` in format ``fmt`` (terminal, html, pdf, json); returns the file written, if any."""
    try:
        renderer = RENDERERS[fmt.lower()]
    except KeyError:
        raise ReportError(f"unknown report format {fmt!r}", fix=f"use one of {', '.join(RENDERERS)}") from None
    return renderer(run, Path(path) if path is not None else None)


def report_paths(run: CheckRun, out_dir: str | Path) -> dict[str, Path]:
    """Where :func:`write_all` files a run: ``<out_dir>/<patient_id>/<YYYYMMDD_HHMMSS>_<kind>.<fmt>``."""
    stem = f"{created_stamp(run)}_{safe_name(run.check_kind)}"
    return {fmt: path_in(out_dir, run.patient_id, stem, suffix=f".{fmt}") for fmt in FILE_FORMATS}


def write_files(run: CheckRun, html: Path, pdf: Path, escan: tuple[Path, str] | None = None, *, processes: int = 1) -> dict[str, Path]:
    """The HTML and the PDF of ``run`` (its comparison pages drawn first, by up to ``processes`` processes), and
    with an eSCAN folder and file name template, the eSCAN PDF of those pages (none when the run made none)."""
    from plancheck.report.escan import write_escan_pdf
    from plancheck.report.pages import draw_pages

    draw_pages(run, (html.parent,), processes=processes)
    paths = {"html": write_html(run, html), "pdf": write_pdf(run, pdf)}
    page = write_escan_pdf(run, *escan) if escan is not None else None
    return {**paths, "escan": page} if page is not None else paths


def write_all(run: CheckRun, out_dir: str | Path) -> dict[str, Path]:
    """Write the JSON (first, so the data is kept whatever happens), HTML and PDF of ``run``."""
    paths = report_paths(run, out_dir)
    return {"json": write_json(run, paths["json"]), **write_files(run, paths["html"], paths["pdf"])}


__all__ = ["RENDERERS", "ReportError", "load_run", "render", "render_terminal", "report_paths", "write_all", "write_files", "write_html", "write_json", "write_pdf"]
