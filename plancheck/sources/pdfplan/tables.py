"""Tables read by column: a header line fixes where each column is, rows are read under it.

Each run of words on a line (words no more than a space apart: one cell's
text) goes to the column its middle falls in. A row starts on a line with text
in the table's anchor column; lines without it continue the row above (a beam
name wrapped onto two lines), except right under a header, where such a line is
the header's second line (units) and is skipped. A table that
reaches the foot of a page continues on the next page when the header is
printed again there. A table ends at an ``end`` line, a line in a different
font size, a gap wider than ``max_gap_pt``, or a page without the header.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from plancheck.sources.pdfplan.extract import Line, Word, is_wide_gap
from plancheck.sources.pdfplan.template import TableSpec
import itertools

SLACK_PT = 2.0  # how far a cell's text may start left of its header (cell padding differences)
CONTINUE_WITHIN = 6  # the repeated header must come within this many lines of the next page's top
FONT_CHANGE = 0.3  # a line whose text height differs from the header's by more than this ends the table


@dataclass(frozen=True)
class ColumnPos:
    """Where one column sits; ``name`` is None for a printed column the template does not read."""

    name: str | None
    x0: float
    x1: float
    align: str
    header: str


@dataclass(frozen=True)
class Header:
    line: Line
    columns: tuple[ColumnPos, ...]
    bounds: tuple[float, ...]  # x of each boundary between neighbouring columns

    def column_at(self, x: float) -> ColumnPos:
        return self.columns[bisect.bisect_right(self.bounds, x)]


@dataclass
class TableRow:
    page: int
    line: int
    header: Header
    cells: dict[str, list[str]] = field(default_factory=dict)

    def text(self, column: str, join: str = " ") -> str:
        return join.join(self.cells.get(column, []))


@dataclass
class HeaderTry:
    """The line that came closest to being the header, and which column headings it lacked."""

    line: Line | None = None
    found: int = -1
    lacking: tuple[str, ...] = ()


@dataclass
class TableRead:
    spec: TableSpec
    headers: list[Header] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)
    title: Line | None = None
    closest: HeaderTry = field(default_factory=HeaderTry)
    ended_by: str = ""

    @property
    def found(self) -> bool:
        return bool(self.headers)

    @property
    def pages(self) -> list[int]:
        return sorted({h.line.page for h in self.headers})


def match_header(line: Line, spec: TableSpec, closest: HeaderTry | None = None) -> Header | None:
    """The column positions if ``line`` is this table's header line, else None."""
    taken: list[tuple[int, int]] = []
    named: list[ColumnPos] = []
    lacking: list[str] = []
    for column in spec.columns:
        span = next((m.span() for m in column.header.finditer(line.text)
                     if m.end() > m.start() and not any(m.start() < e and m.end() > s for s, e in taken)), None)
        words = line.words_in(*span) if span else ()
        if not words:
            if not column.optional:
                lacking.append(column.header.pattern)
            continue
        taken.append(span)  # type: ignore[arg-type]
        named.append(ColumnPos(column.name, min(w.x0 for w in words), max(w.x1 for w in words), column.align,
                               line.text[span[0]:span[1]]))  # type: ignore[index]
    if lacking:
        if closest is not None and len(named) > closest.found:
            closest.line, closest.found, closest.lacking = line, len(named), tuple(lacking)
        return None
    used = {id(w) for c in named for w in line.words if c.x0 <= w.x0 and w.x1 <= c.x1}
    columns = sorted(named + _unnamed([w for w in line.words if id(w) not in used], spec.align), key=lambda c: c.x0)
    bounds = tuple(_boundary(a, b) for a, b in itertools.pairwise(columns))
    return Header(line, tuple(columns), bounds)


def _unnamed(words: list[Word], align: str) -> list[ColumnPos]:
    """Printed columns the template does not read: their headings, split at wide gaps."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and not is_wide_gap(groups[-1][-1], word):
            groups[-1].append(word)
        else:
            groups.append([word])
    return [ColumnPos(None, g[0].x0, g[-1].x1, align, " ".join(w.text for w in g)) for g in groups]


def _boundary(left: ColumnPos, right: ColumnPos) -> float:
    if right.align == "left":
        return right.x0 - SLACK_PT
    if left.align == "right":
        return left.x1 + SLACK_PT
    return (left.x1 + right.x0) / 2


def read_table(lines: list[Line], spec: TableSpec) -> TableRead:
    """Find and read one table in ``lines`` (the report's lines in page order, page furniture removed)."""
    result = TableRead(spec)
    start = 0
    if spec.title is not None:
        start = next((i for i, line in enumerate(lines) if spec.title.search(line.text)), -1)
        if start < 0:
            return result
        result.title = lines[start]
        start += 1
    header: Header | None = None
    previous: Line | None = None
    awaiting: tuple[int, int] | None = None  # (page the header must repeat on, lines left to find it)
    for line in lines[start:]:
        found = match_header(line, spec, result.closest)
        if awaiting is not None:
            page, budget = awaiting
            if line.page != page or budget == 0:
                result.ended_by = f"page {page} does not repeat the header"
                break
            if found is None:
                awaiting = (page, budget - 1)
                continue
        if found is not None:
            header, previous, awaiting = found, line, None
            result.headers.append(found)
            continue
        if header is None or previous is None:
            continue
        if line.page != previous.page:
            awaiting = (previous.page + 1, CONTINUE_WITHIN - 1)
            if line.page != previous.page + 1:
                result.ended_by = "the next page does not repeat the header"
                break
            continue
        reason = _ends(line, previous, header, spec)
        if reason:
            result.ended_by = reason
            break
        _add_line(result, header, line, spec, first_of_segment=result.rows == [] or result.rows[-1].header is not header)
        previous = line
    return result


def _ends(line: Line, previous: Line, header: Header, spec: TableSpec) -> str:
    for pattern in spec.end:
        if pattern.search(line.text):
            return f"{line.where} matches end '{pattern.pattern}'"
    if line.top - (previous.top + previous.height) > spec.max_gap_pt:
        return f"{line.where} is more than {spec.max_gap_pt:g} pt below the row above"
    if abs(line.height - header.line.height) > FONT_CHANGE * header.line.height:
        return f"{line.where} is in another font size"
    return ""


def _add_line(result: TableRead, header: Header, line: Line, spec: TableSpec, first_of_segment: bool) -> None:
    """A new row where the anchor column has text; else the row above continues. Before the
    first row under a header, a line without the anchor is the header's second line (units): skipped."""
    cells: dict[str, list[str]] = {}
    for run in line.cells():
        column = header.column_at((run[0].x0 + run[-1].x1) / 2)
        if column.name is not None:
            cells.setdefault(column.name, []).extend(w.text for w in run)
    if spec.row_anchor in cells:
        result.rows.append(TableRow(line.page, line.number, header))
    elif first_of_segment:
        return
    row = result.rows[-1]
    for name, words in cells.items():
        row.cells.setdefault(name, []).append(" ".join(words))
