"""The delivery-comparison pages of a run as one PDF per patient in the folder MOSAIQ's eSCAN imports from.

Each page is the PNG the check already drew, placed on an A4 portrait page at the chart-check
PDF's text width (the width it was drawn for, so it prints at 100 %) under a one-line caption
(patient, file, page) that eSCAN's text search finds: nothing is drawn twice.
"""

from __future__ import annotations

from pathlib import Path

from plancheck.checks.results import CheckRun
from plancheck.paths import format_name, path_in
from plancheck.report.view import printable

DEFAULT_NAME = "{patient_id}.pdf"
MARGIN_MM = 14.0


def figure_paths(run: CheckRun) -> list[Path]:
    return [Path(f) for r in run.results for f in r.figures if f.lower().endswith(".png") and Path(f).exists()]


def _fit(png: Path, width_mm: float, height_mm: float) -> tuple[float, float]:
    """The size (mm) of the page's image: the text width, or less where the image would run off the page."""
    from PIL import Image  # fpdf's own image reader

    with Image.open(png) as image:
        aspect = image.height / image.width
    return (width_mm, width_mm * aspect) if width_mm * aspect <= height_mm else (height_mm / aspect, height_mm)


def _latin(text: str) -> str:
    """The caption in Helvetica's Windows-1252 (the page itself, drawn by matplotlib, shows every character)."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


def write_escan_pdf(run: CheckRun, escan_dir: Path, name: str = DEFAULT_NAME) -> Path | None:
    """One PDF of every comparison page of ``run`` (None when the run made none)."""
    pngs = figure_paths(run)
    if not pngs:
        return None
    from fpdf import FPDF  # the chart-check PDF has loaded it already

    from plancheck.report.pdf import save_pdf

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(False)
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(printable(f"plancheck delivery comparison {run.patient_id}"))
    pdf.set_creator("plancheck")
    pdf.set_font("helvetica", "", 8)
    pdf.set_text_color(95, 99, 104)
    for i, png in enumerate(pngs, 1):
        pdf.add_page()
        caption = f"plancheck {run.check_kind} check · patient {run.patient_id} · {png.name} · page {i} of {len(pngs)}"
        pdf.text(MARGIN_MM, MARGIN_MM - 4, _latin(printable(caption)))
        width, height = _fit(png, pdf.epw, pdf.eph)
        pdf.image(png, x=MARGIN_MM, y=MARGIN_MM, w=width, h=height)
    path = path_in(escan_dir, format_name(name, patient_id=run.patient_id, kind=run.check_kind))
    return save_pdf(pdf, path, "the eSCAN PDF", fix="check the [folders] escan folder exists and is writable")
