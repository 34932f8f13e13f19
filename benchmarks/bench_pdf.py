"""Plan-PDF parsing speed: a ~20-page report per vendor, parsed with its template.

Goal: a 20-page report in under 1 s. pymedphys has no PDF reader, so the
references measured in the same run are plancheck's own pdfplumber backend and
pdfplumber's plain-text extraction (``page.extract_text()``), the floor any
pdfminer-based reader pays; the default backend is PDFium (pypdfium2).

    python benchmarks/bench_pdf.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import pdfplumber
import pydicom
import pymedphys

from plancheck.sources.pdfplan import extract as extract_module
from plancheck.sources.pdfplan.parse import parse_file
from plancheck.sources.pdfplan.template import load_templates
from plancheck.fabricate.pdf import VENDORS, write_plan_pdf
from plancheck.sources.rtplan import rows_from_dataset
from plancheck.table import Param

PLAN = Path(pymedphys.__file__).parent / "tests/dicom/data/rtplan/06MV_plan.dcm"
TARGET_PAGES = 20
REPEATS = 2


def big_plan(copies: int) -> list[Param]:
    """pymedphys' 10-beam plan with each beam repeated ``copies`` times under new labels."""
    rows, _, _ = rows_from_dataset(pydicom.dcmread(PLAN, force=True), str(PLAN))
    out = [r for r in rows if r.scope != "beam"]
    for copy in range(copies):
        out += [Param(r.scope, f"{r.beam}_{copy:02d}", r.param, r.value, r.unit, r.source, r.provenance) for r in rows if r.scope == "beam"]
    return out


def report_of_about(vendor: str, folder: Path, pages: int) -> tuple[Path, int]:
    copies = 2
    while True:
        written = write_plan_pdf(vendor, big_plan(copies), folder / f"{vendor}.pdf")
        if written.pages >= pages or copies > 64:
            return written.path, written.pages
        copies = max(copies + 1, int(copies * pages / max(written.pages, 1)))


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        extract_module._extract_cached.cache_clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_text(path: Path) -> None:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()


def main() -> None:
    templates = load_templates()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'vendor':11} {'pages':>5} {'beams':>5} {'pdfium s':>9} {'ms/page':>8} {'pdfplumber s':>13} "
              f"{'extract_text s':>15} {'x faster':>9}  goal (20 pages < 1 s)")
        ratios = []
        for vendor in VENDORS:
            path, pages = report_of_about(vendor, folder, TARGET_PAGES)
            beams = len(parse_file(path, templates).beams)
            ours = best_of(lambda: parse_file(path, templates, backend="pdfium"))
            plumber = best_of(lambda: parse_file(path, templates, backend="pdfplumber"))
            floor = best_of(lambda: plain_text(path))
            ratios.append(floor / ours)
            per20 = ours / pages * 20
            print(f"{vendor:11} {pages:5d} {beams:5d} {ours:9.3f} {1000 * ours / pages:8.1f} {plumber:13.3f} {floor:15.3f} "
                  f"{floor / ours:9.1f}  {'met' if per20 < 1.0 else 'MISSED'} ({per20:.2f} s per 20 pages)")
        print(f"median speed-up over pdfplumber extract_text: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
