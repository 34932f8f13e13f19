"""Who is due which chart check, and why: MOSAIQ's courses against plancheck's signed record.

One line per current prescription of every patient under treatment (a fraction delivered within
``[worklist] lookback_days``) or about to start (approved fields and a treatment session within
``lookahead_days``, or approved within ``lookback_days``):

- *initial*: the plan's fields are approved and no signed check of this plan version (a signed run
  checked as of its latest field approval or later: an initial check, or a later weekly one that
  reviewed it) exists; due before the first fraction, overdue once a fraction was delivered on the
  unchecked version (a plan edited and re-approved mid-course is a new version);
- *weekly*: ``weekly_fractions`` fractions or ``weekly_days`` days since the last signed weekly
  check (the first fraction when there is none), whichever comes first; overdue the day after;
- *final*: every prescribed fraction delivered and no signed final check since the last one.

The last check comes from plancheck's record (``Run`` + ``Signature``); a prescription that the
record has never signed falls back to MOSAIQ's last completed chart-check QCL task. MOSAIQ is read
in six queries and the record in one, whatever the number of patients (docs/worklist.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from plancheck.errors import ConfigError
from plancheck.record.db import session
from plancheck.record.models import Run, Signature
from plancheck.sources.mosaiq.clinic import ClinicView, Course, read_clinic

if TYPE_CHECKING:
    from plancheck.config import Config
    from plancheck.record.settings import WorklistSettings

STATUSES = ("overdue", "due", "upcoming", "waiting")  # waiting: nothing can be checked yet (fields not approved)
RECORD, QCL = "plancheck record", "MOSAIQ QCL task"


@dataclass(frozen=True)
class SignedCheck:
    kind: str
    as_of: dt.datetime  # naive local time, as MOSAIQ's dates
    signed_at: dt.datetime


@dataclass(frozen=True)
class DueCheck:
    """One prescription's next chart check: which, its state, when it falls due and why."""

    patient_id: str
    patient_name: str
    prescription: str
    kind: str  # initial | weekly | final
    status: str  # one of STATUSES
    reason: str
    due_date: dt.date | None = None
    overdue_days: int = 0
    fractions_delivered: int = 0
    fractions_prescribed: int | None = None
    last_check: dt.datetime | None = None
    last_check_source: str = ""  # RECORD, QCL or empty
    next_session: dt.datetime | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_due(self) -> bool:
        return self.status in ("due", "overdue")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("due_date", "last_check", "next_session"):
            out[key] = None if out[key] is None else out[key].isoformat()
        out["notes"] = list(self.notes)
        return out


def _local(value: dt.datetime) -> dt.datetime:
    """A stored UTC time as a naive local time, comparable with MOSAIQ's."""
    return value.astimezone().replace(tzinfo=None)


def signed_checks(engine: Engine, patient_ids: list[str]) -> dict[tuple[str, str], list[SignedCheck]]:
    """Every signed run of these patients, by (patient, prescription folded), newest signature first: one query per 500 patients."""
    out: dict[tuple[str, str], list[SignedCheck]] = defaultdict(list)
    ids = sorted(set(patient_ids))
    with session(engine) as s:
        for i in range(0, len(ids), 500):
            query = (select(Run.patient_id, Run.prescription, Run.check_kind, Run.as_of, Signature.signed_at)
                     .join(Signature, Signature.run_id == Run.id).where(Run.patient_id.in_(ids[i:i + 500]))
                     .order_by(Signature.signed_at.desc(), Run.id.desc()))
            for patient, prescription, kind, as_of, signed_at in s.execute(query):
                out[(patient, prescription.strip().casefold())].append(SignedCheck(kind, _local(as_of), _local(signed_at)))
    return out


@dataclass
class _Evidence:
    """The checks that count for one prescription: the record's, else MOSAIQ's QCL chart check (of any kind)."""

    record: list[SignedCheck]
    qcl: dt.datetime | None

    @property
    def source(self) -> str:
        return RECORD if self.record else QCL if self.qcl else ""

    def last(self, kind: str | None, after: dt.datetime | None = None) -> dt.datetime | None:
        """The latest check of ``kind`` (any kind: None), as of when it looked, if at or after ``after``."""
        found = max((c.as_of for c in self.record if kind is None or c.kind == kind), default=None) if self.record else self.qcl
        return found if found is not None and (after is None or found >= after) else None


@dataclass
class _Course:
    """One course with everything known of it, and the settings that judge it."""

    course: Course
    fractions: list[dt.datetime]
    view: ClinicView
    evidence: _Evidence
    settings: WorklistSettings
    notes: list[str] = field(default_factory=list)

    def line(self, kind: str, status: str, reason: str, due: dt.date | None = None, last: dt.datetime | None = None) -> DueCheck:
        c, on = self.course, self.view.on
        overdue = (on - due).days if status == "overdue" and due is not None else 0
        return DueCheck(
            c.patient_id, c.patient_name, c.prescription, kind, status, reason, due, overdue, len(self.fractions), c.fractions,
            last, self.evidence.source if last is not None else "", self.view.next_session.get(c.pat), tuple(self.notes),
        )


def _date(value: dt.datetime | dt.date) -> str:
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def _state(due: dt.date, on: dt.date) -> str:
    return "overdue" if due < on else "due" if due == on else "upcoming"


def _not_started(k: _Course) -> DueCheck:
    plan = k.view.plans[k.course.sit_set_id]
    start = k.view.next_session.get(k.course.pat)
    starts = f"first session {_date(start)}" if start else "no treatment session scheduled"
    if not plan.all_approved:
        return k.line("initial", "waiting", f"{plan.count - plan.approved} of {plan.count} treatment fields not approved yet; {starts}")
    assert plan.approved_at is not None
    done = k.evidence.last(None, after=plan.approved_at)
    if done is not None:
        return k.line("weekly", "upcoming", f"this plan version checked {_date(done)}; {starts}", last=done)
    due = start.date() if start else k.view.on
    return k.line("initial", "due", f"plan approved {_date(plan.approved_at)} ({plan.count} fields), no signed initial check of it; {starts}", due)


def _final(k: _Course) -> DueCheck | None:
    last_fraction = k.fractions[-1]
    if k.evidence.last("final", after=last_fraction) is not None:
        return None  # course over and signed off: no longer on the list
    due = last_fraction.date()
    n = len(k.fractions)
    return k.line("final", _state(due, k.view.on), f"all {n} of {k.course.fractions} fractions delivered (last {_date(due)}), no signed final check", due)


def _weekly(k: _Course) -> DueCheck:
    s, on = k.settings, k.view.on
    last = k.evidence.last("weekly")
    clock = last if last is not None and last >= k.fractions[0] else None
    counted = [f for f in k.fractions if clock is None or f > clock]
    since = f"last weekly check {_date(clock)}" if clock else f"first fraction {_date(k.fractions[0])}"
    by_days = (clock or k.fractions[0]).date() + dt.timedelta(days=s.weekly_days)
    by_fractions = counted[s.weekly_fractions - 1].date() if len(counted) >= s.weekly_fractions else None
    due = min(d for d in (by_days, by_fractions) if d is not None)
    status = _state(due, on)
    if status == "upcoming":
        more = s.weekly_fractions - len(counted)
        reason = f"{len(counted)} fraction(s) since {since}; due {_date(due)} or after {more} more fraction(s)"
    else:
        why = f"{s.weekly_fractions} fractions" if by_fractions is not None and by_fractions <= by_days else f"{s.weekly_days} days"
        reason = f"{why} since {since} ({len(counted)} fraction(s), {(on - (clock or k.fractions[0]).date()).days} days)"
    return k.line("weekly", status, reason, due, last)


def _unchecked_version(k: _Course, weekly: DueCheck) -> DueCheck | None:
    """An initial check missing for the plan version in use (approved before or during the course)."""
    plan = k.view.plans.get(k.course.sit_set_id)
    if plan is None or not plan.all_approved or plan.approved_at is None:
        return None
    if k.evidence.last(None, after=plan.approved_at) is not None:
        return None  # a signed check of any kind has looked at this version since it was approved
    treated = [f for f in k.fractions if f >= plan.approved_at]
    before = len(k.fractions) - len(treated)
    what = f"plan version approved {_date(plan.approved_at)}" + (f" after fraction {before}" if before else "")
    also = f"; weekly check also {weekly.status}" if weekly.is_due else ""
    if not treated:  # due before the next fraction
        start = k.view.next_session.get(k.course.pat)
        return k.line("initial", "due", f"{what}, no signed initial check of it yet{also}", start.date() if start else k.view.on)
    due = treated[0].date()
    return k.line("initial", _state(due, k.view.on), f"{what}: {len(treated)} fraction(s) delivered on it since {_date(due)} "
                  f"without a signed initial check{also}", due)


def _assess(k: _Course) -> DueCheck | None:
    c = k.course
    if not c.patient_id:
        k.notes.append(f"MOSAIQ has no patient ID (Ident.IDA) for Pat_ID1 {c.pat}: it cannot be checked by ID")
    if c.approved_at is None:
        k.notes.append("prescription not approved in MOSAIQ (Site.Sanct_DtTm empty)")
    plan = k.view.plans.get(c.sit_set_id)
    if plan is not None and plan.count and not plan.all_approved and k.fractions:
        k.notes.append(f"{plan.count - plan.approved} of {plan.count} treatment fields not approved (TxField.Sanct_DtTm empty)")
    if not k.fractions:
        return _not_started(k)
    if c.fractions and len(k.fractions) >= c.fractions:
        return _final(k)
    weekly = _weekly(k)
    return _unchecked_version(k, weekly) or weekly


def _listed(course: Course, view: ClinicView, start: dt.datetime) -> bool:
    """Under treatment (fractions recently delivered) or about to start."""
    if course.sit_set_id in view.fractions:
        return True
    plan = view.plans.get(course.sit_set_id)
    if plan is None or plan.count == 0:
        return False
    approved = plan.approved_at or course.approved_at
    return course.pat in view.next_session or (approved is not None and approved >= start)


ORDER = {s: i for i, s in enumerate(STATUSES)}


def listed_courses(view: ClinicView, settings: WorklistSettings) -> list[Course]:
    """The courses under treatment or about to start."""
    start = dt.datetime.combine(view.on - dt.timedelta(days=settings.lookback_days), dt.time())
    return [c for c in view.courses if _listed(c, view, start)]


def assess_clinic(view: ClinicView, signed: dict[tuple[str, str], list[SignedCheck]], settings: WorklistSettings) -> list[DueCheck]:
    """The worklist of a clinic read from MOSAIQ and the signed checks of the record: most overdue first."""
    lines = []
    for course in listed_courses(view, settings):
        evidence = _Evidence(signed.get((course.patient_id, course.prescription.strip().casefold()), []), view.chart_checks.get(course.pat))
        line = _assess(_Course(course, view.fractions.get(course.sit_set_id, []), view, evidence, settings))
        if line is not None:
            lines.append(line)
    return sorted(lines, key=lambda d: (ORDER[d.status], -d.overdue_days, d.due_date or dt.date.max, d.patient_id, d.prescription))


def due_checks(config: Config, engine: Engine, on: dt.date) -> list[DueCheck]:
    """Every listed prescription's next check as of the end of ``on`` (``DueCheck.is_due`` for the ones to run)."""
    return worklist(config, engine, on)[0]


def worklist(config: Config, engine: Engine, on: dt.date) -> tuple[list[DueCheck], list[str]]:
    """``due_checks`` and what MOSAIQ lacked (each line says what that disabled)."""
    from plancheck.sources.mosaiq.connect import open_mosaiq

    if not config.mosaiq_url:
        raise ConfigError("the worklist reads MOSAIQ, and no MOSAIQ is configured", fix="set [mosaiq] url in plancheck.toml or pass --mosaiq-url")
    db = open_mosaiq(config.mosaiq_url, config.mosaiq_timeout_s)
    s = config.worklist
    view = read_clinic(db, on, lookback_days=s.lookback_days, lookahead_days=s.lookahead_days, settings=config.mosaiq)
    signed = signed_checks(engine, [c.patient_id for c in listed_courses(view, s) if c.patient_id])
    return assess_clinic(view, signed, s), view.missing
