"""What the record teaches (issue 13, item 6): findings per check and per month with their dispositions
(many false alarms: the rule to tune), checks that never fire, runs per kind and time from run to sign-off.

Words: the *period* starts at ``since`` (00:00 UTC) and runs to now; a finding is counted in the period it
was first seen, with its *latest* disposition (``none`` when nobody judged it yet); a check *never fires*
when it ran (passed) in runs of the period and none of its results there failed, warned or erred; the time
to sign-off runs from a run's storing to its signature. Months are UTC calendar months (``YYYY-MM``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from plancheck.record.models import VERDICTS, Disposition, Finding, Result, Run, Signature

UNJUDGED = "none"  # a finding without a disposition
VERDICT_COLUMNS = (*VERDICTS, UNJUDGED)
FIRING = ("fail", "warn", "error")  # the statuses that make a finding


def _verdicts(counted: Counter[str]) -> dict[str, int]:
    return {v: counted.get(v, 0) for v in VERDICT_COLUMNS}


@dataclass(frozen=True)
class FindingCounts:
    """Findings of one check (or first seen in one month), by their latest verdict."""

    key: str  # the check id, or the month YYYY-MM
    findings: int
    verdicts: dict[str, int] = field(default_factory=dict)  # every VERDICT_COLUMNS key

    @property
    def false_alarm_share(self) -> float | None:
        """False alarms among the judged findings (None when none was judged)."""
        judged = self.findings - self.verdicts.get(UNJUDGED, 0)
        return self.verdicts.get("false_alarm", 0) / judged if judged else None


@dataclass(frozen=True)
class SilentCheck:
    check_id: str
    runs: int  # runs of the period in which it ran and passed


@dataclass(frozen=True)
class KindRuns:
    """Runs of one check kind (``all``: every kind) in the period, and how long sign-off took."""

    kind: str
    runs: int
    signed: int
    median_signoff_s: float | None = None
    max_signoff_s: float | None = None


@dataclass(frozen=True)
class Stats:
    since: dt.date | None
    made: dt.datetime
    by_check: tuple[FindingCounts, ...]
    by_month: tuple[FindingCounts, ...]
    silent: tuple[SilentCheck, ...]
    by_kind: tuple[KindRuns, ...]  # one row per kind, then "all"

    def to_dict(self) -> dict[str, Any]:
        def counts(rows: Iterable[FindingCounts], name: str) -> list[dict[str, Any]]:
            return [{name: r.key, "findings": r.findings, **r.verdicts, "false_alarm_share": r.false_alarm_share} for r in rows]

        return {
            "since": self.since.isoformat() if self.since else None, "made": self.made.isoformat(),
            "findings_by_check": counts(self.by_check, "check_id"), "findings_by_month": counts(self.by_month, "month"),
            "checks_that_never_fire": [asdict(c) for c in self.silent], "runs_by_kind": [asdict(k) for k in self.by_kind],
        }


def compute(s: Session, since: dt.date | None = None) -> Stats:
    """The statistics of the record from ``since`` (every run and finding when None) to now."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    findings = _findings(s, start)
    return Stats(since=since, made=dt.datetime.now(dt.UTC).replace(microsecond=0),
                 by_check=_counts(findings, by_month=False), by_month=_counts(findings, by_month=True),
                 silent=_silent(s, start), by_kind=_kinds(s, start))


Q = TypeVar("Q", bound=Select)  # a query of any row shape


def _since(query: Q, column: Any, start: dt.datetime | None) -> Q:
    return query if start is None else query.where(column >= start)


def _findings(s: Session, start: dt.datetime | None) -> list[tuple[str, dt.datetime, str]]:
    """(check id, first seen, latest verdict or "none") of each finding first seen in the period."""
    latest = select(Disposition.finding_id, func.max(Disposition.id).label("last")).group_by(Disposition.finding_id).subquery()
    query = (select(Finding.check_id, Finding.first_seen, Disposition.verdict)
             .outerjoin(latest, latest.c.finding_id == Finding.id).outerjoin(Disposition, Disposition.id == latest.c.last))
    return [(check, seen, verdict or UNJUDGED) for check, seen, verdict in s.execute(_since(query, Finding.first_seen, start))]


def _counts(findings: list[tuple[str, dt.datetime, str]], *, by_month: bool) -> tuple[FindingCounts, ...]:
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    for check, seen, verdict in findings:
        grouped[seen.strftime("%Y-%m") if by_month else check][verdict] += 1
    rows = [FindingCounts(key, sum(c.values()), _verdicts(c)) for key, c in grouped.items()]
    return tuple(sorted(rows, key=lambda r: r.key) if by_month else sorted(rows, key=lambda r: (-r.findings, r.key)))


def _silent(s: Session, start: dt.datetime | None) -> tuple[SilentCheck, ...]:
    """Checks (not manual ones: a person ticks those) that passed in runs of the period and never fired there."""
    query = (select(Result.check_id, Result.status, func.count(func.distinct(Result.run_id)))
             .join(Run, Run.id == Result.run_id).where(Result.origin != "manual").group_by(Result.check_id, Result.status))
    runs: dict[str, dict[str, int]] = defaultdict(dict)
    for check, status, count in s.execute(_since(query, Run.created, start)):
        runs[check][status] = count
    return tuple(SilentCheck(check, by_status["pass"]) for check, by_status in sorted(runs.items())
                 if "pass" in by_status and not any(status in by_status for status in FIRING))


def _kinds(s: Session, start: dt.datetime | None) -> tuple[KindRuns, ...]:
    query = select(Run.check_kind, Run.created, Signature.signed_at).outerjoin(Signature, Signature.run_id == Run.id)
    waits: dict[str, list[float | None]] = defaultdict(list)
    for kind, created, signed_at in s.execute(_since(query, Run.created, start)):
        waits[kind].append((signed_at - created).total_seconds() if signed_at else None)
    rows = [_kind(kind, waits[kind]) for kind in sorted(waits)]
    return (*rows, _kind("all", [w for kind in waits for w in waits[kind]])) if rows else ()


def _kind(kind: str, waits: list[float | None]) -> KindRuns:
    signed = [w for w in waits if w is not None]
    return KindRuns(kind, len(waits), len(signed), statistics.median(signed) if signed else None, max(signed) if signed else None)


def hours_text(seconds: float | None) -> str:
    """A sign-off time as people read it: hours with one decimal (empty when nothing was signed)."""
    return "" if seconds is None else f"{seconds / 3600:.1f} h"


def share_text(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


@dataclass(frozen=True)
class TextTable:
    """One table of the statistics as text, for the terminal and the HTML page alike."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _finding_rows(rows: Iterable[FindingCounts]) -> tuple[tuple[str, ...], ...]:
    return tuple((r.key, str(r.findings), *(str(r.verdicts.get(v, 0)) for v in VERDICT_COLUMNS), share_text(r.false_alarm_share)) for r in rows)


def tables(stats: Stats) -> tuple[TextTable, ...]:
    """The four tables: findings per check, per month, checks that never fire, runs per kind with sign-off times."""
    verdicts = (*VERDICT_COLUMNS, "false alarms of judged")
    return (
        TextTable("Findings per check", ("check", "findings", *verdicts), _finding_rows(stats.by_check)),
        TextTable("Findings per month (first seen, UTC)", ("month", "findings", *verdicts), _finding_rows(stats.by_month)),
        TextTable("Checks that never fire", ("check", "runs it passed in"), tuple((c.check_id, str(c.runs)) for c in stats.silent)),
        TextTable("Runs per kind and time to sign-off", ("kind", "runs", "signed", "median to sign-off", "longest"),
                  tuple((k.kind, str(k.runs), str(k.signed), hours_text(k.median_signoff_s), hours_text(k.max_signoff_s)) for k in stats.by_kind)),
    )
