"""The JSON API the pages use (documented at /api/docs): each route calls the record's own functions,
the ones the command line calls, so the API can do nothing the command line cannot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from plancheck.web import actions
from plancheck.web.auth import Db, Physicist, Viewer
from plancheck.web.present import run_json

router = APIRouter(prefix="/api", tags=["record"])


class TickIn(BaseModel):
    check_id: str = Field(description="the manual check's id, e.g. manual.imaging")
    ticked: bool = True


class DispositionIn(BaseModel):
    verdict: str = Field(description="acknowledged | accepted | to_be_fixed | false_alarm")
    comment: str = ""
    assignee: str = Field("", description="who fixes it (to_be_fixed)")
    run_id: int | None = Field(None, description="the run under review")


class SignIn(BaseModel):
    password: str = Field(description="the signer's password, asked again at signing (21 CFR 11.200)")
    meaning: str = Field(description='what the signature means, e.g. "weekly chart check reviewed"')


class AmendIn(BaseModel):
    reason: str = Field(description="why the signed run is corrected")


class RunChecksIn(BaseModel):
    date: dt.date | None = Field(None, description="the worklist's day (default: today)")
    patients: list[str] = Field(default_factory=list, description="only these patients' due checks (default: all due)")


@router.get("/worklist", summary="The checks due on a day, with each patient's last check, last signer and open findings")
def worklist(request: Request, _user: Viewer, date: dt.date | None = None) -> dict[str, Any]:
    return actions.worklist(request.app.state.config, request.app.state.engine, date or dt.date.today())


@router.get("/runs/{run_id}", summary="A stored run for review: findings (new first), manual checks with their ticks, signature")
def get_run(run_id: int, s: Db, _user: Viewer) -> dict[str, Any]:
    return run_json(s, run_id)


@router.post("/runs/{run_id}/ticks", summary="Tick (or untick) a manual check of a run")
def tick(run_id: int, body: TickIn, s: Db, user: Physicist) -> dict[str, Any]:
    made = actions.tick(s, run_id, body.check_id, ticked=body.ticked, user=user)
    return {"run_id": run_id, "check_id": made.check_id, "ticked": made.ticked, "by": user.username, "at": made.created.isoformat()}


@router.post("/findings/{finding_id}/disposition", summary="Give a finding a disposition with a comment")
def dispose(finding_id: int, body: DispositionIn, s: Db, user: Physicist) -> dict[str, Any]:
    made = actions.dispose(s, finding_id, verdict=body.verdict, comment=body.comment, assignee=body.assignee, user=user, run_id=body.run_id)
    return {"id": made.id, "finding_id": finding_id, "verdict": made.verdict, "comment": made.comment, "assignee": made.assignee,
            "by": user.username, "at": made.created.isoformat()}


@router.post("/runs/{run_id}/sign", summary="Sign a run (password asked again; refused while a failure lacks a disposition or a manual check is unticked)")
def sign(request: Request, run_id: int, body: SignIn, s: Db, user: Physicist) -> dict[str, Any]:
    signature = actions.sign(s, run_id, user=user, password=body.password, meaning=body.meaning, config=request.app.state.config)
    return {"run_id": run_id, "signed_by": user.username, "signed_at": signature.signed_at.isoformat(), "meaning": signature.meaning,
            "pdf": signature.pdf_path, "pdf_sha256": signature.pdf_sha256}


@router.post("/runs/{run_id}/amend", summary="Amend a signed run: a new open run naming it, to judge, tick and sign again")
def amend(run_id: int, body: AmendIn, s: Db, user: Physicist) -> dict[str, Any]:
    made = actions.amend(s, run_id, user=user, reason=body.reason)
    return {"id": made.id, "amends": run_id, "state": made.state}


@router.post("/checks/run", summary="Run the due checks now, in the background; answers the job to follow")
def run_checks_now(request: Request, body: RunChecksIn, user: Physicist) -> dict[str, Any]:
    return actions.start_due_checks(request.app, body.date or dt.date.today(), body.patients, user).to_dict()


@router.get("/jobs/{job_id}", summary="A background job's progress")
def job(request: Request, job_id: str, _user: Viewer) -> dict[str, Any]:
    return actions.job_json(request.app, job_id)
