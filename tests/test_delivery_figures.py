"""The comparison page and the per-patient PDF, read back with pdfplumber."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdfplumber
import pymedphys
from matplotlib.figure import Figure
from PIL import Image

from plancheck import deliveries
from plancheck.delivery.comparison import compare
from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.delivery.figures import PAGE_WIDTH_IN, comparison_figure, save_png
from plancheck.report.escan import write_escan_pdf
from plancheck.table import ParamTable

FIELD = Path(pymedphys.__file__).parent / "tests/dicom/data/rtplan/06MV_plan.dcm"


def _texts(fig: Figure) -> str:
    """Every piece of text drawn on a page: figure text, titles, axis labels, tick labels, table cells."""
    parts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.texts)]
    return "\n".join(parts)


def test_one_escan_pdf_per_patient_with_a_page_per_comparison(tmp_path: Path) -> None:
    pngs, texts = [], []
    for beam in ("02x02", "03x03"):
        planned = deliveries.from_dicom(FIELD, beam=beam)
        mlc = np.array(planned.mlc)
        mlc[:, 40, 1] += 1.0  # one leaf 1 mm out
        comparison = compare(planned, planned.replace(mlc=mlc), patient="PC-0001 — TEST^PATIENT", plan="06MV", beam=beam,
                             delivered_at="2026-11-23 14:02", files=["/srv/plans/RP.06MV.dcm", "/srv/icom/PC-0001/beam.xz"])
        assert 0 < comparison.pass_rate < 100 and comparison.max_gamma > 1
        page = comparison_figure(comparison)
        texts.append(_texts(page))
        pngs.append(save_png(page, tmp_path / f"gamma_{beam}.png"))
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for expected in ("PC-0001", "TEST^PATIENT", "Beam 03x03", "2026-11-23 14:02", "RP.06MV.dcm", "Gamma histogram", "Delivered MU density", "Max γ"):
        assert expected in texts[1]
    with Image.open(pngs[0]) as image:
        assert image.mode == "RGB" and image.width == round(PAGE_WIDTH_IN * 110)  # opaque, drawn at the page width
    results = [CheckResult("delivery.gamma", "Gamma", "explicit", Status.FAIL, "", beam=b, figures=[str(p)]) for b, p in zip(("02x02", "03x03"), pngs, strict=True)]
    run = CheckRun("PC-0001", "06MV", "weekly", "photon", ParamTable(), results)
    pdf = write_escan_pdf(run, tmp_path / "escan")
    assert pdf == tmp_path / "escan" / "PC-0001.pdf"
    with pdfplumber.open(pdf) as document:
        assert len(document.pages) == 2
        for page, png in zip(document.pages, pngs, strict=True):
            assert (round(page.width), round(page.height)) == (595, 842)  # A4 portrait
            (image,) = page.images
            assert abs((image["x1"] - image["x0"]) - PAGE_WIDTH_IN * 72) < 1  # 100 %: the size it was drawn for
            caption = page.extract_text()
            assert "PC-0001" in caption and png.name in caption


def test_escan_pdf_is_not_written_without_pages(tmp_path: Path) -> None:
    run = CheckRun("PC-0001", "06MV", "weekly", "photon", ParamTable(), [CheckResult("delivery.gamma", "Gamma", "explicit", Status.PASS, "")])
    assert write_escan_pdf(run, tmp_path / "escan") is None
    assert not (tmp_path / "escan").exists()


def test_identical_maps_render_without_difference() -> None:
    planned = deliveries.from_dicom(FIELD, beam="02x02")
    comparison = compare(planned, planned)
    assert comparison.pass_rate == 100.0 and comparison.max_gamma == 0.0
    comparison_figure(comparison)  # zero difference and zero gamma still give finite colour limits


def test_page_prints_at_the_report_width_with_legible_text() -> None:
    planned = deliveries.from_dicom(FIELD, beam="02x02")
    fig = comparison_figure(compare(planned, planned))
    assert abs(fig.get_figwidth() - PAGE_WIDTH_IN) < 1e-6  # embedded at the chart-check PDF's text width: 100 % scale
    sizes = [label.get_fontsize() for ax in fig.axes for label in (*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label)]
    assert sizes and min(sizes) >= 8
