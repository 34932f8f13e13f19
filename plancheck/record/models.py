"""The results database's tables as SQLAlchemy ORM classes (one schema for SQLite and PostgreSQL).

Words: a *run* is one stored CheckRun; a *finding* is a failing, warning or error result keyed by
patient, prescription, check id, beam and item, followed across runs; a *disposition* is a
physicist's judgement of a finding (its *verdict*); a *signature* closes a run. Times are stored
as UTC and come back timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("viewer", "physicist", "qa_lead", "admin")  # each role may do what the ones before it may
VERDICTS = ("acknowledged", "accepted", "to_be_fixed", "false_alarm")
FINDING_STATES = ("open", "resolved")
CHANGES = ("new", "still_open", "changed", "resolved")  # what a run did to a finding (changed: values differ, so new again)
RUN_STATES = ("open", "signed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC time on every engine (SQLite keeps no zone: stored naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored in the record; give it a timezone")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))  # one of ROLES
    auth: Mapped[str] = mapped_column(String(16), default="local")  # local (argon2 hash here) | ldap (bind to the directory)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One stored CheckRun: what was collected, every result, the rule set, version and sources."""

    __tablename__ = "check_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    prescription: Mapped[str] = mapped_column(String(200), default="")  # the plan / site label the run checked
    check_kind: Mapped[str] = mapped_column(String(16))  # initial | weekly | final
    as_of: Mapped[dt.datetime] = mapped_column()  # the check's "today"
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")  # username, or "batch"
    rule_set: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(40), default="")  # plancheck's
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)  # what was checked: equal fingerprints, same run
    passed: Mapped[bool] = mapped_column(Boolean)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sources: Mapped[dict[str, Any]] = mapped_column(default=dict)  # source name -> the files / tables it read
    source_errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # CheckRun.to_dict(): the collected table and every result
    report_dir: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="open")  # one of RUN_STATES
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id"), default=None)  # a correction of a signed run

    results: Mapped[list[Result]] = relationship(back_populates="run", order_by="Result.position")
    signature: Mapped[Signature | None] = relationship(back_populates="run")


class Result(Base):
    __tablename__ = "results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    check_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16))  # implicit | explicit | manual
    status: Mapped[str] = mapped_column(String(16))  # plancheck.checks.results.Status
    beam: Mapped[str] = mapped_column(String(200), default="")
    param: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), default=None)

    run: Mapped[Run] = relationship(back_populates="results")


class Finding(Base):
    """A failing, warning or error result followed across runs of one patient's prescription."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("patient_id", "prescription", "check_id", "beam", "item", name="uq_finding_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    prescription: Mapped[str] = mapped_column(String(200), default="")
    check_id: Mapped[str] = mapped_column(String(200))
    beam: Mapped[str] = mapped_column(String(200), default="")
    item: Mapped[str] = mapped_column(String(200), default="")  # the parameter or the explicit check's item
    state: Mapped[str] = mapped_column(String(16), default="open")  # one of FINDING_STATES
    status: Mapped[str] = mapped_column(String(16))  # the latest result's status: fail | warn | error
    message: Mapped[str] = mapped_column(Text, default="")
    values_hash: Mapped[str] = mapped_column(String(64))  # of the latest result's values: a change makes the finding new again
    first_run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"))
    resolved_run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id"), default=None)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)

    dispositions: Mapped[list[Disposition]] = relationship(back_populates="finding", order_by="Disposition.id")


class RunFinding(Base):
    """What one run did to one finding: new, still open, changed (new again) or resolved."""

    __tablename__ = "run_findings"
    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), primary_key=True)
    change: Mapped[str] = mapped_column(String(16))  # one of CHANGES


class Disposition(Base):
    """A physicist's judgement of a finding, valid while the finding's values stay as they were."""

    __tablename__ = "dispositions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id"), default=None)  # the run under review
    verdict: Mapped[str] = mapped_column(String(16))  # one of VERDICTS
    comment: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str] = mapped_column(String(200), default="")  # who fixes it (to_be_fixed)
    values_hash: Mapped[str] = mapped_column(String(64))  # the finding's values it judged
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="dispositions")
    user: Mapped[User] = relationship()


class ManualTick(Base):
    """A manual check ticked (or unticked) on a run; the latest row per (run, check) counts."""

    __tablename__ = "manual_ticks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), index=True)
    check_id: Mapped[str] = mapped_column(String(200))
    ticked: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Signature(Base):
    """The electronic signature closing a run (21 CFR 11.50: who, when, meaning)."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    meaning: Mapped[str] = mapped_column(Text)
    pdf_path: Mapped[str] = mapped_column(Text, default="")  # the signed record written to eSCAN
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")

    run: Mapped[Run] = relationship(back_populates="signature")
    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table (triggers, migration 0002)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))  # e.g. run.store, finding.dispose, run.sign, user.add
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. "run 12", "finding 40", "user alice"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
