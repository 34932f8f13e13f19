"""The ``second_check`` source: the patient's independent-calculation report, read from PDF with the vendor templates."""

from __future__ import annotations

from plancheck.sources import Reading, Request
from plancheck.sources.pdfplan.source import read_second_check


def read(request: Request) -> Reading | None:
    """None when no PDF folder or document finder is configured."""
    return read_second_check(request)
