"""Storing CheckRuns in the record and finding them again.

A run's *fingerprint* is what it checked and found (patient, prescription, check kind, rule set,
plancheck version, the collected table and every result's outcome), not when: storing a run whose
fingerprint equals the latest stored run of that patient, prescription and kind adds nothing, which
makes a nightly batch idempotent for an unchanged patient.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.errors import PlancheckError
from plancheck.record.audit import audit
from plancheck.record.models import Result, Run, Signature
from plancheck.record.tracking import track_findings

if TYPE_CHECKING:
    from plancheck.checks.results import CheckRun


class RunNotFound(PlancheckError):
    """No stored run with that number."""


def fingerprint(run: CheckRun) -> str:
    """SHA-256 of what ``run`` checked and found (figure paths and the wall-clock time left out)."""
    outcome = [(r.id, r.origin, r.status.value, r.beam, r.param, r.message, r.details) for r in run.results]
    what: dict[str, Any] = {
        "patient": run.patient_id, "prescription": run.plan, "kind": run.check_kind, "rule_set": run.rule_set,
        "version": run.version, "table": run.table.to_records(), "results": outcome, "source_errors": dict(run.table.source_errors),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def latest_run(s: Session, patient_id: str, prescription: str, check_kind: str) -> Run | None:
    query = select(Run).where(Run.patient_id == patient_id, Run.prescription == prescription, Run.check_kind == check_kind)
    return s.scalars(query.order_by(Run.id.desc()).limit(1)).first()


def store_run(s: Session, run: CheckRun, *, as_of: dt.datetime, created_by: str, report_dir: str = "") -> tuple[Run, bool]:
    """Store ``run`` (checked as of ``as_of``, timezone-aware); returns the stored run and whether it is new.
    An unchanged patient (same fingerprint as the latest run of its prescription and kind) adds nothing."""
    print_ = fingerprint(run)
    previous = latest_run(s, run.patient_id, run.plan, run.check_kind)
    if previous is not None and previous.fingerprint == print_:
        return previous, False
    stored = Run(
        patient_id=run.patient_id, prescription=run.plan, check_kind=run.check_kind, as_of=as_of, created_by=created_by,
        rule_set=run.rule_set, version=run.version, fingerprint=print_, passed=run.passed, counts=run.counts(),
        sources=_sources(run), source_errors=dict(run.table.source_errors), warnings=list(run.warnings),
        payload=json.loads(run.to_json()), report_dir=report_dir,
    )
    s.add(stored)
    s.flush()
    s.add_all(Result(run_id=stored.id, position=i, check_id=r.id, name=r.name, origin=r.origin, status=r.status.value, beam=r.beam,
                     param=r.param, message=r.message, details=json.loads(json.dumps(r.details, default=str))) for i, r in enumerate(run.results))
    s.flush()
    track_findings(s, stored)
    audit(s, created_by, "run.store", f"run {stored.id}", patient=run.patient_id, kind=run.check_kind, fingerprint=print_)
    return stored, True


def _sources(run: CheckRun) -> dict[str, Any]:
    """Each source that gave rows, with the distinct provenances (files, tables) its rows name."""
    out: dict[str, set[str]] = {}
    for row in run.table.to_records():
        out.setdefault(str(row["source"]), set()).add(str(row["provenance"]).split(" ")[0])
    return {name: sorted(where) for name, where in out.items()}


def get_run(s: Session, run_id: int) -> Run:
    run = s.get(Run, run_id)
    if run is None:
        raise RunNotFound(f"no stored run {run_id}", fix="see `plancheck history PATIENT` for the runs of a patient")
    return run


def runs_of(s: Session, patient_id: str) -> list[Run]:
    """Every stored run of a patient, oldest first."""
    return list(s.scalars(select(Run).where(Run.patient_id == patient_id).order_by(Run.id)))


def last_signed(s: Session, patient_id: str, check_kind: str | None = None, prescription: str | None = None) -> Run | None:
    """The patient's latest signed run (of that kind and prescription when given), by signing time."""
    query = select(Run).join(Signature, Signature.run_id == Run.id).where(Run.patient_id == patient_id)
    if check_kind is not None:
        query = query.where(Run.check_kind == check_kind)
    if prescription is not None:
        query = query.where(Run.prescription == prescription)
    return s.scalars(query.order_by(Signature.signed_at.desc(), Run.id.desc()).limit(1)).first()
