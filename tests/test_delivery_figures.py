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


def _leaf_out(beam: str) -> object:
    planned = deliveries.from_dicom(FIELD, beam=beam)
    mlc = np.array(planned.mlc)
    mlc[:, 40, 1] += 1.0
    return compare(planned, planned.replace(mlc=mlc), patient="PC-0001", plan="06MV", beam=beam, delivered_at="2026-11-23 14:02",
                   files=["beam.xz"], dose_percent_threshold=3, local_gamma=False)


def test_a_kept_comparison_reads_back_as_it_was(tmp_path: Path) -> None:
    from plancheck.delivery.comparison import Comparison

    kept = _leaf_out("02x02")
    assert isinstance(kept, Comparison)
    back = Comparison.load(kept.save(tmp_path / "gamma_02x02.npz"))
    for name in ("planned", "delivered", "gamma"):
        assert np.array_equal(getattr(back, name), getattr(kept, name), equal_nan=True)
    assert all(np.array_equal(back.axes[k], kept.axes[k]) for k in ("mlc", "jaw"))
    assert (back.patient, back.plan, back.beam, back.delivered_at, tuple(back.files)) == ("PC-0001", "06MV", "02x02", "2026-11-23 14:02", ("beam.xz",))
    assert back.criteria == kept.criteria == "3 %/0.5 mm global, cutoff 20 %, max γ 2"
    assert back.pass_rate == kept.pass_rate < 100


def test_the_first_report_draws_the_kept_pages_and_names_one_it_cannot(tmp_path: Path, caplog) -> None:
    from plancheck.delivery.comparison import Comparison
    from plancheck.report.html import write_html

    figures = tmp_path / "figures"
    good = _leaf_out("03x03")
    assert isinstance(good, Comparison)
    good.save(figures / "gamma_03x03.npz")
    (figures / "gamma_02x02.npz").write_bytes(b"not an archive")  # damaged: named, and the other page still drawn
    pages = [figures / "gamma_02x02.png", figures / "gamma_03x03.png"]
    results = [CheckResult("delivery.gamma", "Gamma", "explicit", Status.FAIL, "", beam=p.stem[6:], figures=[str(p)]) for p in pages]
    run = CheckRun("PC-0001", "06MV", "weekly", "photon", ParamTable(), results)
    html = write_html(run, tmp_path / "r.html").read_text(encoding="utf-8")
    assert not pages[0].exists() and pages[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.count("data:image/png;base64,") == 1 and "figure not found" in html
    assert "gamma_02x02.png could not be drawn from gamma_02x02.npz" in caplog.text
    drawn = pages[1].stat().st_mtime_ns
    write_escan_pdf(run, tmp_path / "escan")  # a later report finds the page drawn: nothing is drawn twice
    assert pages[1].stat().st_mtime_ns == drawn


def test_pages_drawn_by_forked_processes_match_and_name_the_bad_one(tmp_path: Path, caplog) -> None:
    """The report worker's way: several processes draw the pages; each page is what one process draws."""
    from plancheck.delivery.comparison import Comparison
    from plancheck.report.pages import draw_pages

    figures = tmp_path / "figures"
    pages = [figures / f"gamma_{beam}.png" for beam in ("02x02", "03x03", "bad")]
    for page in pages[:2]:
        kept = _leaf_out(page.stem[6:])
        assert isinstance(kept, Comparison)
        kept.save(page.with_suffix(".npz"))
    pages[2].with_suffix(".npz").write_bytes(b"PK\x03\x04 cut short")
    run = CheckRun("PC-0001", "06MV", "weekly", "photon", ParamTable(),
                   [CheckResult("delivery.gamma", "Gamma", "explicit", Status.FAIL, "", beam=p.stem[6:], figures=[str(p)]) for p in pages])
    assert draw_pages(run, (tmp_path / "elsewhere",), processes=3) == []  # never outside the report's folder
    assert draw_pages(run, (tmp_path,), processes=3) == pages[:2]
    assert not pages[2].exists() and "gamma_bad.png could not be drawn from gamma_bad.npz" in caplog.text
    alone = tmp_path / "alone.png"
    save_png(comparison_figure(Comparison.load(pages[0].with_suffix(".npz"))), alone)
    with Image.open(alone) as one, Image.open(pages[0]) as forked:
        assert np.array_equal(np.asarray(one), np.asarray(forked))
