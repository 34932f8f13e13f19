"""Tables of the chart-check PDF, drawn with fpdf's plain text, rectangle and line calls.

fpdf's ``table()`` lays out every cell through ``multi_cell``'s character-by-character line
breaker: 0.5 s of the demo patient's 0.7 s PDF. Here each word is measured once (fpdf adds
glyph widths without kerning, so a line is as wide as its words and spaces) and rows are cut
by hand; the headings repeat at the top of every page the table runs onto.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fpdf import FPDF

RGB = tuple[int, int, int]
SIZE_PT, LINE_MM, PAD_V_MM, PAD_H_MM = 7.5, 3.6, 0.8, 1.2
HEAD_FILL = (232, 235, 239)


@dataclass(frozen=True)
class CellStyle:
    """How one cell is drawn: text colour, background (None: the page's), bold."""

    colour: RGB
    fill: RGB | None = None
    bold: bool = False


class Measure:
    """Widths (mm) of words in one font at the table's size, each measured once.

    The font's own glyph widths are summed (what ``get_string_width`` does after parsing the text
    for markdown and bidirectional runs, at ten times the cost).
    """

    def __init__(self, pdf: FPDF, family: str, style: str) -> None:
        self.pdf, self.family, self.style = pdf, family, style
        pdf.set_font(family, style, SIZE_PT)
        self.font = pdf.current_font
        self.widths: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        width = self.widths.get(text)
        if width is None:
            assert self.font is not None
            width = self.widths[text] = self.font.get_text_width(self.pdf.normalize_text(text), SIZE_PT, None)[1] / self.pdf.k
        return width


def wrap(text: str, width_mm: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` cut into lines no wider than ``width_mm``: at spaces, inside a word only where the word alone is wider."""
    lines: list[str] = []
    space = measure(" ")
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split(" "):
            word_w = measure(word)
            if not line or line_w + space + word_w > width_mm:
                if line:
                    lines.append(line)
                line, line_w = _break_word(word, width_mm, measure, lines)
            else:
                line, line_w = f"{line} {word}", line_w + space + word_w
        lines.append(line)
    return lines


def _break_word(word: str, width_mm: float, measure: Callable[[str], float], lines: list[str]) -> tuple[str, float]:
    """Append the full-width pieces of a word wider than the column to ``lines``; return the rest and its width."""
    while len(word) > 1 and measure(word) > width_mm:
        cut = 1
        while cut < len(word) - 1 and measure(word[: cut + 1]) <= width_mm:
            cut += 1
        lines.append(word[:cut])
        word = word[cut:]
    return word, measure(word)


class Table:
    """One table on an FPDF page: headings, then rows; the headings again after every page break."""

    def __init__(self, pdf: FPDF, family: str, headings: Sequence[str], widths: Sequence[float], *, line: RGB, ink: RGB) -> None:
        self.pdf, self.widths, self.line, self.ink = pdf, list(widths), line, ink
        self.measures = {bold: Measure(pdf, family, "B" if bold else "") for bold in (False, True)}
        self.head = [(text, CellStyle(ink, HEAD_FILL, bold=True)) for text in headings]
        self._draw(self._layout(self.head), row_fill=HEAD_FILL)

    def row(self, cells: Sequence[tuple[str, CellStyle]], *, fill: RGB | None = None) -> None:
        """One row; ``fill`` paints the whole row, a cell's own fill paints that cell."""
        laid = self._layout(cells)
        height = self._height(laid)
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()
            self._draw(self._layout(self.head), row_fill=HEAD_FILL)
        self._draw(laid, row_fill=fill)

    def _layout(self, cells: Sequence[tuple[str, CellStyle]]) -> list[tuple[list[str], CellStyle]]:
        return [(wrap(text, width - 2 * PAD_H_MM, self.measures[style.bold]), style) for (text, style), width in zip(cells, self.widths, strict=False)]

    @staticmethod
    def _height(laid: list[tuple[list[str], CellStyle]]) -> float:
        return max((len(lines) for lines, _ in laid), default=1) * LINE_MM + 2 * PAD_V_MM

    def _draw(self, laid: list[tuple[list[str], CellStyle]], *, row_fill: RGB | None) -> None:
        pdf, x0, top = self.pdf, self.pdf.l_margin, self.pdf.get_y()
        height, total = self._height(laid), sum(self.widths)
        if row_fill:
            pdf.set_fill_color(*row_fill)
            pdf.rect(x0, top, total, height, style="F")
        baseline = top + PAD_V_MM + LINE_MM / 2 + 0.3 * SIZE_PT / pdf.k
        x = x0
        for (lines, style), width in zip(laid, self.widths, strict=False):
            if style.fill and style.fill != row_fill:
                pdf.set_fill_color(*style.fill)
                pdf.rect(x, top, width, height, style="F")
            measure = self.measures[style.bold]
            pdf.set_font(measure.family, measure.style, SIZE_PT)
            pdf.set_text_color(*style.colour)
            for i, text in enumerate(lines):
                if text:
                    pdf.text(x + PAD_H_MM, baseline + i * LINE_MM, text)
            x += width
        pdf.set_draw_color(*self.line)
        pdf.line(x0, top + height, x0 + total, top + height)
        pdf.set_text_color(*self.ink)
        pdf.set_xy(x0, top + height)
