"""The run as a chart-check PDF for MOSAIQ's eSCAN: A4 portrait, a real text layer, one header per page.

Every page names the patient (ID and name) and the run date and is numbered
"page X of Y", so a page filed on its own still says whose it is. A run whose text
is all in Windows-1252 (Latin names) is drawn in the PDF's standard Helvetica: no font
to parse or embed, a third of a second sooner. Any other character (a Greek or
Cyrillic name) redraws the run in DejaVu Sans (shipped with matplotlib); a patient ID
or name even DejaVu cannot draw is flagged on the first page.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.errors import FPDFUnicodeEncodingException

from plancheck.checks.results import CheckRun, Status
from plancheck.report.failures import Failure, failure_line
from plancheck.report.pdftable import CellStyle, Measure, Table
from plancheck.report.pages import draw_pages
from plancheck.report.view import LABELS, SYMBOLS, ParamRow, RecordTable, ReportError, ReportView, build_view, created_text, figure_path, printable

logger = logging.getLogger(__name__)
RGB = tuple[int, int, int]
Cell = str | tuple[str, RGB]  # text, or text with its own colour
CORE, UNICODE = "helvetica", "DejaVu"
# the status marks Helvetica (Windows-1252) can draw; a passed manual check's tick is drawn as lines
CORE_SYMBOLS = {**SYMBOLS, Status.PASS: "", Status.FAIL: "×", Status.ERROR: "!!", Status.MANUAL: ""}


def _matplotlib_fonts() -> Path:
    """matplotlib's own DejaVu folder, found without importing matplotlib (0.45 s of every run)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("matplotlib, which ships the DejaVu fonts of the PDF report, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


INK, MUTED, LINE = (29, 31, 33), (95, 99, 104), (190, 194, 200)
COLOURS = {  # text colour, row fill
    Status.FAIL: ((179, 0, 27), (253, 228, 230)),
    Status.ERROR: ((142, 27, 142), (247, 227, 247)),
    Status.WARN: ((138, 90, 0), (255, 243, 205)),
    Status.PASS: ((27, 110, 46), None),
    Status.NOT_APPLICABLE: ((107, 107, 107), None),
    Status.MANUAL: ((11, 83, 148), None),
}
ROW_FILLED = (Status.FAIL, Status.ERROR, Status.WARN)
CONTINUED = (170, 174, 180)  # a beam label repeated on its beam's later rows
CHARS_PER_MM, MAX_CELL_LINES = 0.75, 36  # at 7.5 pt: a row stays well under a page


class ChartCheckPDF(FPDF):
    """FPDF with the chart-check page header and footer, in Helvetica or (``unicode``) DejaVu Sans."""

    def __init__(self, view: ReportView, *, unicode: bool = False) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.view = view
        self.family = UNICODE if unicode else CORE
        self.symbols = SYMBOLS if unicode else CORE_SYMBOLS
        if unicode:
            fonts = _matplotlib_fonts()
            self.add_font(UNICODE, "", fonts / "DejaVuSans.ttf")
            self.add_font(UNICODE, "B", fonts / "DejaVuSans-Bold.ttf")
        else:
            self.core_fonts_encoding = "windows-1252"  # Helvetica's WinAnsiEncoding: also – — … ‘ ’ “ ” •
        self.set_margins(14, 24, 14)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages()

    def normalize_text(self, text: str) -> str:
        """Every string fpdf draws or measures: control characters from data shown, never acted on."""
        return super().normalize_text(printable(text))

    def status(self, status: Status | None) -> str:
        """A status as its mark and word, e.g. "✗ fail" (Helvetica: "× fail", "pass")."""
        return self.mark(status, LABELS[status]) if status else ""

    def mark(self, status: Status, text: str) -> str:
        """``text`` after the status's mark (none for pass in Helvetica)."""
        return f"{self.symbols[status]} {text}".lstrip()

    def header(self) -> None:
        run = self.view.run
        self.set_y(9)
        self.set_text_color(*INK)
        who = f"{run.patient_id}   {self.view.patient_name}".strip()
        size = 10.0
        self.set_font(self.family, "B", size)
        while self.get_string_width(who) > self.epw * 0.6 - 2 and size > 6:
            size -= 0.5
            self.set_font(self.family, "B", size)
        self.cell(self.epw * 0.6, 5, who, new_x="RIGHT", new_y="TOP")
        self.set_font(self.family, "", 9)
        self.cell(self.epw * 0.4, 5, f"Chart check ({run.check_kind}) · {created_text(run)}", align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"plan {run.plan or '(all plans)'} · rule set {run.rule_set}", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*LINE)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.set_y(24)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 5, f"plancheck {self.view.run.version} · {self.view.run.patient_id}")
        self.cell(self.epw / 2, 5, f"page {self.page_no()} of {{nb}}", align="R")


def write_pdf(run: CheckRun, path: str | Path) -> Path:
    """Write the chart-check PDF to ``path`` (folders made as needed) and return the path."""
    path = Path(path)
    draw_pages(run, (path.parent,))
    view = build_view(run)
    try:
        pdf = draw_pdf(view, figure_dirs=(path.parent,))
    except FPDFUnicodeEncodingException as exc:  # text beyond Windows-1252: the same pages in DejaVu
        logger.debug("chart-check PDF of %s in DejaVu Sans: %s", run.patient_id, exc)
        pdf = draw_pdf(view, figure_dirs=(path.parent,), unicode=True)
    return save_pdf(pdf, path, "the PDF report", fix="choose a folder you can write to")


def save_pdf(pdf: FPDF, path: Path, what: str, *, fix: str) -> Path:
    """Write ``pdf`` to ``path`` (folders made as needed); a folder that cannot be written is a ReportError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pdf.output(str(path))
    except OSError as exc:
        raise ReportError(f"cannot write {what} ({exc.strerror})", where=str(path), fix=fix) from None
    return path


def draw_pdf(view: ReportView, *, figure_dirs: tuple[Path, ...] = (), unicode: bool = False) -> ChartCheckPDF:
    """Every page of the chart-check PDF of ``view``; raises FPDFUnicodeEncodingException on text Helvetica cannot draw."""
    run = view.run
    pdf = ChartCheckPDF(view, unicode=unicode)
    pdf.set_title(printable(f"plancheck {run.check_kind} check {run.patient_id}"))
    pdf.set_author("plancheck")
    pdf.set_subject(printable(f"Chart check of patient {run.patient_id}, plan {run.plan}"))
    pdf.set_creator(f"plancheck {run.version}")
    created = _created(run)
    if created is not None:
        pdf.set_creation_date(created)
    pdf.add_page()
    _overview(pdf, view)
    _failing(pdf, view)
    if view.plan_rows:
        _heading(pdf, "Patient and prescription")
        _param_table(pdf, view.plan_rows, view.plan_sources, with_beam=False)
    _heading(pdf, "Beam parameters")
    if view.beam_rows:
        _param_table(pdf, view.beam_rows, view.beam_sources, with_beam=True)
    else:
        _line(pdf, "No beam parameters were collected.", colour=COLOURS[Status.WARN][0])
    for records in view.record_tables:
        _record_table(pdf, records)
    _all_checks(pdf, view)
    for failure in view.failures:
        _figures(pdf, failure, figure_dirs=figure_dirs)
    _manual(pdf, view)
    return pdf


# ---- sections ----------------------------------------------------------------
def _overview(pdf: ChartCheckPDF, view: ReportView) -> None:
    run = view.run
    pdf.set_font(pdf.family, "B", 15)
    pdf.cell(0, 8, f"Chart check: {run.check_kind}", new_x="LMARGIN", new_y="NEXT")
    facts = [
        ("Patient", f"{run.patient_id}   {view.patient_name}"),
        ("Plan", run.plan or "(all plans)"),
        ("Rule set", run.rule_set),
        *view.course,
        ("Created", f"{created_text(run)} by plancheck {run.version}"),
        ("Sources read", ", ".join(view.sources_read) or "none"),
    ]
    for label, value in facts:
        _fact(pdf, label, value)
    for source, message in view.source_errors.items():
        _fact(pdf, "Source error", f"{source}: {message}", colour=COLOURS[Status.FAIL][0])
    lacking = missing_glyphs(pdf, run.patient_id + view.patient_name)
    if lacking:
        codes = " ".join(f"U+{ord(c):04X}" for c in lacking)
        note = f"the patient ID or name holds characters this PDF's font cannot draw ({codes}): confirm the patient against MOSAIQ or the HTML report"
        logger.warning("chart-check PDF of %s: %s", run.patient_id, note)
        _fact(pdf, "Warning", note, colour=COLOURS[Status.FAIL][0])
    pdf.ln(2)
    _summary_box(pdf, view)
    if view.notices:
        _heading(pdf, "Warnings")
        for notice in view.notices:
            _line(pdf, pdf.mark(notice.status, notice.text), size=8.5, colour=COLOURS[notice.status][0])


def _summary_box(pdf: ChartCheckPDF, view: ReportView) -> None:
    bad = not view.run.passed
    status = Status.FAIL if bad else (Status.PASS if view.summary.startswith("PASS") else Status.WARN)
    colour, fill = COLOURS[status]
    pdf.set_fill_color(*(fill or (227, 244, 231)))
    pdf.set_text_color(*colour)
    pdf.set_font(pdf.family, "B", 12)
    pdf.multi_cell(0, 7, view.summary, fill=True, align="L", new_x="LMARGIN", new_y="NEXT", padding=(2, 3, 0, 3))
    pdf.set_font(pdf.family, "", 9)
    for failure in view.failures:
        pdf.set_text_color(*COLOURS[failure.status][0])
        pdf.multi_cell(0, 4.6, pdf.mark(failure.status, failure_line(failure)), fill=True, align="L", new_x="LMARGIN", new_y="NEXT", padding=(0, 3, 0, 6))
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 5, view.counts_line(), fill=True, align="L", new_x="LMARGIN", new_y="NEXT", padding=(1, 3, 2, 3))


def _failing(pdf: ChartCheckPDF, view: ReportView) -> None:
    _heading(pdf, f"Failures: {view.failure_count_line()}")
    if not view.failures:
        _line(pdf, "None: every automatic check passed or did not apply.", colour=COLOURS[Status.PASS][0])
        return
    rows = [(f.status, [pdf.status(f.status), f"{f.name}\n{f.check_id}", f.beam, "\n".join(f.lines)]) for f in view.failures]
    _table(pdf, ["Status", "Check", "Beam", "What"], rows, widths=(16, 58, 14, 94))
    if any(f.figures for f in view.failures):
        _line(pdf, "Their figures follow the other automatic checks, one page each.", size=8, colour=MUTED)


def _all_checks(pdf: ChartCheckPDF, view: ReportView) -> None:
    _heading(pdf, "Other automatic checks")
    if view.passing:
        rows = [(r.status, [pdf.status(r.status), r.name or r.id, r.id, r.beam]) for r in view.passing]
        _table(pdf, ["Status", "Check", "Id", "Beam"], rows, widths=(16, 98, 54, 14))
    _line(pdf, view.implicit_line(), size=8.5, colour=MUTED)


def _record_table(pdf: ChartCheckPDF, records: RecordTable) -> None:
    """Every delivery record, task or document, one row each, its columns named as people name them."""
    _heading(pdf, records.count_line())
    headings = ["Source", "Record", *records.labels]
    rows: list[tuple[Status | None, list[Cell]]] = [
        (None, [source, item, *(values.get(p, "") for p in records.params)]) for source, item, values in records.records
    ]
    _table(pdf, headings, rows, widths=fit_widths(pdf, headings, [cells for _, cells in rows]))


def _manual(pdf: ChartCheckPDF, view: ReportView) -> None:
    _heading(pdf, f"Manual checks ({len(view.to_tick)} to tick)")
    if not view.manual:
        _line(pdf, "No manual checks in this rule set.", colour=MUTED)
    pdf.set_draw_color(*INK)
    for result in view.manual:
        text = f"{result.name} ({result.id})" + (f", beam {result.beam}" if result.beam else "")
        if result.message:
            text += f" — {result.message}"
        if result.status != Status.MANUAL:
            text += f"   [{LABELS[result.status]}]"
        if pdf.will_page_break(8):
            pdf.add_page()
        x, y = pdf.get_x(), pdf.get_y()
        pdf.rect(x + 0.5, y + 1, 3.6, 3.6)
        if result.status == Status.PASS:
            _tick(pdf, x + 0.5, y + 1)
        pdf.set_x(x + 7)
        pdf.set_font(pdf.family, "", 9.5)
        pdf.multi_cell(pdf.epw - 7, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.8)
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.ln(12)
    width = (pdf.epw - 12) / 3
    y = pdf.get_y()
    for i, label in enumerate(("Checked by (name)", "Signature", "Date")):
        x = pdf.l_margin + i * (width + 6)
        pdf.line(x, y, x + width, y)
        pdf.set_xy(x, y + 0.5)
        pdf.set_font(pdf.family, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 4, label)
    pdf.set_text_color(*INK)
    pdf.set_xy(pdf.l_margin, y + 6)


def _param_table(pdf: ChartCheckPDF, rows: list[ParamRow], sources: list[str], *, with_beam: bool) -> None:
    """Sources as columns; the beam label is written once per beam (greyed on its other rows); the odd value marked."""
    lead = ["Beam", "Parameter"] if with_beam else ["Parameter"]
    body = []
    for i, row in enumerate(rows):
        beam: list[Cell] = []
        if with_beam:
            first = i == 0 or rows[i - 1].beam != row.beam
            beam = [row.beam if first or row.status in ROW_FILLED else (row.beam, CONTINUED)]
        values: list[Cell] = [(row.values.get(s, ""), COLOURS[row.status][0]) if row.status and row.is_odd(s) else row.values.get(s, "") for s in sources]
        body.append((row.status, [*beam, row.label, *values, pdf.status(row.status)]))
    headings = lead + sources + ["Agree"]
    widths = fit_widths(pdf, headings, [cells for _, cells in body])
    odd = set(range(len(lead), len(lead) + len(sources)))
    _table(pdf, headings, body, widths=widths, status_col=len(widths) - 1, fill_rows=False, odd_cols=odd)


def fit_widths(pdf: ChartCheckPDF, headings: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[float]:
    """Column widths (mm) that fill the text width: each column its text's width where all fit, and never narrower
    than its longest value of up to 20 characters (a date and time stays on one line) or its longest word
    (up to 30 mm); headings wrap first."""
    pad = 2.8
    plain, bold = Measure(pdf, pdf.family, ""), Measure(pdf, pdf.family, "B")
    natural, floor = [], []
    for i, heading in enumerate(headings):
        texts = [_text(row[i]) for row in rows if i < len(row)]
        whole = [plain(line) for t in texts for line in t.splitlines()]
        unbroken = [plain(t) for t in texts if len(t) <= 20] + [plain(w) for t in texts for w in t.split()]
        head = max((bold(w) for w in heading.split()), default=4.0)
        floor.append(min(max([*unbroken, 4.0]), 30.0) + pad)
        natural.append(max([*whole, head, 4.0]) + pad)
    total = pdf.epw
    if sum(natural) <= total:
        return [n * total / sum(natural) for n in natural]
    if sum(floor) <= total:
        share = (total - sum(floor)) / (sum(natural) - sum(floor))
        return [f + (n - f) * share for f, n in zip(floor, natural, strict=True)]
    return [f * total / sum(floor) for f in floor]


def _text(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


# ---- drawing helpers -----------------------------------------------------------
def _table(
    pdf: ChartCheckPDF,
    headings: list[str],
    rows: Sequence[tuple[Status | None, Sequence[Cell]]],
    *,
    widths: Sequence[float],
    status_col: int = 0,
    fill_rows: bool = True,
    odd_cols: set[int] | None = None,
) -> None:
    """A table with repeated headings; rows with a failing/warning status are filled and coloured.

    A cell is text, or (text, colour) to colour it apart from its row; with ``fill_rows`` off only such a
    cell (in ``odd_cols``) is filled (and bold), so the odd value stands out rather than the whole row.
    """
    table = Table(pdf, pdf.family, headings, widths, line=LINE, ink=INK)
    for status, cells in rows:
        colour, status_fill = COLOURS.get(status, (INK, None)) if status else (INK, None)
        fill = status_fill if fill_rows else None
        styled = []
        for i, cell in enumerate(cells):
            text, text_colour = cell if isinstance(cell, tuple) else (cell, colour if (fill or i == status_col) else INK)
            cell_fill = status_fill if isinstance(cell, tuple) and odd_cols and i in odd_cols else fill
            styled.append((_clip(text, widths[i]), CellStyle(text_colour, cell_fill, bold=bool(cell_fill and not fill))))
        table.row(styled, fill=fill)
    pdf.ln(2)


def _tick(pdf: ChartCheckPDF, x: float, y: float) -> None:
    """A check mark in the 3.6 mm box at (x, y), drawn as two strokes (no font needed)."""
    width = pdf.line_width
    pdf.set_line_width(0.45)
    pdf.line(x + 0.6, y + 1.9, x + 1.5, y + 2.9)
    pdf.line(x + 1.5, y + 2.9, x + 3.1, y + 0.6)
    pdf.set_line_width(width)


def _heading(pdf: ChartCheckPDF, text: str) -> None:
    if pdf.will_page_break(18):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(pdf.family, "B", 11.5)
    pdf.set_text_color(*INK)
    pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*LINE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)


def _fact(pdf: ChartCheckPDF, label: str, value: str, colour: RGB = INK) -> None:
    pdf.set_font(pdf.family, "B", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(32, 5, label)
    pdf.set_font(pdf.family, "", 9)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, 5, value, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _line(pdf: ChartCheckPDF, text: str, *, size: float = 9, colour: RGB = INK) -> None:
    pdf.set_font(pdf.family, "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _figures(pdf: ChartCheckPDF, failure: Failure, figure_dirs: tuple[Path, ...]) -> None:
    """PNG/SVG figures of a failing check, at the page's text width (a page of its own); a missing one is noted."""
    for name in failure.figures:
        found = figure_path(name, figure_dirs)
        if found is None or found.suffix.lower() not in (".png", ".svg"):
            _line(pdf, f"{failure.name}: figure {name} {'not found' if found is None else 'not embedded (PNG and SVG only)'}", size=8, colour=MUTED)
            continue
        pdf.add_page()
        _line(pdf, f"{failure.name}{f' (beam {failure.beam})' if failure.beam else ''}: {found.name}", size=8, colour=MUTED)
        try:
            pdf.image(found, w=pdf.epw)
        except Exception as exc:  # a bad image is noted in the report, never fatal
            _line(pdf, f"figure {name} could not be embedded ({exc.__class__.__name__})", size=8, colour=MUTED)
        pdf.ln(2)


def _clip(text: str, width_mm: float) -> str:
    """Cut text that would make a row taller than a page (fpdf2 cannot split a row)."""
    limit = max(int(width_mm * CHARS_PER_MM * MAX_CELL_LINES), 40)
    return text if len(text) <= limit else text[: limit - 40].rstrip() + " … (cut: full text in the HTML report)"


def missing_glyphs(pdf: ChartCheckPDF, text: str) -> str:
    """The characters of ``text`` the body font has no glyph for (they would print as nothing)."""
    if pdf.family == CORE:
        return "".join(dict.fromkeys(c for c in text if not c.isspace() and not _in_cp1252(c)))
    cmap = getattr(pdf.fonts[UNICODE.lower()], "cmap", {})
    return "".join(dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in cmap))


def _in_cp1252(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _created(run: CheckRun) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(run.created)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.astimezone()
