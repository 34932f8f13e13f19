"""A PDF's text as words with positions, grouped into lines, per page.

Every way a PDF can fail to give text is a :class:`SourceError` naming the file
and page, with what to do: encrypted, damaged or cut short, or image-only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from plancheck.errors import SourceError
from plancheck.sources.pdfplan.orientation import Box, matrix_quarter, quarter, reading_turns, turn_box, turned_size

log = logging.getLogger(__name__)

LINE_TOLERANCE_PT = 2.5  # words whose tops differ by less than this sit on one line
WORD_JOIN_PT = 1.5  # characters closer than this belong to one word
WIDE_GAP_EM = 0.5  # a gap wider than this many font heights (about two spaces) separates cells: two spaces in line text
EOF_WINDOW = 2048  # a complete PDF ends with %%EOF within its last bytes


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Line:
    """Words on one baseline; ``text`` joins them, a wide gap shown as two spaces."""

    page: int
    number: int
    words: tuple[Word, ...]
    text: str
    starts: tuple[int, ...]  # offset of each word in ``text``

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def height(self) -> float:
        return max(w.bottom - w.top for w in self.words)

    def cells(self) -> list[tuple[Word, ...]]:
        """Runs of words separated by no more than a space: the text of one table cell each."""
        runs: list[list[Word]] = []
        for word in self.words:
            if runs and not is_wide_gap(runs[-1][-1], word):
                runs[-1].append(word)
            else:
                runs.append([word])
        return [tuple(run) for run in runs]

    def words_in(self, start: int, end: int) -> tuple[Word, ...]:
        """The words that overlap characters ``start:end`` of ``text``."""
        return tuple(w for w, s in zip(self.words, self.starts, strict=False) if s < end and s + len(w.text) > start)

    @property
    def where(self) -> str:
        return f"page {self.page} line {self.number}"


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]
    has_images: bool


@dataclass(frozen=True)
class Document:
    path: Path
    pages: tuple[Page, ...]
    title: str

    def lines(self, first: int = 1, last: int | None = None) -> list[Line]:
        """All lines of pages ``first``..``last`` (1-based, inclusive)."""
        return [line for page in self.pages[first - 1 : last] for line in page.lines]


def is_wide_gap(left: Word, right: Word) -> bool:
    """More than about two spaces between two words on a line."""
    return right.x0 - left.x1 > WIDE_GAP_EM * (left.bottom - left.top)


def group_lines(words: list[Word], page: int) -> tuple[Line, ...]:
    """Words to lines: by top (within a tolerance), then left to right."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        if rows and abs(word.top - rows[-1][0].top) <= LINE_TOLERANCE_PT:
            rows[-1].append(word)
        else:
            rows.append([word])
    return tuple(_line(page, n, sorted(row, key=lambda w: w.x0)) for n, row in enumerate(rows, start=1))


def _line(page: int, number: int, words: list[Word]) -> Line:
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for i, word in enumerate(words):
        if i:
            sep = "  " if is_wide_gap(words[i - 1], word) else " "
            parts.append(sep)
            offset += len(sep)
        starts.append(offset)
        parts.append(word.text)
        offset += len(word.text)
    return Line(page, number, tuple(words), "".join(parts), tuple(starts))


def _damaged(path: Path, page: int, detail: str) -> SourceError:
    return SourceError(f"the PDF is damaged and cannot be read ({detail})", where=f"{path} page {page}",
                       fix="copy or export the report again from the planning system")


def _encrypted(path: Path) -> SourceError:
    return SourceError(
        "the PDF is encrypted and needs a password to open", where=f"{path} page 1",
        fix="save or print an unprotected copy from the planning system (or remove the password) and read that",
    )


def _check_complete(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        raise SourceError("the file is empty (0 bytes)", where=f"{path} page 1", fix="copy or export the report again")
    with path.open("rb") as handle:
        if handle.read(5) != b"%PDF-":
            raise SourceError("not a PDF (no %PDF header)", where=f"{path} page 1", fix="is this the report file? export it as PDF")
        handle.seek(max(0, size - EOF_WINDOW))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise SourceError(
            f"the PDF is cut short: it has no end-of-file marker ({size} bytes), so pages may be missing",
            where=f"{path} page {_readable_pages(path) + 1}",
            fix="the copy is incomplete: copy or export the report again from the planning system",
        )


def _readable_pages(path: Path) -> int:
    """How many pages of a cut-short PDF can still be read (names the page where it breaks)."""
    try:
        with pdfplumber.open(path) as pdf:
            count = 0
            for page in pdf.pages:
                page.chars  # noqa: B018 - forces the page content to be parsed
                count += 1
            return count
    except Exception:
        return 0


def extract(path: str | Path, backend: str | None = None) -> Document:
    """Words and lines of every page; SourceError when the PDF gives no usable text.

    ``backend`` is ``pdfium`` (the default: PDFium through pypdfium2, which pdfplumber
    itself depends on, about ten times faster) or ``pdfplumber`` (pdfminer); both give the
    same words and positions, and the tests hold them to that.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror})", where=str(path), fix="check the path and permissions") from None
    return _extract_cached(str(path), stat.st_mtime_ns, stat.st_size, backend or DEFAULT_BACKEND)


@lru_cache(maxsize=16)
def _extract_cached(path_text: str, mtime_ns: int, size: int, backend: str) -> Document:
    path = Path(path_text)
    _check_complete(path)
    reader = BACKENDS.get(backend)
    if reader is None:
        raise ValueError(f"unknown PDF backend {backend!r}: one of {', '.join(BACKENDS)}")
    title, pages = reader(path)
    if not pages:
        raise SourceError("the PDF has no pages", where=f"{path} page 1", fix="copy or export the report again")
    if not any(p.lines for p in pages):
        scanned = any(p.has_images for p in pages)
        raise SourceError(
            "no text layer: the pages are images (a scan or a picture of the report)" if scanned else "the pages hold no text",
            where=f"{path} page 1",
            fix="print the report to PDF from the planning system, or run OCR on the scan (e.g. ocrmypdf) so it has text",
        )
    return Document(path, tuple(pages), title)


# ---- PDFium (pypdfium2) -------------------------------------------------------------------------

def _pdfium_pages(path: Path) -> tuple[str, list[Page]]:
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise _encrypted(path) from None
        raise _damaged(path, 1, str(exc).replace("Failed to load document ", "").strip("(). ")) from None
    pages: list[Page] = []
    try:
        title = str(pdf.get_metadata_dict().get("Title", "") or "")
        for index in range(len(pdf)):
            try:
                page = pdf[index]
            except pypdfium2.PdfiumError as exc:
                raise _damaged(path, index + 1, str(exc)) from None
            try:
                pages.append(_pdfium_page(page, index + 1))
            finally:
                page.close()
    finally:
        pdf.close()
    return title, pages


def _pdfium_page(page: pypdfium2.PdfPage, number: int) -> Page:
    """Words from PDFium's characters, in the frame where most of them read upright (see :mod:`.orientation`).

    PDFium gives character boxes and angles in the page's own space, before ``/Rotate``;
    text at another angle than most (a watermark or vertical label) is left out. The raw
    calls skip pypdfium2's per-call wrappers: a 20-page report has some 40 000 characters.
    """
    rotate = page.get_rotation()
    width, height = turned_size(page.get_width(), page.get_height(), rotate // 90)  # the page's own space
    textpage = page.get_textpage()
    try:
        chars = _pdfium_chars(textpage, height)
        turns = reading_turns((c[3] for c in chars), default=-rotate // 90 % 4)
        words = _pdfium_words(chars, turns, width, height, textpage.raw)
    finally:
        textpage.close()
    images = not words and any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
    width, height = turned_size(width, height, turns)
    return Page(number, float(width), float(height), group_lines(words, number), images)


PdfiumChar = tuple[str, Box, int, int | None]  # text ("" for a space), loose box, index, quarter turns


def _pdfium_chars(textpage: pypdfium2.PdfTextPage, height: float) -> list[PdfiumChar]:
    """Every character with its loose box (y down from the top), index and quarter turns.

    The angle is asked once per run of characters between spaces (PDFium puts a space or
    line break between text drawn at different angles), which saves a call per character.
    """
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:  # characters outside the Basic Multilingual Plane: one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    raw, box = textpage.raw, pdfium_c.FS_RECTF()
    chars: list[PdfiumChar] = []
    turn: int | None = None
    for i, char in enumerate(text):
        if char.isspace() or char == "\x00":
            chars.append(("", (0.0, 0.0, 0.0, 0.0), i, None))
            continue
        if not chars or not chars[-1][0]:
            turn = quarter(pdfium_c.FPDFText_GetCharAngle(raw, i))
        pdfium_c.FPDFText_GetLooseCharBox(raw, i, box)
        chars.append((char, (box.left, box.right, height - box.top, height - box.bottom), i, turn))
    return chars


def _pdfium_words(chars: list[PdfiumChar], turns: int, width: float, height: float, raw: pdfium_c.FPDF_TEXTPAGE) -> list[Word]:
    """Characters to words, split at spaces, line changes and gaps; those not at ``turns`` left out."""
    words: list[Word] = []
    run: list[str] = []
    x0 = x1 = top = bottom = 0.0
    keep = False
    for char, box, index, turn in chars:
        if not char:
            if run and keep:
                words.append(Word("".join(run), x0, x1, top, bottom))
            run = []
            continue
        left, right, _, char_bottom = turn_box(box, turns, width, height) if turns else box
        if run and (abs(char_bottom - bottom) > LINE_TOLERANCE_PT or left - x1 > WORD_JOIN_PT or (turn == turns) != keep):
            if keep:
                words.append(Word("".join(run), x0, x1, top, bottom))
            run = []
        if not run:
            # as pdfminer does: a word's box is one font size tall, standing on the descender line
            x0, bottom, top = left, char_bottom, char_bottom - pdfium_c.FPDFText_GetFontSize(raw, index)
            keep = turn == turns
        run.append(char)
        x1 = right
    if run and keep:
        words.append(Word("".join(run), x0, x1, top, bottom))
    return words


# ---- pdfplumber (pdfminer) ----------------------------------------------------------------------

def _pdfplumber_pages(path: Path) -> tuple[str, list[Page]]:
    pages: list[Page] = []
    try:
        with pdfplumber.open(path) as pdf:
            title = str((pdf.metadata or {}).get("Title", "") or "")
            for number, page in enumerate(pdf.pages, start=1):
                pages.append(_pdfplumber_page(page, number))
    except (PdfminerException, PDFPasswordIncorrect, PDFEncryptionError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise _encrypted(path) from None
        raise _damaged(path, len(pages) + 1, f"{type(cause).__name__}: {cause}") from None
    except Exception as exc:
        raise _damaged(path, len(pages) + 1, f"{type(exc).__name__}: {exc}") from None
    return title, pages


def _pdfplumber_page(page: pdfplumber.page.Page, number: int) -> Page:
    """Words from pdfminer's characters, in the frame where most of them read upright (see :mod:`.orientation`).

    pdfminer has already applied ``/Rotate``: its characters are placed as the page is displayed.
    """
    width, height = float(page.width), float(page.height)
    chars = [(char, matrix_quarter(char["matrix"][0], char["matrix"][1])) for char in page.chars]
    turns = reading_turns((turn for char, turn in chars if not char["text"].isspace()), default=0)
    upright = []
    for char, turn in chars:
        if turn == turns:
            x0, x1, top, bottom = turn_box((char["x0"], char["x1"], char["top"], char["bottom"]), turns, width, height)
            upright.append({**char, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "upright": True})
    raw = pdfplumber.utils.extract_words(upright, x_tolerance=WORD_JOIN_PT, y_tolerance=LINE_TOLERANCE_PT, keep_blank_chars=False)
    words = [Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"])) for w in raw]
    width, height = turned_size(width, height, turns)
    return Page(number, width, height, group_lines(words, number), bool(page.images))


BACKENDS = {"pdfium": _pdfium_pages, "pdfplumber": _pdfplumber_pages}
DEFAULT_BACKEND = "pdfium"
