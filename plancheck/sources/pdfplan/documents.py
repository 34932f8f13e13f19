"""Finding a patient's plan and second-check PDFs: in a folder, or among MOSAIQ's documents.

A finder is any callable ``finder(request) -> list[DocumentRef]``. The folder
finder reads the PDFs in ``[folders] pdf``; MOSAIQ's documents (tables
``Object``, ``ObjFilenames``, ``Prompt``) come through :func:`records_finder`,
which needs only a query returning one :class:`DocumentRecord` per document
version: it drops void versions, sorts each into plan / second check by its
document type, and marks the newest version of each document.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable, Iterable, Mapping, Sequence

from plancheck.errors import ConnectionFailed, SourceError
from plancheck.sources.pdfplan.extract import extract
from plancheck.sources.pdfplan.parse import choose, parse_document
from plancheck.sources.pdfplan.template import TemplateSet

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.sources import Request

log = logging.getLogger(__name__)

PLAN, SECOND_CHECK, UNKNOWN, UNREADABLE = "plan", "second_check", "unknown", "unreadable"
# MOSAIQ document types (Prompt text) per report type; plancheck.toml [pdf.document_types] replaces these.
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    PLAN: (r"(?i)treatment plan", r"(?i)plan report", r"(?i)dosimetry plan"),
    SECOND_CHECK: (r"(?i)second check", r"(?i)radcalc", r"(?i)mu (check|verification)", r"(?i)independent"),
}


@dataclass(frozen=True)
class DocumentRef:
    """One PDF a finder offers: which report type it is, its approval in the system that holds it, and
    whether it is the newest non-void version of its document. ``problem`` says why an
    ``unreadable`` or ``unknown`` document could not be used."""

    path: Path
    report_type: str  # plan | second_check | unknown | unreadable
    title: str
    approved: bool | None
    approved_at: str | None  # ISO 8601
    version: int | None
    newest: bool
    origin: str = ""
    problem: str = ""


DocumentFinder = Callable[["Request"], list[DocumentRef]]


def names_patient(text: str, patient_id: str) -> bool:
    """``patient_id`` appears in ``text`` as a whole token (not inside a longer ID)."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(patient_id)}(?![A-Za-z0-9])", text) is not None


class FolderFinder:
    """The patient's PDFs in a plain folder: ``folder/<patient ID>/`` if it exists, else every PDF
    below ``folder`` whose first page names the patient ID. Newest = latest file time among the
    reports of one type naming the same plan."""

    def __init__(self, folder: Path, templates: TemplateSet) -> None:
        self.folder, self.templates = Path(folder), templates

    def __call__(self, request: Request) -> list[DocumentRef]:
        if not self.folder.is_dir():
            raise SourceError("PDF folder not found", where=str(self.folder), fix="set [folders] pdf in plancheck.toml")
        own = self.folder / request.patient_id
        folder = own if own.is_dir() else self.folder
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
        found = [ref for path in paths if (ref := self._classify(path, request.patient_id, own.is_dir())) is not None]
        return _mark_newest(found)

    def _classify(self, path: Path, patient_id: str, own_folder: bool) -> tuple[DocumentRef, str] | None:
        named = own_folder or names_patient(path.name, patient_id)
        try:
            document = extract(path)
        except SourceError as exc:
            if not named:
                log.info("skipped unreadable PDF %s: %s", path, exc.message)
                return None
            return _ref(path, UNREADABLE, path.stem, problem=exc.message), ""
        if not named and not any(names_patient(line.text, patient_id) for line in document.pages[0].lines):
            return None
        try:
            recognition, _ = choose(document, self.templates)
        except SourceError as exc:
            return _ref(path, UNKNOWN, document.title or path.stem, problem=exc.message), ""
        parsed = parse_document(document, self.templates, recognition.template.name, strict=False)
        return _ref(path, recognition.template.report_type, document.title or path.stem), str(parsed.value("plan_label") or "")


def _ref(path: Path, report_type: str, title: str, problem: str = "") -> DocumentRef:
    return DocumentRef(path, report_type, title, None, None, None, True, origin=str(path), problem=problem)


def _mark_newest(found: Iterable[tuple[DocumentRef, str]]) -> list[DocumentRef]:
    """Newest = the latest file of its report type for the same plan."""
    items = list(found)
    latest: dict[tuple[str, str], float] = {}
    for ref, plan in items:
        key = (ref.report_type, plan)
        latest[key] = max(latest.get(key, 0.0), ref.path.stat().st_mtime)
    return [
        replace(ref, newest=ref.report_type in (UNKNOWN, UNREADABLE) or ref.path.stat().st_mtime >= latest[(ref.report_type, plan)])
        for ref, plan in items
    ]


# ---- documents held by an OIS (MOSAIQ) ---------------------------------------------------------

@dataclass(frozen=True)
class DocumentRecord:
    """One version of one document as an OIS lists it (MOSAIQ: an ``Object`` row joined to its
    ``ObjFilenames`` file and its ``Prompt`` document type). ``group`` is shared by the versions of
    one document (defaults to the title)."""

    id: str
    title: str
    doc_type: str
    path: Path
    approved: bool | None
    approved_at: str | None
    version: int | None
    void: bool
    created_at: str | None = None
    group: str = ""


def report_type_of(doc_type: str, types: Mapping[str, Sequence[str]] = DOCUMENT_TYPES) -> str:
    for report_type, patterns in types.items():
        if any(re.search(p, doc_type) for p in patterns):
            return report_type
    return UNKNOWN


def refs_from_records(records: Iterable[DocumentRecord], types: Mapping[str, Sequence[str]] = DOCUMENT_TYPES,
                      origin: str = "MOSAIQ") -> list[DocumentRef]:
    """Drop void versions, sort by document type, and mark the newest version of each document."""
    live = [r for r in records if not r.void]

    def rank(r: DocumentRecord) -> tuple[int, str, str]:
        return (r.version if r.version is not None else -1, r.approved_at or "", r.created_at or "")

    newest: dict[str, DocumentRecord] = {}
    for record in live:
        key = record.group or record.title
        if key not in newest or rank(record) > rank(newest[key]):
            newest[key] = record
    return [
        DocumentRef(Path(r.path), report_type_of(r.doc_type, types), r.title, r.approved, r.approved_at, r.version,
                    newest[r.group or r.title] is r, origin=f"{origin} document {r.id}")
        for r in live
    ]


def records_finder(query: Callable[[str], Iterable[DocumentRecord]], types: Mapping[str, Sequence[str]] = DOCUMENT_TYPES,
                   origin: str = "MOSAIQ") -> DocumentFinder:
    """A finder over an OIS's documents: ``query(patient_id)`` returns every version of every document."""

    def finder(request: Request) -> list[DocumentRef]:
        try:
            return refs_from_records(query(request.patient_id), types, origin)
        except ConnectionFailed as exc:  # said as what it stops: the documents kept there (the source's other finders still run)
            raise ConnectionFailed(f"{origin}'s documents could not be searched: {exc.what}", where=exc.where, fix=exc.fix) from None

    return finder


def document_types(config: Config | None) -> dict[str, tuple[str, ...]]:
    """Document-type patterns per report type: plancheck.toml ``[pdf.document_types]`` or the defaults."""
    configured = (config.extra.get("pdf", {}).get("document_types") if config else None) or {}
    types = dict(DOCUMENT_TYPES)
    for report_type, patterns in configured.items():
        if report_type not in (PLAN, SECOND_CHECK):
            raise SourceError(f"[pdf.document_types] has unknown report type {report_type!r}", fix="use plan and second_check")
        types[report_type] = tuple([patterns] if isinstance(patterns, str) else patterns)
    return types
