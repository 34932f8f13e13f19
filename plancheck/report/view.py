"""What every report shows, worked out once from a CheckRun: the renderers only draw it.

The view reads the run's table and results and nothing else (no check is re-run):
parameter rows pivoted so that sources become columns, each row marked with the
worst implicit (cross-source) result for its (beam, param), the warnings naming
the beam, the automatic and manual checks, and the one-line summary.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from plancheck.checks.results import SEVERITY, CheckResult, CheckRun, Status
from plancheck.errors import PlancheckError
from plancheck.report.failures import Failure, failures, number, odd_cells
from plancheck.report.labels import param_label
from plancheck.table import SOURCES, Param, Value
from plancheck.vocabulary import VOCABULARY

PLAN_SCOPES = ("patient", "prescription")
RECORD_SCOPES = ("delivery", "task", "document")  # many records per scope: kept out of the beam table
RECORD_TITLES = {"delivery": "Delivery records", "task": "QCL tasks", "document": "Documents"}

SYMBOLS = {
    Status.PASS: "✓",
    Status.WARN: "!",
    Status.FAIL: "✗",
    Status.ERROR: "‼",
    Status.NOT_APPLICABLE: "–",
    Status.MANUAL: "☐",
}
LABELS = {
    Status.PASS: "pass",
    Status.WARN: "warn",
    Status.FAIL: "fail",
    Status.ERROR: "error",
    Status.NOT_APPLICABLE: "n/a",
    Status.MANUAL: "manual",
}
_ORDER = {name: i for i, name in enumerate(VOCABULARY)}
_RANK = {status: i for i, status in enumerate(SEVERITY)}


class ReportError(PlancheckError):
    """A report could not be written or a saved run could not be read back."""


@dataclass(frozen=True)
class ParamRow:
    """One (scope, beam, param) with its value from each source and its implicit-check status."""

    scope: str
    beam: str
    param: str
    label: str
    values: dict[str, str]
    status: Status | None = None  # None: no implicit check compared this row
    message: str = ""
    odd: frozenset[str] = frozenset()  # sources whose value is out of step with the others

    def is_odd(self, source: str) -> bool:
        return source in self.odd

    @property
    def css(self) -> str:
        return self.status.value if self.status else "none"


@dataclass(frozen=True)
class RecordTable:
    """Rows of one many-record scope (deliveries, tasks, documents): one line per (source, item)."""

    scope: str
    title: str
    params: list[str]
    records: list[tuple[str, str, dict[str, str]]]  # (source, item, text by param)

    @property
    def labels(self) -> list[str]:
        return [param_label(p) for p in self.params]

    def count_line(self) -> str:
        by_source: dict[str, int] = {}
        for source, _, _ in self.records:
            by_source[source] = by_source.get(source, 0) + 1
        parts = ", ".join(f"{n} from {s}" for s, n in by_source.items())
        return f"{self.title}: {len(self.records)} ({parts})"


@dataclass(frozen=True)
class Notice:
    """A warning line: the status it carries, the beam it names (or empty) and the text."""

    status: Status
    beam: str
    text: str


@dataclass
class ReportView:
    """Everything a renderer draws, in the order reports show it."""

    run: CheckRun
    patient_name: str
    sources_read: list[str]
    source_errors: dict[str, str]
    plan_sources: list[str]
    plan_rows: list[ParamRow]
    beam_sources: list[str]
    beam_rows: list[ParamRow]
    record_tables: list[RecordTable]
    notices: list[Notice]
    failures: list[Failure]
    course: list[tuple[str, str]]
    explicit: list[CheckResult]
    implicit: list[CheckResult]
    manual: list[CheckResult]
    summary: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failing(self) -> list[CheckResult]:
        """Automatic checks that failed, errored or warned, worst first."""
        bad = (Status.ERROR, Status.FAIL, Status.WARN)
        return by_severity([r for r in self.run.automatic if r.status in bad])

    @property
    def passing(self) -> list[CheckResult]:
        """Explicit automatic checks that passed or did not apply (the failing ones are in :attr:`failures`)."""
        return [r for r in self.explicit if r.status in (Status.PASS, Status.NOT_APPLICABLE)]

    @property
    def to_tick(self) -> list[CheckResult]:
        return [r for r in self.manual if r.status == Status.MANUAL]

    def implicit_line(self) -> str:
        """One line standing for every cross-source comparison (they are marked in the tables)."""
        if not self.implicit:
            return "Cross-source agreement: no comparisons in this run"
        counts = count_statuses(self.implicit)
        parts = ", ".join(f"{n} {LABELS[Status(s)]}" for s, n in counts.items() if n)
        return f"Cross-source agreement: {len(self.implicit)} comparisons ({parts}); odd values marked in the tables"

    def failure_count_line(self) -> str:
        """``11 (10 fail, 1 warn)``: how many checks the failure list holds, by status."""
        counts = count_statuses([r for r in self.run.automatic if r.status in (Status.ERROR, Status.FAIL, Status.WARN)])
        parts = ", ".join(f"{n} {LABELS[Status(s)]}" for s, n in counts.items() if n)
        return f"{len(self.failures)} ({parts})" if self.failures else "none"

    def counts_line(self) -> str:
        return " · ".join(f"{n} {LABELS[Status(s)]}" for s, n in self.counts.items() if n) or "no checks"


def build_view(run: CheckRun) -> ReportView:
    """Work out the report's content from ``run`` alone."""
    table = run.table
    implicit = [r for r in run.results if r.origin == "implicit"]
    marks = _implicit_marks(implicit)
    odd = odd_cells(implicit)
    plan = [r for r in table if r.scope in PLAN_SCOPES]
    beam = [r for r in table if r.scope == "beam"]
    return ReportView(
        run=run,
        patient_name=_first_value(plan, "patient_name"),
        sources_read=table.sources,
        source_errors=dict(table.source_errors),
        plan_sources=_present(plan),
        plan_rows=_pivot(plan, marks, odd, beam_order=[]),
        beam_sources=_present(beam),
        beam_rows=_pivot(beam, marks, odd, beam_order=table.beams()),
        record_tables=[_records(table.rows, scope) for scope in RECORD_SCOPES if any(r.scope == scope for r in table)],
        notices=[Notice(Status.WARN, "", text) for text in run.warnings],
        failures=failures(run),
        course=course_facts(run) if run.check_kind != "initial" else [],
        explicit=by_severity([r for r in run.automatic if r.origin != "implicit"]),
        implicit=implicit,
        manual=run.manual,
        summary=summary_line(run),
        counts=run.counts(),
    )


# ---- formatting ------------------------------------------------------------
def fmt_value(value: Value) -> str:
    """A value as people read it: numbers without float noise, booleans as yes/no, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def fmt_param(param: str, value: Value) -> str:
    """A value of ``param``: dates and times as ``2024-05-01 14:03`` (no ``T``, no seconds), others as :func:`fmt_value`."""
    spec = VOCABULARY.get(param)
    if spec is not None and spec.value_type == "date" and isinstance(value, str):
        return short_time(value)
    return fmt_value(value)


def short_time(text: str) -> str:
    """``2026-11-07T08:00:00`` -> ``2026-11-07 08:00``; a bare date stays a date; text that is no time is kept."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if len(text.strip()) <= 10:
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%d %H:%M")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def printable(text: object) -> str:
    """``text`` with control and direction-changing characters shown as ``\\xNN`` / ``\\uNNNN``, so data can
    neither move a terminal's cursor nor reorder what a report shows; tab and newline are kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text))


def beam_text(beam: str) -> str:
    return f"beam {beam}" if beam else "plan"


def by_severity(results: list[CheckResult]) -> list[CheckResult]:
    """Worst first; the rule order is kept within one status."""
    return sorted(results, key=lambda r: _RANK[r.status])


def count_statuses(results: list[CheckResult]) -> dict[str, int]:
    out = {s.value: 0 for s in SEVERITY}
    for r in results:
        out[r.status.value] += 1
    return out


def summary_line(run: CheckRun) -> str:
    """PASS / FAIL in one line, with what is left for a person to do; INCOMPLETE, naming them, where sources are missing."""
    missing = list(run.table.source_errors)
    auto = [r for r in run.automatic if r.id not in {f"source.{m}" for m in missing}]
    line = _verdict(auto, others=bool(missing))
    if missing:
        line = f"INCOMPLETE: {len(missing)} source{'s' if len(missing) != 1 else ''} not read ({', '.join(missing)}); {line}"
    to_tick = sum(1 for r in run.manual if r.status == Status.MANUAL)
    if to_tick:
        line += f"; {to_tick} manual check{'s' if to_tick != 1 else ''} to tick"
    return line


def _verdict(auto: list[CheckResult], *, others: bool) -> str:
    failed = [r for r in auto if r.status == Status.FAIL]
    errored = [r for r in auto if r.status == Status.ERROR]
    warned = [r for r in auto if r.status == Status.WARN]
    other = "other " if others else ""
    if failed or errored:
        n = len(failed) + len(errored)
        line = f"{'' if others else 'FAIL: '}{n} {other}check{'s' if n != 1 else ''} failed"
        if errored:
            line += f" ({len(errored)} could not run)"
    elif not any(r.status in (Status.PASS, Status.WARN) for r in auto):
        line = f"{'no other' if others else 'NOT CHECKED: no'} automatic check applied to this plan"
    else:
        line = f"every {other}automatic check passed" if others else "PASS: every automatic check passed"
        if warned:
            line += f" ({len(warned)} with a warning)"
    return line


def course_facts(run: CheckRun) -> list[tuple[str, str]]:
    """Where the course stands, for an on-treatment check: fraction n of N, dose so far of total, the review window."""
    plan = [r for r in run.table if r.scope in PLAN_SCOPES]
    done, total = _first_raw(plan, "fractions_delivered"), _first_raw(plan, "fractions")
    dose, total_dose = _first_raw(plan, "dose_delivered_cgy"), _first_raw(plan, "total_dose_cgy")
    facts = []
    if done is not None or total is not None:
        facts.append(("Fraction", f"{_num(done)} of {_num(total)}"))
    if dose is not None or total_dose is not None:
        facts.append(("Dose so far", f"{_num(dose)} of {_num(total_dose)} cGy"))
    last = _first_raw(plan, "last_check_date")
    end = (run.as_of or created_text(run))[:10]  # the day the checks looked at (`--today`), else the day they ran
    if last:
        since = short_time(str(last))
        n = _deliveries_since(run, str(last))
        facts.append(("Review window", f"{since} to {end} (since the last chart check): {n} deliver{'y' if n == 1 else 'ies'}"))
    else:
        facts.append(("Review window", f"the whole course to {end} (no earlier chart check recorded)"))
    return facts


def _num(value: Value) -> str:
    return "?" if value is None else number(value)


def _first_raw(rows: list[Param], param: str) -> Value:
    by_source = {r.source: r.value for r in rows if r.param == param and r.value is not None}
    return next((by_source[s] for s in SOURCES if s in by_source), None)


def _deliveries_since(run: CheckRun, since: str) -> int:
    """Delivery records after ``since`` from the first source (in display order) that keeps any."""
    when = {(r.source, r.item): str(r.value) for r in run.table if r.scope == "delivery" and r.param == "delivered_at" and r.value is not None}
    source = next((s for s in SOURCES if any(k[0] == s for k in when)), None)
    return sum(1 for (s, _), at in when.items() if s == source and at.replace(" ", "T") > since.replace(" ", "T"))


def created_stamp(run: CheckRun) -> str:
    """``YYYYMMDD_HHMMSS`` from ``run.created`` (ISO 8601), for file names."""
    try:
        return dt.datetime.fromisoformat(run.created).strftime("%Y%m%d_%H%M%S")
    except (TypeError, ValueError):
        raise ReportError(f"run created time {run.created!r} is not ISO 8601", fix="set CheckRun.created like 2024-05-01T14:03:00") from None


def created_text(run: CheckRun) -> str:
    """``2024-05-01 14:03`` for page headers; the raw text where it does not parse."""
    try:
        return dt.datetime.fromisoformat(run.created).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(run.created)


def figure_path(name: str, bases: tuple[Path, ...] = ()) -> Path | None:
    """The file a CheckResult figure names: as given, else under each base folder; None when missing."""
    path = Path(name)
    candidates = [path] if path.is_absolute() else [path, *(b / path for b in bases)]
    return next((p for p in candidates if p.is_file()), None)


# ---- building blocks -------------------------------------------------------
def _present(rows: list[Param]) -> list[str]:
    have = {r.source for r in rows}
    return [s for s in SOURCES if s in have]


def _first_value(rows: list[Param], param: str) -> str:
    by_source = {r.source: r.value for r in rows if r.param == param and r.value is not None}
    return next((str(by_source[s]) for s in SOURCES if s in by_source), "")


def _implicit_marks(implicit: list[CheckResult]) -> dict[tuple[str, str], CheckResult]:
    """The worst implicit result for each (beam, param)."""
    marks: dict[tuple[str, str], CheckResult] = {}
    for r in implicit:
        if not r.param:
            continue
        key = (r.beam, r.param)
        if key not in marks or _RANK[r.status] < _RANK[marks[key].status]:
            marks[key] = r
    return marks


def _pivot(rows: list[Param], marks: dict[tuple[str, str], CheckResult], odd: dict[tuple[str, str], frozenset[str]], beam_order: list[str]) -> list[ParamRow]:
    """One ParamRow per (scope, beam, param); several values from one source are joined."""
    cells: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for r in rows:
        cells.setdefault((r.scope, r.beam, r.param), {}).setdefault(r.source, []).append(fmt_param(r.param, r.value))
    beam_rank = {b: i for i, b in enumerate(beam_order)}
    scope_rank = {s: i for i, s in enumerate((*PLAN_SCOPES, "beam"))}

    def order(key: tuple[str, str, str]) -> tuple[int, int, int, str]:
        scope, beam, param = key
        return (scope_rank.get(scope, 9), beam_rank.get(beam, len(beam_rank)), _ORDER.get(param, len(_ORDER)), param)

    out = []
    for key in sorted(cells, key=order):
        scope, beam, param = key
        mark = marks.get((beam, param))
        values = {s: " / ".join(v) for s, v in cells[key].items()}
        status, message = (mark.status, mark.message) if mark else (None, "")
        out.append(ParamRow(scope, beam, param, param_label(param), values, status, message, odd.get((beam, param), frozenset())))
    return out


def _records(rows: list[Param], scope: str) -> RecordTable:
    params: dict[str, None] = {}
    records: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        if r.scope != scope:
            continue
        params.setdefault(r.param, None)
        records.setdefault((r.source, r.item or r.beam), {})[r.param] = fmt_param(r.param, r.value)
    ordered = sorted(params, key=lambda p: _ORDER.get(p, len(_ORDER)))
    return RecordTable(scope, RECORD_TITLES.get(scope, scope), ordered, [(s, i, v) for (s, i), v in records.items()])
