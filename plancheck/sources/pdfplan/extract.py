"""A PDF's text as words with positions, grouped into lines, per page (pdfplumber).

Every way a PDF can fail to give text is a :class:`SourceError` naming the file
and page, with what to do: encrypted, damaged or cut short, or image-only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from plancheck.errors import SourceError

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
        return tuple(w for w, s in zip(self.words, self.starts) if s < end and s + len(w.text) > start)

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


def _open_error(path: Path, exc: BaseException) -> SourceError:
    cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
    where = f"{path} page 1"
    if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
        return SourceError(
            "the PDF is encrypted and needs a password to open", where=where,
            fix="save or print an unprotected copy from the planning system (or remove the password) and read that",
        )
    return SourceError(
        f"the PDF is damaged and cannot be opened ({type(cause).__name__}: {cause})".replace(": )", ")"), where=where,
        fix="copy or export the report again from the planning system",
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
    except Exception:  # noqa: BLE001 - only used to word the error message
        return 0


def extract(path: str | Path) -> Document:
    """Words and lines of every page; SourceError when the PDF gives no usable text."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror})", where=str(path), fix="check the path and permissions") from None
    return _extract_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _extract_cached(path_text: str, mtime_ns: int, size: int) -> Document:
    path = Path(path_text)
    _check_complete(path)
    pages: list[Page] = []
    try:
        with pdfplumber.open(path) as pdf:
            title = str((pdf.metadata or {}).get("Title", "") or "")
            for number, page in enumerate(pdf.pages, start=1):
                pages.append(_page(path, page, number))
    except SourceError:
        raise
    except (PdfminerException, PDFPasswordIncorrect, PDFEncryptionError) as exc:
        if pages:
            raise SourceError(f"page {len(pages) + 1} is damaged and cannot be read", where=f"{path} page {len(pages) + 1}",
                              fix="copy or export the report again from the planning system") from None
        raise _open_error(path, exc) from None
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types on damaged files; never a traceback
        raise SourceError(f"cannot read the PDF ({type(exc).__name__}: {exc})", where=f"{path} page {len(pages) + 1}",
                          fix="copy or export the report again from the planning system") from None
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


def _page(path: Path, page: pdfplumber.page.Page, number: int) -> Page:
    raw = page.extract_words(x_tolerance=WORD_JOIN_PT, y_tolerance=LINE_TOLERANCE_PT, keep_blank_chars=False)
    words = [Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"])) for w in raw if w.get("upright", True)]
    if not words and page.images:
        log.info("%s page %d: image only, no text", path, number)
    return Page(number, float(page.width), float(page.height), group_lines(words, number), bool(page.images))
