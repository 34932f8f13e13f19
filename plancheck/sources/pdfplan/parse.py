"""Read a report with a template: which template fits, each field, each beam table.

The result keeps where every value was found (page and line) and, for what was
not found, the pattern that failed and why: ``plancheck pdf inspect`` shows it,
and the sources turn it into rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plancheck.errors import SourceError
from plancheck.sources.pdfplan.convert import ConvertError, convert
from plancheck.sources.pdfplan.extract import Document, Line, extract
from plancheck.sources.pdfplan.tables import TableRead, read_table
from plancheck.sources.pdfplan.template import LABEL, Capture, FieldSpec, Template, TemplateSet


@dataclass(frozen=True)
class Found:
    """One parameter value and where it was read."""

    param: str
    value: Any
    page: int
    line: int
    name: str  # the field, or table.column
    text: str  # the printed text it came from
    beam: str = ""
    row: int = 0


@dataclass(frozen=True)
class Missing:
    """A field or table the template expects and the report did not give, with why."""

    name: str
    params: tuple[str, ...]
    pattern: str
    reason: str
    required: bool
    page: int | None = None


@dataclass(frozen=True)
class AnchorHit:
    pattern: str
    page: int | None
    line: int | None

    @property
    def found(self) -> bool:
        return self.page is not None


@dataclass(frozen=True)
class Recognition:
    """Whether a template fits a document: its anchors (all must be found) and exclusions (none may be)."""

    template: Template
    anchors: tuple[AnchorHit, ...]
    excluded: tuple[AnchorHit, ...]

    @property
    def fits(self) -> bool:
        return all(a.found for a in self.anchors) and not any(e.found for e in self.excluded)

    @property
    def why(self) -> str:
        if self.fits:
            return "found " + ", ".join(f"'{a.pattern}' (page {a.page} line {a.line})" for a in self.anchors)
        lacking = [f"'{a.pattern}'" for a in self.anchors if not a.found]
        present = [f"'{e.pattern}'" for e in self.excluded if e.found]
        parts = ([f"lacks {', '.join(lacking)}"] if lacking else []) + ([f"has {', '.join(present)}"] if present else [])
        return "; ".join(parts)


@dataclass
class Parsed:
    """Everything read from one report with one template."""

    document: Document
    recognition: Recognition
    others: list[Recognition]
    values: list[Found] = field(default_factory=list)
    beams: dict[str, dict[str, Found]] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    tables: list[TableRead] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def template(self) -> Template:
        return self.recognition.template

    def value(self, param: str) -> Any:
        return next((f.value for f in self.values if f.param == param), None)


# ---- recognising -----------------------------------------------------------------------------

def _search(lines: list[Line], pattern: re.Pattern[str]) -> AnchorHit:
    for line in lines:
        if pattern.search(line.text):
            return AnchorHit(pattern.pattern, line.page, line.number)
    return AnchorHit(pattern.pattern, None, None)


def recognise(document: Document, template: Template) -> Recognition:
    lines = document.lines(1, template.anchor_pages)
    return Recognition(
        template,
        tuple(_search(lines, a) for a in template.anchors),
        tuple(_search(lines, e) for e in template.exclude),
    )


def choose(document: Document, templates: TemplateSet, name: str | None = None) -> tuple[Recognition, list[Recognition]]:
    """The template that fits (or the one named); SourceError when none, several, or the named one does not fit."""
    tried = [recognise(document, t) for t in templates]
    where = f"{document.path} page 1"
    if name is not None:
        chosen = recognise(document, templates.get(name))
        if not chosen.fits:
            raise SourceError(f"not a {name!r} report: {chosen.why}", where=where,
                              fix=f"pick the template that fits (plancheck pdf inspect {document.path.name} shows which) or fit the anchors of {chosen.template.path.name}")
        return chosen, [r for r in tried if r.template.name != name]
    fitting = [r for r in tried if r.fits]
    if not fitting:
        looked = "; ".join(f"{r.template.name}: {r.why}" for r in tried)
        raise SourceError(f"matches no PDF template ({looked})", where=where,
                          fix="add a template for this report to your clinic's template folder (docs/pdf-templates.md); "
                              f"`plancheck pdf inspect {document.path.name}` shows its text")
    best = max(len(r.anchors) for r in fitting)
    top = [r for r in fitting if len(r.anchors) == best]
    if len(top) > 1:
        raise SourceError(f"fits several PDF templates equally ({', '.join(r.template.name for r in top)})", where=where,
                          fix="make the anchors of one template more specific, or add an exclude")
    return top[0], [r for r in tried if r is not top[0]]


# ---- values ----------------------------------------------------------------------------------

BLANKS = {"", "-", "--", "\u2013", "\u2014", "n/a"}


def is_blank(text: Any) -> bool:
    """Nothing printed, or a dash or n/a printed where a value would be: the value is absent, not wrong."""
    return text is None or (isinstance(text, str) and text.strip().casefold() in BLANKS)


def apply(capture: Capture, text: str) -> tuple[dict[str, Any], list[str]] | None:
    """Values from ``text`` by a capture (None when its pattern does not match) and conversion errors."""
    match = capture.pattern.search(text)
    if match is None:
        return None
    groups = {k: (v.strip() if isinstance(v, str) else v) for k, v in match.groupdict().items()}
    raw: dict[str, Any] = {}
    if capture.single:
        param = capture.params[0]
        raw[param] = groups["value"] if "value" in groups else (match.group(1) if match.re.groups else match.group(0))
    else:
        raw = {p: groups.get(p) for p in capture.params if p not in capture.compose}
        for param, fmt in capture.compose.items():
            used = [f for f in re.findall(r"{(\w+)", fmt)]
            if all(groups.get(u) for u in used):
                raw[param] = " ".join(fmt.format(**{k: v or "" for k, v in groups.items()}).split())
    for param, default in capture.defaults.items():
        if is_blank(raw.get(param)):
            raw[param] = groups.get(default[1:]) if default.startswith("$") else default
    values: dict[str, Any] = {}
    errors: list[str] = []
    for param, text_value in raw.items():
        if is_blank(text_value):
            continue
        if param == LABEL:
            values[param] = " ".join(str(text_value).split())
            continue
        try:
            values[param] = convert(param, text_value, unit=groups.get("unit") or capture.units.get(param),
                                    mapping=capture.maps.get(param), date_formats=capture.date_formats,
                                    name_order=capture.name_order)
        except ConvertError as exc:
            errors.append(f"{param}: {exc}")
    return values, errors


def _field_lines(lines: list[Line], spec: FieldSpec, pages: int) -> tuple[list[Line], str]:
    if spec.page is not None:
        page = spec.page if spec.page > 0 else pages + spec.page + 1
        lines = [line for line in lines if line.page == page]
    if spec.section is not None:
        start = next((i for i, line in enumerate(lines) if spec.section.search(line.text)), None)
        if start is None:
            return [], f"section '{spec.section.pattern}' not found"
        lines = lines[start + 1 :]
    return lines, ""


def read_field(lines: list[Line], spec: FieldSpec, pages: int) -> tuple[list[Found], Missing | None]:
    scope, problem = _field_lines(lines, spec, pages)
    where = f" on page {spec.page}" if spec.page is not None else ""
    failure = problem or f"label '{spec.label.pattern}' not found{where}"
    failed_page: int | None = None
    for line in scope:
        label = spec.label.search(line.text)
        if label is None:
            continue
        rest = line.text[label.end():].strip()
        outcome = apply(spec.capture, rest)
        if outcome is None:
            failure = f"label found ({line.where}) but the value pattern did not match {rest!r}"
            failed_page = line.page
            continue
        values, errors = outcome
        if errors or not values:
            failure = f"{line.where}: " + ("; ".join(errors) if errors else f"printed blank ({rest!r})")
            failed_page = line.page
            continue
        return [Found(p, v, line.page, line.number, spec.name, line.text) for p, v in values.items()], None
    return [], Missing(spec.name, spec.capture.params, f"{spec.label.pattern}  {spec.capture.pattern.pattern}", failure, spec.required, failed_page)


def _beam_values(parsed: Parsed, read: TableRead) -> None:
    columns = {c.name: c for c in read.spec.columns}
    where = f"{parsed.document.path}"
    for index, row in enumerate(read.rows, start=1):
        found: list[tuple[str, Any, str]] = []
        label = ""
        for name, column in columns.items():
            text = row.text(name, column.join)
            if not text:
                continue
            outcome = apply(column.capture, text)
            if outcome is None:
                parsed.warnings.append(f"{where} page {row.page} table {read.spec.name} row {index}: "
                                       f"column {name} {text!r} does not match '{column.capture.pattern.pattern}'")
                continue
            values, errors = outcome
            parsed.warnings.extend(f"{where} page {row.page} table {read.spec.name} row {index}: column {name}: {e}" for e in errors)
            label = values.pop(LABEL, label)
            found.extend((p, v, f"{read.spec.name}.{name}") for p, v in values.items())
        if not label:
            parsed.warnings.append(f"{where} page {row.page} table {read.spec.name} row {index}: no beam label")
            continue
        beam = parsed.beams.setdefault(label, {})
        for param, value, name in found:
            if param in beam and beam[param].value != value:
                parsed.warnings.append(f"{where} page {row.page}: beam {label} {param} is {beam[param].value!r} "
                                       f"on page {beam[param].page} and {value!r} here; kept the first")
                continue
            beam.setdefault(param, Found(param, value, row.page, row.line, name, row.text(name.split('.')[1]), label, index))


def _pages(count: int) -> str:
    return "page 1" if count == 1 else f"pages 1-{count}"


def _table_missing(read: TableRead, pages: int) -> Missing:
    spec = read.spec
    if spec.title is not None and read.title is None:
        reason, page = f"title '{spec.title.pattern}' not found on {_pages(pages)}", None
    elif read.closest.line is not None:
        line = read.closest.line
        reason = (f"no header line; closest is {line.where} {line.text!r}, which lacks "
                  + ", ".join(f"'{p}'" for p in read.closest.lacking))
        page = line.page
    else:
        reason, page = f"no header line with {spec.header_text} on {_pages(pages)}", None
    params = tuple(p for c in spec.columns for p in c.capture.params)
    return Missing(spec.name, params, spec.header_text, reason, spec.required, page)


def parse_document(document: Document, templates: TemplateSet, name: str | None = None, *, strict: bool = True) -> Parsed:
    """Read ``document`` with the template that fits (or ``name``); strict raises on anything required missing."""
    recognition, others = choose(document, templates, name)
    template = recognition.template
    parsed = Parsed(document, recognition, others)
    lines = [line for line in document.lines() if not any(p.search(line.text) for p in template.ignore)]
    pages = len(document.pages)
    taken: set[str] = set()
    for spec in template.fields:
        values, missing = read_field(lines, spec, pages)
        if missing is not None:
            parsed.missing.append(missing)
        parsed.values.extend(v for v in values if v.param not in taken)
        taken.update(v.param for v in values)
    for table_spec in template.tables:
        read = read_table(lines, table_spec)
        parsed.tables.append(read)
        if read.found:
            _beam_values(parsed, read)
        else:
            parsed.missing.append(_table_missing(read, pages))
    if strict:
        _raise_required(parsed)
    return parsed


def _raise_required(parsed: Parsed) -> None:
    required = [m for m in parsed.missing if m.required]
    if not required:
        return
    first = required[0]
    pages = len(parsed.document.pages)
    page = f"page {first.page}" if first.page else _pages(pages)
    kinds = {t.name for t in parsed.template.tables}
    what = "; ".join(f"{'table' if m.name in kinds else 'field'} {m.name!r} missing: {m.reason}" for m in required)
    raise SourceError(what, where=f"{parsed.document.path} {page}",
                      fix=f"is this a complete {parsed.template.description or parsed.template.name}? "
                          f"`plancheck pdf inspect {parsed.document.path.name}` shows what was read")


def parse_file(path: str | Path, templates: TemplateSet, name: str | None = None, *, strict: bool = True,
               backend: str | None = None) -> Parsed:
    """Extract (with ``backend``, see :func:`extract`) and parse one PDF (see :func:`parse_document`)."""
    return parse_document(extract(path, backend), templates, name, strict=strict)
