"""The run as one self-contained HTML file: inline CSS, figures as data: URIs, nothing fetched.

The page is read without JavaScript; the status filter is CSS only (radio buttons),
and printing always shows every row. Values are escaped by Jinja2's autoescape,
because they come from files and databases a report must not trust.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from plancheck.checks.results import SEVERITY, CheckResult, CheckRun, Status
from plancheck.report.failures import failure_line
from plancheck.report.labels import param_label
from plancheck.report.pages import draw_pages
from plancheck.report.view import LABELS, SYMBOLS, ReportError, build_view, by_severity, created_text, figure_path, printable

TEMPLATES = Path(__file__).parent / "templates"
MIME = {".png": "image/png", ".svg": "image/svg+xml"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# filter name -> the statuses it shows; "none" marks table rows that no implicit check compared
FILTERS = {
    "problems": ("fail", "error", "warn"),
    "fail": ("fail",),
    "error": ("error",),
    "warn": ("warn",),
    "manual": ("manual",),
    "pass": ("pass",),
    "not_applicable": ("not_applicable",),
}


@dataclass(frozen=True)
class Figure:
    """One figure of a check: embedded as a data: URI, or a note saying why it is not."""

    name: str
    uri: str = ""
    note: str = ""


def _shown(value: Any) -> Any:
    """Every ``{{ value }}``: text with its control characters made visible (autoescape then escapes markup)."""
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def environment(*, strict: bool = True) -> Environment:
    """The Jinja2 environment of every HTML view: autoescape always on, so data is never markup."""
    options: dict[str, Any] = {"undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True} if strict else {}
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, finalize=_shown, **options)


def render_html(run: CheckRun, *, figure_dirs: tuple[Path, ...] = ()) -> str:
    """The report as one HTML document (a string); relative figure paths are also looked up in ``figure_dirs``."""
    view = build_view(run)
    template = environment().get_template("report.html.j2")
    return template.render(
        view=view,
        run=run,
        created=created_text(run),
        symbols={s.value: SYMBOLS[s] for s in Status},
        labels={s.value: LABELS[s] for s in Status},
        param_label=param_label,
        filters=FILTERS,
        counts=view.counts,
        severity=[s.value for s in SEVERITY],
        failures=[(f, failure_line(f), [embed_figure(name, figure_dirs) for name in f.figures]) for f in view.failures],
        explicit=_with_figures(view.passing, figure_dirs),
        implicit=_with_figures(by_severity(view.implicit), figure_dirs),
        manual=_with_figures(view.manual, figure_dirs),
    )


def write_html(run: CheckRun, path: str | Path) -> Path:
    """Write the HTML report to ``path`` (folders made as needed) and return the path."""
    path = Path(path)
    draw_pages(run, (path.parent,))
    text = render_html(run, figure_dirs=(path.parent,))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the HTML report ({exc.strerror})", where=str(path), fix="choose a folder you can write to") from None
    return path


def embed_figure(name: str, figure_dirs: tuple[Path, ...] = ()) -> Figure:
    """A PNG or SVG file as a data: URI; anything else, or a missing file, becomes a note."""
    found = figure_path(name, figure_dirs)
    if found is None:
        return Figure(name, note=f"figure not found: {name}")
    mime = MIME.get(found.suffix.lower())
    if mime is None:
        return Figure(name, note=f"figure {name} not embedded: only PNG and SVG figures are")
    data = found.read_bytes()
    if mime == "image/png" and not data.startswith(PNG_MAGIC):
        return Figure(name, note=f"figure {name} is not a PNG file")
    return Figure(name, uri=f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")


def _with_figures(results: list[CheckResult], figure_dirs: tuple[Path, ...]) -> list[tuple[CheckResult, list[Figure]]]:
    return [(r, [embed_figure(f, figure_dirs) for f in r.figures]) for r in results]
