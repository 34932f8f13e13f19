"""/qa: the QA lead's pages: the detection matrix of `simulate auto` for a chosen clean patient (run in the background)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plancheck.web.auth import Db, FormText, QALead
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)
MATRIX = "detection matrix"


def _matrix_steps(config: Any, patient_id: str, on: dt.date, only: set[str]) -> list[Any]:
    from plancheck.api import rule_library
    from plancheck.checks.engine import select_rule_set
    from plancheck.collector import collect
    from plancheck.simulate.auto import run_matrix
    from plancheck.simulate.catalogue import known_check_ids, load_catalogue

    def work() -> Any:
        when = dt.datetime.combine(on, dt.time(12))
        table = collect(patient_id, None, config)
        library = rule_library(config)
        rule_set = select_rule_set(library, table, when, None)
        faults = [f for f in load_catalogue(None, known_check_ids(library)) if f.kind in ("initial", "weekly") and (not only or f.id in only)]
        return run_matrix(table, faults, rule_set, config=config, today=when, patient_id=patient_id)

    return [(f"simulate auto {patient_id}", work)]


@router.get("/qa")
def qa(request: Request, _user: QALead, job: str = "") -> Response:
    running = request.app.state.jobs.get(job) if job else request.app.state.jobs.latest(MATRIX)
    matrix = running.result.get("matrix") if running and running.finished else None
    return render(request, "qa.html.j2", job=running, m=matrix, made=running.result.get("made", "") if running else "")


@router.get("/qa/stats")
def stats(request: Request, _user: QALead, since: dt.date | None = None) -> Response:
    return render(request, "stats.html.j2", since=since)


@router.get("/qa/stats.html")
def stats_report(s: Db, _user: QALead, since: dt.date | None = None) -> Response:
    """`plancheck stats`' HTML page (one figure per table), as the command writes it."""
    from plancheck.record.stats import compute
    from plancheck.record.stats_html import render_html

    return HTMLResponse(render_html(compute(s, since)))


@router.post("/qa/matrix")
def start_matrix(request: Request, patient_id: FormText, user: QALead, date: Annotated[dt.date | None, Form()] = None, only: FormText = "") -> Response:
    from plancheck.version import __version__

    config = request.app.state.config
    on = date or dt.date.today()
    wanted = {x.strip() for x in only.split(",") if x.strip()}

    def done(job: Any, outputs: list[Any]) -> None:
        if outputs:
            job.result = {"matrix": outputs[0], "made": f"{dt.datetime.now():%Y-%m-%d %H:%M}, plancheck {__version__}, as of {on.isoformat()}"}

    job = request.app.state.jobs.start(MATRIX, user.username, lambda: _matrix_steps(config, patient_id.strip(), on, wanted), done)
    return RedirectResponse(f"/qa?job={job.id}", status_code=303)
