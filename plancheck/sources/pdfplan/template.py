"""PDF templates: how to recognise one vendor's printout and where each value sits in it.

A template is a YAML file (``plancheck/sources/pdf_templates/*.yaml``, and any
clinic folder named in plancheck.toml ``[pdf] template_dirs``). It is validated
when loaded: a wrong key, a regular expression that does not compile, a named
group that is not a vocabulary parameter or a unit that does not convert is a
:class:`TemplateError` naming the file and line. docs/pdf-templates.md explains
every key.
"""

from __future__ import annotations

import difflib
import functools
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Mapping

from plancheck.errors import TemplateError
from plancheck.sources.pdfplan.convert import UNITS, target_unit, unit_fits, unit_key
from plancheck.yamlfile import LineDict, LineList, YamlError, load_yaml_file
from plancheck.vocabulary import SCOPES_OF, VOCABULARY

if TYPE_CHECKING:
    from plancheck.config import Config

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "pdf_templates"
REPORT_SOURCES = {"plan": "plan_pdf", "second_check": "second_check"}  # report type -> the source it feeds
LABEL = "label"  # table-only pseudo-parameter: the beam label rows are keyed by
HELPER_GROUPS = ("value", "unit")
ALIGNS = ("left", "center", "right")
DEFAULT_FIELD_VALUE = r"(?P<value>.+?)(?=\s{2,}|$)"
DEFAULT_CELL_VALUE = r"(?P<value>.+)"

_TOP_KEYS = {"name", "description", "report_type", "kind", "recognise", "ignore", "date_formats", "name_order", "fields", "tables"}
_RECOGNISE_KEYS = {"anchors", "exclude", "pages"}
_CAPTURE_KEYS = {"value", "param", "unit", "map", "default", "compose", "date_format", "name_order"}
_FIELD_KEYS = _CAPTURE_KEYS | {"label", "page", "section", "required"}
_COLUMN_KEYS = _CAPTURE_KEYS | {"header", "align", "optional", "join"}
_TABLE_KEYS = {"title", "columns", "row_anchor", "end", "align", "max_gap_pt", "required"}


@dataclass(frozen=True)
class Capture:
    """How matched text becomes values: a regex whose named groups are vocabulary parameters."""

    pattern: re.Pattern[str]
    params: tuple[str, ...]
    single: bool  # one parameter from the 'value' group (or the whole match)
    units: Mapping[str, str] = field(default_factory=dict)
    maps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    compose: Mapping[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    name_order: str = "last_first"


@dataclass(frozen=True)
class FieldSpec:
    """One labelled value (or several from one line): 'Total Dose: 50.000 Gy'."""

    name: str
    label: re.Pattern[str]
    capture: Capture
    page: int | None
    section: re.Pattern[str] | None
    required: bool
    line: int


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    header: re.Pattern[str]
    capture: Capture
    align: str
    optional: bool
    join: str
    line: int


@dataclass(frozen=True)
class TableSpec:
    """A table of beams, read by column under a header line that may repeat on later pages."""

    name: str
    title: re.Pattern[str] | None
    columns: tuple[ColumnSpec, ...]
    row_anchor: str
    end: tuple[re.Pattern[str], ...]
    align: str
    max_gap_pt: float
    required: bool
    line: int

    @property
    def header_text(self) -> str:
        return " | ".join(c.header.pattern for c in self.columns)


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    report_type: str
    path: Path
    anchors: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    anchor_pages: int
    ignore: tuple[re.Pattern[str], ...]
    fields: tuple[FieldSpec, ...]
    tables: tuple[TableSpec, ...]

    @property
    def source(self) -> str:
        return REPORT_SOURCES[self.report_type]


@dataclass(frozen=True)
class TemplateSet:
    """Templates by name; a clinic template replaces a shipped one of the same name."""

    templates: tuple[Template, ...]

    def get(self, name: str) -> Template:
        for template in self.templates:
            if template.name == name:
                return template
        raise TemplateError(f"no PDF template named {name!r}", fix=f"use one of {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.templates]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.templates)


# ---- loading -------------------------------------------------------------------------------

def template_dirs(config: Config | None) -> tuple[Path, ...]:
    """Clinic template folders from plancheck.toml ``[pdf] template_dirs`` (relative to the file)."""
    if config is None:
        return ()
    entries = config.extra.get("pdf", {}).get("template_dirs", [])
    if isinstance(entries, str):
        entries = [entries]
    base = config.path.parent if config.path else Path.cwd()
    return tuple(p if p.is_absolute() else base / p for p in (Path(str(e)).expanduser() for e in entries))


def load_templates(dirs: tuple[Path, ...] | list[Path] = (), *, shipped: bool = True) -> TemplateSet:
    """The shipped templates, then each folder's ``*.yaml`` in order, later names replacing earlier."""
    folders = ([SHIPPED_DIR] if shipped else []) + [Path(d) for d in dirs]
    by_name: dict[str, Template] = {}
    for folder in folders:
        if not folder.is_dir():
            raise TemplateError("PDF template folder not found", where=str(folder), fix="fix [pdf] template_dirs in plancheck.toml")
        for path in sorted(folder.glob("*.yaml")):
            template = load_template(path)
            by_name.pop(template.name, None)
            by_name[template.name] = template
    return TemplateSet(tuple(by_name.values()))


def load_template(path: Path) -> Template:
    """Read and validate one template file; TemplateError names the file and line. A file read before and
    unchanged since (same size and modification time) is not read again: the plan and the second-check
    PDF sources of one run load the same templates."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise TemplateError(f"cannot read template ({exc.strerror})", where=str(path)) from None
    return _load_template(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _load_template(path: Path, _mtime_ns: int, _size: int) -> Template:
    try:
        data = load_yaml_file(path)
    except YamlError as exc:
        raise TemplateError(str(exc), where=f"{path}:{exc.line}", fix=exc.fix) from None
    except OSError as exc:
        raise TemplateError(f"cannot read template ({exc.strerror})", where=str(path)) from None
    return _Builder(path).template(data)


class _Builder:
    """Validates the YAML of one template while turning it into the model."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.date_formats: tuple[str, ...] = ()
        self.name_order = "last_first"

    def fail(self, line: int, what: str, fix: str = "") -> TemplateError:
        return TemplateError(what, where=f"{self.path}:{line}", fix=fix)

    def mapping(self, value: Any, line: int, what: str, keys: set[str]) -> LineDict:
        if not isinstance(value, LineDict):
            raise self.fail(line, f"{what} must be a mapping of keys to values")
        for key in value:
            if key not in keys:
                near = difflib.get_close_matches(str(key), sorted(keys), n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(sorted(keys))}"
                raise self.fail(value.line_of(key), f"{what}: unknown key {key!r}", hint)
        return value

    def regex(self, text: Any, line: int, what: str) -> re.Pattern[str]:
        if not isinstance(text, str) or not text:
            raise self.fail(line, f"{what} must be a regular expression in quotes")
        try:
            return re.compile(text)
        except re.error as exc:
            raise self.fail(line, f"{what} {text!r} is not a valid regular expression ({exc})") from None

    def regexes(self, value: Any, line: int, what: str) -> tuple[re.Pattern[str], ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (self.regex(value, line, what),)
        if not isinstance(value, LineList):
            raise self.fail(line, f"{what} must be a list of regular expressions")
        return tuple(self.regex(v, value.line_of(i), what) for i, v in enumerate(value))

    def strings(self, value: Any, line: int, what: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(line, f"{what} must be a text or a list of texts")
        return tuple(value)

    def template(self, data: Any) -> Template:
        top = self.mapping(data, 1, "template", _TOP_KEYS)
        type_key = "kind" if "kind" in top and "report_type" not in top else "report_type"  # kind: its name before the rename
        for key in ("name", type_key, "fields"):
            if key not in top:
                raise self.fail(top.line, f"template has no {key!r}")
        name = top["name"]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise self.fail(top.line_of("name"), "name must be a word (letters, digits, _ . -)")
        if top[type_key] not in REPORT_SOURCES:
            raise self.fail(top.line_of(type_key), f"{type_key} {top[type_key]!r} is not one of {', '.join(REPORT_SOURCES)}")
        if "date_formats" in top:
            self.date_formats = self.strings(top["date_formats"], top.line_of("date_formats"), "date_formats")
        if "name_order" in top:
            self.name_order = self.order(top["name_order"], top.line_of("name_order"))
        rec = self.mapping(top.get("recognise"), top.line_of("recognise"), "recognise", _RECOGNISE_KEYS)
        anchors = self.regexes(rec.get("anchors"), rec.line_of("anchors"), "anchor")
        if not anchors:
            raise self.fail(rec.line, "recognise needs at least one anchor (text that only this report prints)")
        pages = rec.get("pages", 1)
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise self.fail(rec.line_of("pages"), "recognise.pages must be a whole number of pages, 1 or more")
        fields = self.mapping(top["fields"], top.line_of("fields"), "fields", set(top["fields"] or {}))
        tables = self.mapping(top.get("tables", LineDict()), top.line_of("tables"), "tables", set(top.get("tables") or {}))
        return Template(
            name=name,
            description=str(top.get("description", "")),
            report_type=top[type_key],
            path=self.path,
            anchors=anchors,
            exclude=self.regexes(rec.get("exclude"), rec.line_of("exclude"), "exclude"),
            anchor_pages=pages,
            ignore=self.regexes(top.get("ignore"), top.line_of("ignore"), "ignore"),
            fields=tuple(self.field(str(k), v, fields.line_of(k)) for k, v in fields.items()),
            tables=tuple(self.table(str(k), v, tables.line_of(k)) for k, v in tables.items()),
        )

    def order(self, value: Any, line: int) -> str:
        if value not in ("last_first", "first_last"):
            raise self.fail(line, "name_order must be last_first or first_last")
        return str(value)

    def field(self, name: str, data: Any, line: int) -> FieldSpec:
        spec = self.mapping(data, line, f"field {name}", _FIELD_KEYS)
        if "label" not in spec:
            raise self.fail(line, f"field {name} has no label (the text printed before the value)")
        page = spec.get("page")
        if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page == 0):
            raise self.fail(spec.line_of("page"), f"field {name}: page must be 1, 2, ... or -1 for the last page")
        section = spec.get("section")
        return FieldSpec(
            name=name,
            label=self.regex(spec["label"], spec.line_of("label"), f"field {name} label"),
            capture=self.capture(name, spec, DEFAULT_FIELD_VALUE, allow_label=False),
            page=page,
            section=self.regex(section, spec.line_of("section"), f"field {name} section") if section is not None else None,
            required=self.flag(spec, "required", False),
            line=line,
        )

    def flag(self, spec: LineDict, key: str, default: bool) -> bool:
        value = spec.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(spec.line_of(key), f"{key} must be true or false")
        return value

    def table(self, name: str, data: Any, line: int) -> TableSpec:
        spec = self.mapping(data, line, f"table {name}", _TABLE_KEYS)
        raw_columns = spec.get("columns")
        if not isinstance(raw_columns, LineDict) or not raw_columns:
            raise self.fail(spec.line_of("columns"), f"table {name} needs columns (name: {{header: ..., ...}})")
        align = spec.get("align", "left")
        if align not in ALIGNS:
            raise self.fail(spec.line_of("align"), f"table {name}: align must be one of {', '.join(ALIGNS)}")
        columns = tuple(self.column(name, str(k), v, raw_columns.line_of(k), align) for k, v in raw_columns.items())
        keyed = [c.name for c in columns if LABEL in c.capture.params]
        if len(keyed) != 1:
            raise self.fail(raw_columns.line, f"table {name} needs exactly one column giving the beam label (param: label), found {len(keyed)}")
        anchor = spec.get("row_anchor", keyed[0])
        if anchor not in raw_columns:
            raise self.fail(spec.line_of("row_anchor"), f"table {name}: row_anchor {anchor!r} is not one of its columns")
        if any(c.optional for c in columns if c.name == anchor):
            raise self.fail(spec.line_of("row_anchor"), f"table {name}: the row_anchor column cannot be optional")
        gap = spec.get("max_gap_pt", 28.0)
        if not isinstance(gap, (int, float)) or isinstance(gap, bool) or gap <= 0:
            raise self.fail(spec.line_of("max_gap_pt"), "max_gap_pt must be a positive number of points")
        title = spec.get("title")
        return TableSpec(
            name=name,
            title=self.regex(title, spec.line_of("title"), f"table {name} title") if title is not None else None,
            columns=columns,
            row_anchor=str(anchor),
            end=self.regexes(spec.get("end"), spec.line_of("end"), f"table {name} end"),
            align=align,
            max_gap_pt=float(gap),
            required=self.flag(spec, "required", True),
            line=line,
        )

    def column(self, table: str, name: str, data: Any, line: int, align: str) -> ColumnSpec:
        spec = self.mapping(data, line, f"table {table} column {name}", _COLUMN_KEYS)
        if "header" not in spec:
            raise self.fail(line, f"table {table} column {name} has no header (the column's heading text)")
        col_align = spec.get("align", align)
        if col_align not in ALIGNS:
            raise self.fail(spec.line_of("align"), f"column {name}: align must be one of {', '.join(ALIGNS)}")
        join = spec.get("join", " ")
        if not isinstance(join, str):
            raise self.fail(spec.line_of("join"), "join must be text in quotes (what goes between wrapped lines)")
        return ColumnSpec(
            name=name,
            header=self.regex(spec["header"], spec.line_of("header"), f"column {name} header"),
            capture=self.capture(name, spec, DEFAULT_CELL_VALUE, allow_label=True),
            align=col_align,
            optional=self.flag(spec, "optional", False),
            join=join,
            line=line,
        )

    # ---- captures ------------------------------------------------------------------------
    def param_name(self, name: str, line: int, allow_label: bool, what: str) -> str:
        if name in VOCABULARY or (allow_label and name == LABEL):
            return name
        near = difflib.get_close_matches(name, list(VOCABULARY) + ([LABEL] if allow_label else []), n=1)
        hint = f"did you mean {near[0]!r}?" if near else "see plancheck/vocabulary.py for the names"
        raise self.fail(line, f"{what} {name!r} is not a vocabulary parameter", hint)

    def capture(self, name: str, spec: LineDict, default_value: str, *, allow_label: bool) -> Capture:
        pattern = self.regex(spec.get("value", default_value), spec.line_of("value"), f"{name} value")
        groups = list(pattern.groupindex)
        compose = spec.get("compose", LineDict())
        if not isinstance(compose, LineDict):
            raise self.fail(spec.line_of("compose"), f"{name}: compose must map parameters to format texts like '{{algo}} {{version}}'")
        helpers: set[str] = set()
        for param, fmt in compose.items():
            self.param_name(str(param), compose.line_of(param), allow_label, "compose:")
            if not isinstance(fmt, str):
                raise self.fail(compose.line_of(param), f"compose {param}: give a format text in quotes")
            used = {f for _, f, _, _ in string.Formatter().parse(fmt) if f}
            missing = used - set(groups)
            if missing:
                raise self.fail(compose.line_of(param), f"compose {param} uses {', '.join(sorted(missing))}, not named groups of the value pattern")
            helpers |= used
        param_groups = [g for g in groups if g in VOCABULARY or (allow_label and g == LABEL)]
        for group in groups:
            if group not in param_groups and group not in HELPER_GROUPS and group not in helpers:
                self.param_name(group, spec.line_of("value"), allow_label, "named group")
        params = tuple(dict.fromkeys([*param_groups, *compose]))
        single = not params
        if single:
            params = (self.param_name(str(spec.get("param", name)), spec.line_of("param") if "param" in spec else spec.line, allow_label, "parameter"),)
        elif "param" in spec:
            raise self.fail(spec.line_of("param"), f"{name}: 'param' does not apply when the value pattern names its parameters in groups")
        given = spec.get("default")
        defaults: dict[Any, Any] = given if isinstance(given, LineDict) else {params[0]: given}
        for param, default in defaults.items():
            if isinstance(default, str) and default.startswith("$") and default[1:] not in groups:
                raise self.fail(spec.line_of("default"), f"{name}: default {param} copies {default!r}, which is not a named group of the value pattern")
        self.check_scopes(name, spec, params, allow_label)
        formats = self.strings(spec["date_format"], spec.line_of("date_format"), "date_format") if "date_format" in spec else self.date_formats
        return Capture(
            pattern=pattern,
            params=params,
            single=single,
            units=self.units(name, spec, params),
            maps=self.per_param(name, spec, "map", params, single, mapping=True),
            defaults=self.per_param(name, spec, "default", params, single, mapping=False),
            compose={str(k): str(v) for k, v in compose.items()},
            date_formats=formats,
            name_order=self.order(spec["name_order"], spec.line_of("name_order")) if "name_order" in spec else self.name_order,
        )

    def check_scopes(self, name: str, spec: LineDict, params: tuple[str, ...], in_table: bool) -> None:
        """Tables fill beam parameters; fields fill patient, prescription and document ones."""
        wanted = {"beam"} if in_table else {"patient", "prescription", "document"}
        for param in params:
            if param != LABEL and not SCOPES_OF[param] & wanted:
                place = "a table column" if in_table else "a field (outside a table)"
                raise self.fail(spec.line_of("value") if "value" in spec else spec.line,
                                f"{name}: {param} is a {'/'.join(sorted(SCOPES_OF[param]))} parameter and cannot come from {place}")

    def units(self, name: str, spec: LineDict, params: tuple[str, ...]) -> dict[str, str]:
        if "unit" not in spec:
            return {}
        raw, line = spec["unit"], spec.line_of("unit")
        quantities = [p for p in params if p != LABEL and target_unit(p)]
        if isinstance(raw, str):
            wanted = {p: raw for p in quantities}
            if not wanted:
                raise self.fail(line, f"{name}: unit {raw!r} given but none of {', '.join(params)} has a unit")
        elif isinstance(raw, LineDict):
            wanted = {}
            for param, unit in raw.items():
                if param not in params:
                    raise self.fail(raw.line_of(param), f"{name}: unit for {param!r}, which this value does not fill ({', '.join(params)})")
                wanted[str(param)] = str(unit)
        else:
            raise self.fail(line, f"{name}: unit must be a unit in quotes or a mapping parameter: unit")
        for param, unit in wanted.items():
            if not unit_fits(unit, param):
                fits = sorted(u for u, (v, _) in UNITS.items() if v == target_unit(param))
                raise self.fail(line, f"{name}: unit {unit!r} does not convert to {target_unit(param)} for {param}", f"use one of {', '.join(fits)}")
        return {p: unit_key(u) for p, u in wanted.items()}

    def per_param(self, name: str, spec: LineDict, key: str, params: tuple[str, ...], single: bool, *, mapping: bool) -> dict[str, Any]:
        if key not in spec:
            return {}
        raw, line = spec[key], spec.line_of(key)
        if single:
            if mapping and not isinstance(raw, LineDict):
                raise self.fail(line, f"{name}: map must be a mapping of printed text to value")
            return {params[0]: raw if mapping else str(raw)}
        if not isinstance(raw, LineDict):
            raise self.fail(line, f"{name}: {key} must be a mapping parameter: ... (the value names several parameters)")
        out: dict[str, Any] = {}
        for param, value in raw.items():
            if param not in params:
                raise self.fail(raw.line_of(param), f"{name}: {key} for {param!r}, which this value does not fill ({', '.join(params)})")
            if mapping and not isinstance(value, LineDict):
                raise self.fail(raw.line_of(param), f"{name}: map {param} must be a mapping of printed text to value")
            out[str(param)] = value if mapping else str(value)
        return out
