"""The ``plan_pdf`` and ``second_check`` sources: the patient's newest report of each type, read
with the template that fits it, as rows of the collected table.

The signed plan PDF is what the physician approved, so it is read as a source in
its own right. Which report: the finders' documents of that report type, newest first;
where a plan is named, the report naming that plan. Document rows (scope
``document``, one item per report read) say which file was read, whether it is
approved and whether it is the newest version.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from plancheck.errors import ConnectionFailed, SourceError
from plancheck.sources import Reading, Request
from plancheck.sources.pdfplan.convert import target_unit
from plancheck.sources.pdfplan.finders import default_finders
from plancheck.sources.pdfplan.documents import (
    PLAN, SECOND_CHECK, UNKNOWN, UNREADABLE, DocumentFinder, DocumentRef,
)
from plancheck.sources.pdfplan.parse import Found, Parsed, parse_file
from plancheck.sources.pdfplan.template import REPORT_SOURCES, TemplateSet, load_templates, template_dirs
from plancheck.table import Param
from plancheck.vocabulary import SCOPES_OF

log = logging.getLogger(__name__)

NOUN = {PLAN: "plan report", SECOND_CHECK: "second-check report"}
SCOPE_ORDER = ("prescription", "patient", "document")


def read_plan_pdf(request: Request, *, finders: Sequence[DocumentFinder] | None = None,
                  templates: TemplateSet | None = None) -> Reading | None:
    """Source ``plan_pdf``: the patient's plan report (None when no PDF folder or finder is configured)."""
    return read_documents(request, PLAN, finders=finders, templates=templates)


def read_second_check(request: Request, *, finders: Sequence[DocumentFinder] | None = None,
                      templates: TemplateSet | None = None) -> Reading | None:
    """Source ``second_check``: the patient's independent-calculation report (RadCalc, ...)."""
    return read_documents(request, SECOND_CHECK, finders=finders, templates=templates)


def _recency(ref: DocumentRef) -> tuple[bool, str, int, float]:
    try:
        mtime = ref.path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (ref.newest, ref.approved_at or "", ref.version if ref.version is not None else -1, mtime)


def read_documents(request: Request, report_type: str, *, finders: Sequence[DocumentFinder] | None = None,
                   templates: TemplateSet | None = None) -> Reading | None:
    """Find, choose and read the patient's report of ``report_type`` (plan or second_check)."""
    templates = templates if templates is not None else load_templates(template_dirs(request.config))
    finders = finders if finders is not None else default_finders(request.config, templates)
    if not finders:
        return None
    refs, unreachable = _find(request, finders)
    if unreachable and not any(r.report_type == report_type for r in refs):
        raise unreachable[0]  # the report may be where no finder could look: the source cannot say it has none
    reading = Reading(warnings=[f"{e.where}: {e.what}; read from the other document folders" for e in unreachable])
    parsed, failed = _parse_candidates([r for r in refs if r.report_type == report_type], report_type, templates)
    chosen = _pick(parsed, request, report_type, reading)
    if chosen is None:
        return _nothing_read(request, report_type, refs, failed, reading)
    ref, result = chosen
    newer = [(r, e) for r, e in failed if _recency(r) > _recency(ref)]
    if newer:
        exc = newer[0][1]
        raise SourceError(f"a newer {NOUN[report_type]} cannot be read, so the one read ({ref.path.name}) may be out of date: {exc.what}",
                          where=exc.where, fix=exc.fix)
    reading.warnings.extend(f"{r.path.name} was not read: {e.message}" for r, e in failed)
    reading.warnings.extend(f"{r.path.name} names the patient but could not be read: {r.problem}"
                            for r in refs if r.report_type == UNREADABLE and _recency(r) > _recency(ref))
    reading.warnings.extend(result.warnings)
    printed_id = result.value("patient_id")
    if printed_id is not None and str(printed_id) != request.patient_id:
        reading.warnings.append(f"{ref.path.name} names patient ID {printed_id!r}, not {request.patient_id!r}")
    reading.rows.extend(rows_from_parsed(result, ref))
    return reading


def _find(request: Request, finders: Sequence[DocumentFinder]) -> tuple[list[DocumentRef], list[ConnectionFailed]]:
    """Every finder's documents; a finder whose system cannot be reached (MOSAIQ) is kept aside, never stopping the others."""
    refs: list[DocumentRef] = []
    unreachable: list[ConnectionFailed] = []
    for finder in finders:
        try:
            refs.extend(finder(request))
        except ConnectionFailed as exc:
            unreachable.append(exc)
    return refs, unreachable


def _parse_candidates(refs: list[DocumentRef], report_type: str, templates: TemplateSet
                      ) -> tuple[list[tuple[DocumentRef, Parsed]], list[tuple[DocumentRef, SourceError]]]:
    """Each document of the report type, newest first: parsed, or the error it gave."""
    parsed: list[tuple[DocumentRef, Parsed]] = []
    failed: list[tuple[DocumentRef, SourceError]] = []
    for ref in sorted(refs, key=_recency, reverse=True):
        try:
            result = parse_file(ref.path, templates)
        except SourceError as exc:
            failed.append((ref, exc))
            continue
        if result.template.report_type != report_type:
            failed.append((ref, SourceError(f"filed as a {NOUN[report_type]} but reads as a {result.template.description}",
                                            where=f"{ref.path} page 1", fix=f"check the document type in {ref.origin or 'the source'}")))
            continue
        parsed.append((ref, result))
    return parsed, failed


def _nothing_read(request: Request, report_type: str, refs: list[DocumentRef], failed: list[tuple[DocumentRef, SourceError]],
                  reading: Reading) -> Reading:
    """No report of the type was read: an error when one could not be read, else a warning saying what was seen."""
    # a PDF that cannot be read may be the report; one that reads but fits no template is most likely another document
    problems = failed + [(r, SourceError(r.problem, where=str(r.path))) for r in refs if r.report_type == UNREADABLE]
    if problems:
        exc = problems[0][1]
        more = f" ({len(problems) - 1} more PDF(s) naming the patient could not be read either)" if len(problems) > 1 else ""
        raise SourceError(f"no readable {NOUN[report_type]} for patient {request.patient_id}: {exc.what}{more}", where=exc.where, fix=exc.fix)
    if not reading.warnings:
        others = [r.path.name for r in refs if r.report_type == UNKNOWN]
        hint = (f"; {len(others)} PDF(s) name the patient but fit no template ({', '.join(others[:3])}): "
                "`plancheck pdf inspect FILE` shows why") if others else ""
        reading.warnings.append(f"no {NOUN[report_type]} PDF found for patient {request.patient_id}{hint}")
    return reading


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def _pick(parsed: list[tuple[DocumentRef, Parsed]], request: Request, report_type: str, reading: Reading) -> tuple[DocumentRef, Parsed] | None:
    """The newest report naming the requested plan; with one plan among the reports, that one (and a warning)."""
    if not parsed or not request.plan:
        return parsed[0] if parsed else None
    matching = [item for item in parsed if _norm(item[1].value("plan_label")) == _norm(request.plan)]
    if matching:
        return matching[0]
    labels = sorted({str(p.value("plan_label")) for _, p in parsed})
    if len(labels) == 1:
        reading.warnings.append(f"the {NOUN[report_type]} {parsed[0][0].path.name} names plan {labels[0]!r}, not {request.plan!r}: "
                                "read it anyway so the checks compare it")
        return parsed[0]
    reading.warnings.append(f"no {NOUN[report_type]} names plan {request.plan!r} (found: {', '.join(labels)})")
    return None


def _scope(param: str) -> str:
    return next(s for s in SCOPE_ORDER if s in SCOPES_OF[param])


def _provenance(path: Path, found: Found) -> str:
    if found.beam:
        return f"{path} page {found.page} table {found.name.split('.')[0]} row {found.row}"
    return f"{path} page {found.page} line {found.line}"


def rows_from_parsed(parsed: Parsed, ref: DocumentRef | None = None) -> list[Param]:
    """Rows of the collected table from one parsed report (and the document it came from)."""
    source = REPORT_SOURCES[parsed.template.report_type]
    path = parsed.document.path
    item = f"{parsed.template.report_type}:{path.name}"
    rows: list[Param] = []
    document: dict[str, tuple[Any, str]] = {}
    for found in parsed.values:
        scope = _scope(found.param)
        if scope == "document":
            document[found.param] = (found.value, _provenance(path, found))
            continue
        rows.append(Param(scope, "", found.param, found.value, target_unit(found.param), source, _provenance(path, found)))
    treatment = 0
    for label, values in parsed.beams.items():
        for found in values.values():
            rows.append(Param("beam", label, found.param, found.value, target_unit(found.param), source, _provenance(path, found)))
        if not (values.get("setup_field") and values["setup_field"].value):
            treatment += 1
    if parsed.beams and source == "plan_pdf":
        rows.append(Param("prescription", "", "beam_count", treatment, "", source, f"{path} beam tables"))
    rows.extend(_document_rows(parsed, ref, document, source, item))
    return rows


def _document_rows(parsed: Parsed, ref: DocumentRef | None, printed: dict[str, tuple[Any, str]], source: str, item: str) -> list[Param]:
    """Title, approval and newest flag of the report read; the holding system's approval before the printed one."""
    path = parsed.document.path
    where = ref.origin if ref and ref.origin else str(path)
    values: dict[str, tuple[Any, str]] = {"document_title": ((ref.title if ref else "") or parsed.document.title or path.stem, where)}
    values.update(printed)
    if ref is not None and ref.approved is not None:
        values["document_approved"] = (ref.approved, where)
        if ref.approved_at:
            values["document_approved_date"] = (ref.approved_at, where)
    elif "document_approved" not in values and parsed.value("plan_approved") is not None:
        found = next(f for f in parsed.values if f.param == "plan_approved")
        values["document_approved"] = (found.value, _provenance(path, found))
        for plan_param, doc_param in (("plan_approved_by", "document_approved_by"), ("plan_approved_date", "document_approved_date")):
            match = next((f for f in parsed.values if f.param == plan_param), None)
            if match is not None:
                values.setdefault(doc_param, (match.value, _provenance(path, match)))
    if ref is not None:
        values["document_newest"] = (ref.newest, where)
    return [Param("document", "", param, value, target_unit(param), source, prov, item=item) for param, (value, prov) in values.items()]
