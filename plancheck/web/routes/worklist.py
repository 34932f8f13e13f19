"""/worklist: the checks due on a day by kind (initial / weekly / final, overdue first), each with its last check,
last signer and open findings; filter and sort; "run the due checks now" in the background with its progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from plancheck.batch import last_batch
from plancheck.rules.model import CHECK_KINDS
from plancheck.web import actions
from plancheck.web.auth import Physicist, Viewer
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)
SHOW = {"due": ("overdue", "due"), "overdue": ("overdue",), "all": ("overdue", "due", "upcoming", "waiting")}
SORTS = {
    "due": lambda r: (r["status"] != "overdue", CHECK_KINDS.index(r["kind"]) if r["kind"] in CHECK_KINDS else 9, r["due_date"] or "", r["patient_id"]),
    "patient": lambda r: (r["patient_id"], r["prescription"]),
    "findings": lambda r: (-int(r["open_findings"]), r["patient_id"]),
    "signed": lambda r: (r["last_signed_at"] or "", r["patient_id"]),
}


def choose(rows: list[dict[str, Any]], *, kind: str, show: str, q: str, sort: str) -> list[dict[str, Any]]:
    """The rows the filter keeps, in the chosen order."""
    statuses = SHOW.get(show, SHOW["due"])
    kept = [r for r in rows if r["status"] in statuses and (not kind or r["kind"] == kind)
            and (not q or q.lower() in f"{r['patient_id']} {r['patient_name']}".lower())]
    return sorted(kept, key=SORTS.get(sort, SORTS["due"]))


@router.get("/worklist")
def worklist(request: Request, _user: Viewer, date: dt.date | None = None, kind: str = "", show: str = "due", q: str = "", sort: str = "due",
             job: str = "") -> Response:
    on = date or dt.date.today()
    data = actions.worklist(request.app.state.config, request.app.state.engine, on)
    due = [r for r in data["due"] if r["is_due"]]
    counts = {k: sum(1 for r in due if r["kind"] == k) for k in CHECK_KINDS} | {"overdue": sum(1 for r in due if r["status"] == "overdue")}
    running = request.app.state.jobs.get(job) if job else request.app.state.jobs.latest("due checks")
    batch = last_batch(request.app.state.engine)
    rows = choose(data["due"], kind=kind, show=show, q=q, sort=sort)
    return render(request, "worklist.html.j2", batch=batch.line() if batch else "", on=on, rows=rows, kinds=CHECK_KINDS, kind=kind, show=show,
                  q=q, sort=sort, counts=counts, due=len(due), listed=len(data["due"]), missing=data["missing"], job=running)


@router.post("/worklist/run")
def run_now(request: Request, user: Physicist, date: Annotated[dt.date | None, Form()] = None) -> Response:
    on = date or dt.date.today()
    job = actions.start_due_checks(request.app, on, [], user)
    return RedirectResponse(f"/worklist?date={on.isoformat()}&job={job.id}", status_code=303)
