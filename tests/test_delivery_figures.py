"""The comparison page and the per-patient PDF, read back with pdfplumber."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdfplumber
import pymedphys

from plancheck import deliveries
from plancheck.delivery.comparison import compare
from plancheck.delivery.figures import comparison_figure, save_png, write_pdf

FIELD = Path(pymedphys.__file__).parent / "tests/dicom/data/rtplan/06MV_plan.dcm"


def test_one_pdf_per_patient_with_a_page_per_comparison(tmp_path: Path) -> None:
    pages = []
    for beam in ("02x02", "03x03"):
        planned = deliveries.from_dicom(FIELD, beam=beam)
        mlc = np.array(planned.mlc)
        mlc[:, 40, 1] += 1.0  # one leaf 1 mm out
        comparison = compare(planned, planned.replace(mlc=mlc), patient="PC-0001 — TEST^PATIENT", plan="06MV", beam=beam,
                             delivered_at="2026-11-23 14:02", files=["/srv/plans/RP.06MV.dcm", "/srv/icom/PC-0001/beam.xz"])
        assert 0 < comparison.pass_rate < 100 and comparison.max_gamma > 1
        pages.append(comparison_figure(comparison))
    png = save_png(pages[0], tmp_path / "page.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = write_pdf(pages, tmp_path / "PC-0001.pdf")
    with pdfplumber.open(pdf) as document:
        assert len(document.pages) == 2
        text = document.pages[1].extract_text()
    for expected in ("PC-0001", "TEST^PATIENT", "Beam 03x03", "2026-11-23 14:02", "RP.06MV.dcm", "Gamma histogram", "Delivered MU density"):
        assert expected in text


def test_identical_maps_render_without_difference() -> None:
    planned = deliveries.from_dicom(FIELD, beam="02x02")
    comparison = compare(planned, planned)
    assert comparison.pass_rate == 100.0 and comparison.max_gamma == 0.0
    comparison_figure(comparison)  # zero difference and zero gamma still give finite colour limits


def test_page_prints_at_the_report_width_with_legible_text() -> None:
    from plancheck.delivery.figures import PAGE_WIDTH_IN

    planned = deliveries.from_dicom(FIELD, beam="02x02")
    fig = comparison_figure(compare(planned, planned))
    assert abs(fig.get_figwidth() - PAGE_WIDTH_IN) < 1e-6  # embedded at the chart-check PDF's text width: 100 % scale
    sizes = [label.get_fontsize() for ax in fig.axes for label in (*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label)]
    assert sizes and min(sizes) >= 8
