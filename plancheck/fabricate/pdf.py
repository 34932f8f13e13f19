"""Plan and second-check PDFs laid out the way each vendor prints them, for tests and the demo.

``write_plan_pdf(vendor, plan, path)`` takes a plan as the rows of the DICOM RT
Plan source (or any rows with the same parameters) and writes the report with
page headers and footers, beam tables that run onto the next page under a
repeated header, and long beam names wrapped onto a second line. ``overrides``
changes what is printed: a plan-level parameter by name (``{"plan_approved": True}``)
or a beam's by ``(label, param)`` (``{("1-1", "mu"): 160.0}``); for RadCalc,
``{("1-1", "mu_diff_percent"): 7.5}`` plants a second-check difference. The
returned :class:`WrittenReport` holds every value as printed, in vocabulary
units, so a test can compare what a reader got with what was written.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Collection, Iterable

from plancheck.fabricate.pdf_layouts import LAYOUTS
from plancheck.fabricate.pdf_printing import Overrides, PlanData, Printer, ReportPDF, WrittenReport, plan_data
from plancheck.table import Param

VENDORS = tuple(LAYOUTS)
__all__ = ["VENDORS", "PlanData", "WrittenReport", "layout_report", "plan_data", "write_plan_pdf"]


def write_plan_pdf(vendor: str, plan: Iterable[Param] | PlanData, path: str | Path, *,
                   overrides: Overrides | None = None, omit: Collection[str] = ()) -> WrittenReport:
    """Write ``vendor``'s report of ``plan`` to ``path`` (see the module docstring for ``overrides``).

    ``omit`` leaves sections out, e.g. ``{"beams"}`` for a printout that lost its beam table.
    """
    pdf, report = layout_report(vendor, plan, path, overrides=overrides, omit=omit)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    report.pages = pdf.pages_count
    return report


def layout_report(vendor: str, plan: Iterable[Param] | PlanData, path: str | Path, *,
                  overrides: Overrides | None = None, omit: Collection[str] = ()) -> tuple[ReportPDF, WrittenReport]:
    """The laid-out report, not yet saved (a test may encrypt it first)."""
    if vendor not in LAYOUTS:
        raise ValueError(f"unknown vendor {vendor!r}: one of {', '.join(VENDORS)}")
    data = plan_data(plan, vendor, overrides)
    report = WrittenReport(Path(path), vendor, 0)
    pdf = LAYOUTS[vendor](data, Printer(report), frozenset(omit))
    report.pages = pdf.pages_count
    return pdf, report
