"""What the API and the pages do, in one place: each is a call into the record (findings, signoff, users,
worklist) or the checks, the same functions the command line calls."""

from __future__ import annotations

import functools
import datetime as dt
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from plancheck.batch import Task, check_task, store_outcome
from plancheck.config import Config
from plancheck.errors import PlancheckError
from plancheck.record import findings, signoff
from plancheck.record.db import session
from plancheck.record.models import Disposition, Finding, ManualTick, Run, Signature, User
from plancheck.record.store import last_signed, latest_run
from plancheck.record.worklist import worklist as record_worklist
from plancheck.web.jobs import Job, Step


class PageNotFound(PlancheckError):
    """No such job, file or page (a job lives in memory: a restart forgets it)."""


def tick(s: Session, run_id: int, check_id: str, *, ticked: bool, user: User) -> ManualTick:
    return signoff.tick(s, run_id, check_id, ticked=ticked, user=user)


def dispose(s: Session, finding_id: int, *, verdict: str, comment: str, assignee: str, user: User, run_id: int | None) -> Disposition:
    return findings.dispose(s, finding_id, verdict=verdict, comment=comment, assignee=assignee, user=user, run_id=run_id)


def sign(s: Session, run_id: int, *, user: User, password: str, meaning: str, config: Config) -> Signature:
    return signoff.sign(s, run_id, user=user, password=password, meaning=meaning, config=config)


def amend(s: Session, run_id: int, *, user: User, reason: str) -> Run:
    return signoff.amend(s, run_id, user=user, reason=reason)


def _open_findings(s: Session, patient_id: str) -> int:
    query = select(func.count()).select_from(Finding).where(Finding.patient_id == patient_id, Finding.state == "open")
    return int(s.scalar(query) or 0)


def worklist(config: Config, engine: Engine, on: dt.date) -> dict[str, Any]:
    """Every listed prescription's next check on ``on`` (record.worklist), with its latest stored run, last signer and open findings,
    and what MOSAIQ lacked."""
    due, missing = record_worklist(config, engine, on)
    rows = []
    with session(engine) as s:
        for check in due:
            row = check.to_dict() | {"is_due": check.is_due}
            signed = last_signed(s, check.patient_id, prescription=check.prescription)
            latest = latest_run(s, check.patient_id, check.prescription, check.kind)
            signature = signed.signature if signed else None
            row |= {
                "last_signed_run": signed.id if signed else None,
                "last_signed_at": signature.signed_at.isoformat() if signature else None,
                "last_signer": signature.user.username if signature else None,
                "latest_run": latest.id if latest else None,
                "latest_run_state": latest.state if latest else None,
                "open_findings": _open_findings(s, check.patient_id),
            }
            rows.append(row)
    return {"date": on.isoformat(), "due": rows, "missing": list(missing)}


def _check_and_store(config: Config, engine: Engine, task: Task, on: dt.date) -> int:
    """One due check as the nightly batch does it (collect, check, reports and gamma pages, store); the stored run's id."""
    today = dt.datetime.combine(on, dt.datetime.now().time().replace(microsecond=0))
    outcome = check_task(task, config, today, str(config.output_dir))
    if outcome.error:
        raise PlancheckError(outcome.error)
    stored = store_outcome(engine, outcome, today.astimezone(dt.UTC))
    return int(stored.run_id or 0)


def start_due_checks(app: FastAPI, on: dt.date, patients: list[str], user: User) -> Job:
    """Check (and store) every check due on ``on`` (only ``patients``' when given) in a background job."""
    config, engine = app.state.config, app.state.engine

    def steps() -> list[Step]:
        due = worklist(config, engine, on)["due"]
        chosen = [Task(d["patient_id"], d["prescription"], d["kind"], d["reason"])
                  for d in due if d["is_due"] and (not patients or d["patient_id"] in patients)]
        return [(f"{t.patient_id} {t.kind}", functools.partial(_check_and_store, config, engine, t, on)) for t in chosen]

    def done(job: Job, outputs: list[Any]) -> None:
        job.result = {"runs": outputs}

    return app.state.jobs.start("due checks", user.username, steps, done)


def job_json(app: FastAPI, job_id: str) -> dict[str, Any]:
    job = app.state.jobs.get(job_id)
    if job is None:
        raise PageNotFound(f"no background job {job_id}", fix="start it again from the worklist")
    return dict(job.to_dict())
