"""What the report writers share: the plan as printed, value formatting that records what it
printed, and an A4 page with vendor header and footer, sections, label/value pairs and
tables that wrap their cells and repeat their header on the next page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from collections.abc import Callable, Iterable, Mapping

from fpdf import FPDF

from plancheck.table import Param

Overrides = Mapping[str | tuple[str, str], Any]

# What a report prints that an RT Plan does not hold; overrides replace any of these.
DEFAULTS: dict[str, dict[str, Any]] = {
    "monaco": {"calc_algorithm": "Monte Carlo 6.1.2.0", "calc_grid_mm": 3.0, "rx_target": "PTV"},
    "eclipse": {"calc_algorithm": "AAA 16.1.0", "calc_grid_mm": 2.5, "rx_target": "PTV"},
    "raystation": {"calc_algorithm": "Collapsed Cone 5.6", "calc_grid_mm": 3.0, "rx_target": "PTV"},
    "radcalc": {"mu_diff_tolerance_percent": 5.0, "document_approved": True, "document_approved_by": "B. Physicist",
                "document_approved_date": "2024-01-06", "planning_system": "Monaco"},
}
APPROVAL_DEFAULTS = {"plan_approved_by": "A. Physicist", "plan_approved_date": "2024-01-05T10:22:00"}
PRINTED_AT = dt.datetime(2024, 1, 5, 10, 30)
# Deterministic small second-check differences (%), beam by beam, as a real independent calculation shows.
RADCALC_DIFFS = (0.8, -1.2, 0.4, 1.7, -0.6, 2.1, -1.9, 0.2, 1.1, -0.3)


@dataclass
class PlanData:
    """What a report prints: plan-level values and treatment beams, in vocabulary units."""

    values: dict[str, Any]
    beams: dict[str, dict[str, Any]]


@dataclass
class WrittenReport:
    """A report as written: the file, its page count, and each value as printed (vocabulary units)."""

    path: Path
    vendor: str
    pages: int
    values: dict[str, Any] = field(default_factory=dict)
    beams: dict[str, dict[str, Any]] = field(default_factory=dict)


def plan_data(plan: Iterable[Param] | PlanData, vendor: str, overrides: Overrides | None = None) -> PlanData:
    """Plan-level values and treatment beams from RT Plan rows, vendor defaults, then ``overrides``."""
    if isinstance(plan, PlanData):
        values, beams = dict(plan.values), {k: dict(v) for k, v in plan.beams.items()}
    else:
        values, beams = {}, {}
        for row in plan:
            if row.scope == "beam":
                beams.setdefault(row.beam, {})[row.param] = row.value
            elif row.scope in ("patient", "prescription"):
                values.setdefault(row.param, row.value)
        beams = {k: v for k, v in beams.items() if not v.get("setup_field")}
    for key, value in DEFAULTS[vendor].items():
        values.setdefault(key, value)
    renames: dict[str, str] = {}
    for target, value in (overrides or {}).items():
        if isinstance(target, tuple):
            label, param = target
            if label not in beams:
                raise KeyError(f"override for beam {label!r}, which the plan does not have ({', '.join(beams)})")
            if param == "label":
                renames[label] = str(value)
            else:
                beams[label][param] = value
        else:
            values[target] = value
    beams = {renames.get(label, label): beam for label, beam in beams.items()}
    if values.get("plan_approved"):
        for key, value in APPROVAL_DEFAULTS.items():
            values.setdefault(key, value)
    return PlanData(values, beams)


def latin1(text: Any) -> str:
    """The core PDF fonts hold Latin-1 only; anything else prints as '?'."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


class Printer:
    """Formats values for print and records each one as printed (back in vocabulary units)."""

    def __init__(self, report: WrittenReport) -> None:
        self.report = report

    def record(self, param: str, value: Any, beam: str = "") -> None:
        (self.report.beams.setdefault(beam, {}) if beam else self.report.values)[param] = value

    def num(self, param: str, value: Any, decimals: int, *, factor: float = 1.0, beam: str = "") -> str:
        """``value`` (vocabulary unit) divided by ``factor`` (e.g. 10 for cm) with ``decimals``; '-' when absent."""
        if value is None:
            return "-"
        text = f"{float(value) / factor:.{decimals}f}"
        printed = round(float(text) * factor, 6)
        self.record(param, int(printed) if param == "fractions" else printed, beam)
        return text

    def date(self, param: str, iso_value: Any, fmt: str, beam: str = "") -> str:
        """An ISO date or date-time printed with ``fmt``; recorded as the ISO text of what was printed."""
        if not iso_value:
            return "-"
        text = dt.datetime.fromisoformat(str(iso_value)).strftime(fmt)
        parsed = dt.datetime.strptime(text, fmt)
        has_time = any(code in fmt for code in ("%H", "%I", "%M"))
        self.record(param, parsed.isoformat() if has_time else parsed.date().isoformat(), beam)
        return text

    def text(self, param: str, value: Any, beam: str = "", recorded: Any = None) -> str:
        if value is None:
            return "-"
        self.record(param, value if recorded is None else recorded, beam)
        return latin1(value)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    align: str = "L"  # L, C or R, for header and cells alike


class ReportPDF(FPDF):
    """An A4 report whose page header and footer come from the vendor layout."""

    def __init__(self, orientation: str, header: Callable[[ReportPDF], None], footer: Callable[[ReportPDF], None],
                 bottom_margin: float = 18.0) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self._header, self._footer = header, footer
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=bottom_margin)
        self.set_creation_date(PRINTED_AT.replace(tzinfo=dt.UTC))
        self.set_creator("plancheck test report writer")

    def header(self) -> None:
        self._header(self)

    def footer(self) -> None:
        self._footer(self)

    # ---- building blocks shared by the layouts ----------------------------------------------
    def section(self, title: str, size: float = 11.0, space: float = 4.0) -> None:
        self.ln(space)
        self.set_font("Helvetica", "B", size)
        self.cell(0, size * 0.5, latin1(title), new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def pairs(self, items: list[tuple[str, str]], *, per_line: int = 2, label_w: float = 38.0, size: float = 9.0,
              line_h: float = 5.0) -> None:
        """Label and value side by side, ``per_line`` pairs to a line."""
        pair_w = self.epw / per_line
        for start in range(0, len(items), per_line):
            for label, value in items[start : start + per_line]:
                self.set_font("Helvetica", "B", size)
                self.cell(label_w, line_h, latin1(label))
                self.set_font("Helvetica", "", size)
                self.cell(pair_w - label_w, line_h, latin1(value))
            self.ln(line_h)

    def lines(self, texts: list[str], size: float = 9.0, line_h: float = 5.0) -> None:
        self.set_font("Helvetica", "", size)
        for text in texts:
            self.cell(0, line_h, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def wrapped_table(self, title: str, columns: list[Column], rows: list[list[str]], *, size: float = 8.0,
              line_h: float = 4.0, pad: float = 2.0, continued: str = " (continued)") -> None:
        """A table whose cells wrap, kept row by row on a page; a new page repeats the title and header."""
        self.section(title)
        self._table_header(columns, size, line_h)
        for row in rows:
            self.set_font("Helvetica", "", size)
            wrapped = [cast("list[str]", self.multi_cell(c.width, line_h, latin1(t), dry_run=True, output="LINES")) for c, t in zip(columns, row, strict=False)]
            height = max(len(w) for w in wrapped) * line_h + pad
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
                self.section(title + continued, space=1.0)
                self._table_header(columns, size, line_h)
                self.set_font("Helvetica", "", size)
            top, x = self.get_y(), self.l_margin
            for column, text_lines in zip(columns, wrapped, strict=False):
                for i, text in enumerate(text_lines):
                    self.set_xy(x, top + i * line_h)
                    self.cell(column.width, line_h, text, align=column.align)
                x += column.width
            self.set_xy(self.l_margin, top + height)

    def _table_header(self, columns: list[Column], size: float, line_h: float) -> None:
        self.set_font("Helvetica", "B", size)
        for column in columns:
            if self.get_string_width(column.header) > column.width - 1:
                raise ValueError(f"table header {column.header!r} is wider than its column ({column.width} mm)")
            self.cell(column.width, line_h + 1, latin1(column.header), align=column.align)
        self.ln(line_h + 1)
        self.line(self.l_margin, self.get_y(), self.l_margin + sum(c.width for c in columns), self.get_y())
        self.ln(1)
