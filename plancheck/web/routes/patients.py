"""/patients/{id}/history: a patient's stored checks over the course, and what changed between two runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from plancheck.record.store import runs_of
from plancheck.web.auth import Db, Viewer
from plancheck.web.diff import run_diff
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/patients/{patient_id}/history")
def history(request: Request, patient_id: str, s: Db, _user: Viewer, a: int | None = None, b: int | None = None) -> Response:
    runs = runs_of(s, patient_id)
    ids = [r.id for r in runs]
    if len(ids) >= 2 and (a not in ids or b not in ids):
        a, b = ids[-2], ids[-1]
    diff = run_diff(s, a, b) if a in ids and b in ids and a != b else None
    return render(request, "history.html.j2", patient_id=patient_id, runs=list(reversed(runs)), a=a, b=b, diff=diff)
