"""The ``plan_pdf`` source: the patient's plan report, read from PDF with the vendor templates."""

from __future__ import annotations

from plancheck.sources import Reading, Request
from plancheck.sources.pdfplan.source import read_plan_pdf


def read(request: Request) -> Reading | None:
    """None when no PDF folder or document finder is configured."""
    return read_plan_pdf(request)
