"""/worklist: the checks due today by kind, each patient's last check, last signer and open findings;
filter and sort; "run checks now" starts the due checks in the background and shows their progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from plancheck.web import actions
from plancheck.web.auth import Physicist, Viewer
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)
KINDS = ("initial", "weekly", "final", "overdue")
SORTS = ("patient_id", "kind", "last_signed_at", "open_findings")


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    key = sort.lstrip("-") if sort.lstrip("-") in SORTS else "patient_id"
    return sorted(rows, key=lambda r: (r.get(key) is None, str(r.get(key) or "") if key != "open_findings" else r.get(key) or 0), reverse=sort.startswith("-"))


@router.get("/worklist")
def worklist(request: Request, _user: Viewer, date: dt.date | None = None, kind: str = "", q: str = "", sort: str = "kind", job: str = "") -> Response:
    on = date or dt.date.today()
    data = actions.worklist(request.app.state.config, request.app.state.engine, on)
    rows = [r for r in data["due"] if (not kind or r.get("kind") == kind or (kind == "overdue" and r.get("overdue")))
            and (not q or q.lower() in f"{r.get('patient_id', '')} {r.get('patient_name', '')}".lower())]
    counts = {k: sum(1 for r in data["due"] if r.get("kind") == k or (k == "overdue" and r.get("overdue"))) for k in KINDS}
    running = request.app.state.jobs.get(job) if job else request.app.state.jobs.latest("due checks")
    return render(request, "worklist.html.j2", on=on, rows=_sorted(rows, sort), kinds=KINDS, kind=kind, q=q, sort=sort, counts=counts,
                  total=len(data["due"]), job=running)


@router.post("/worklist/run")
def run_now(request: Request, user: Physicist, date: Annotated[dt.date | None, Form()] = None) -> Response:
    on = date or dt.date.today()
    job = actions.start_due_checks(request.app, on, [], user)
    return RedirectResponse(f"/worklist?date={on.isoformat()}&job={job.id}", status_code=303)
