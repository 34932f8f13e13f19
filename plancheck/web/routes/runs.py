"""/runs/{id}: the check page (planCheck's window), and its forms: tick, dispose, sign. Each form posts,
calls the same action the API calls, and comes back to the page (a refusal is shown on the page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from plancheck.errors import PlancheckError
from plancheck.record.models import VERDICTS
from plancheck.record.store import get_run
from plancheck.web import actions
from plancheck.web.auth import Db, FormText, Physicist, Viewer
from plancheck.web.pages import render
from plancheck.web.present import check_page

router = APIRouter(include_in_schema=False)
DONE = {
    "ticked": "Saved.",
    "disposed": "Disposition recorded.",
    "signed": "Signed. The signed record has been written to the eSCAN folder.",
    "amendment": "An amendment of the signed run: judge, tick and sign it as any run; the signed run stays as it was.",
}
MEANINGS = {
    "initial": "initial chart check reviewed",
    "weekly": "weekly chart check reviewed",
    "final": "final chart check reviewed",
}


def show(request: Request, s: Session, run_id: int, *, error: str = "", done: str = "", status_code: int = 200) -> Response:
    page = check_page(s, run_id)
    return render(request, "run.html.j2", status_code=status_code, page=page, view=page.view, run=page.run, review=page.review,
                  verdicts=VERDICTS, meaning=MEANINGS.get(page.run.check_kind, "chart check reviewed"), error=error, done=DONE.get(done, ""))


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: int, s: Db, _user: Viewer, done: str = "") -> Response:
    return show(request, s, run_id, done=done)


def _back(run_id: int, done: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/runs/{run_id}?done={done}{anchor}", status_code=303)


@router.post("/runs/{run_id}/ticks")
def tick(request: Request, run_id: int, check_id: FormText, s: Db, user: Physicist, ticked: FormText = "on") -> Response:
    try:
        actions.tick(s, run_id, check_id, ticked=ticked in ("on", "true", "1"), user=user)
    except PlancheckError as exc:
        return show(request, s, run_id, error=exc.message, status_code=409)
    return _back(run_id, "ticked", "#manual")


@router.post("/runs/{run_id}/findings/{finding_id}/disposition")
def dispose(request: Request, run_id: int, finding_id: int, verdict: FormText, s: Db, user: Physicist,
            comment: FormText = "", assignee: FormText = "") -> Response:
    try:
        actions.dispose(s, finding_id, verdict=verdict, comment=comment, assignee=assignee, user=user, run_id=run_id)
    except PlancheckError as exc:
        return show(request, s, run_id, error=exc.message, status_code=409)
    return _back(run_id, "disposed", f"#finding-{finding_id}")


@router.post("/runs/{run_id}/sign")
def sign(request: Request, run_id: int, password: FormText, meaning: FormText, s: Db, user: Physicist) -> Response:
    try:
        actions.sign(s, run_id, user=user, password=password, meaning=meaning, config=request.app.state.config)
    except PlancheckError as exc:
        return show(request, s, run_id, error=exc.message, status_code=409)
    return _back(run_id, "signed")


@router.post("/runs/{run_id}/amend")
def amend(request: Request, run_id: int, reason: FormText, s: Db, user: Physicist) -> Response:
    try:
        made = actions.amend(s, run_id, user=user, reason=reason)
    except PlancheckError as exc:
        return show(request, s, run_id, error=exc.message, status_code=409)
    return RedirectResponse(f"/runs/{made.id}?done=amendment", status_code=303)


@router.get("/runs/{run_id}/signed.pdf")
def signed_pdf(run_id: int, s: Db, _user: Viewer) -> Response:
    run = get_run(s, run_id)
    if run.signature is None or not run.signature.pdf_path or not Path(run.signature.pdf_path).is_file():
        raise actions.PageNotFound(f"run {run_id} has no signed PDF", fix="sign the run first")
    return FileResponse(run.signature.pdf_path, media_type="application/pdf", filename=f"run-{run_id}-signed.pdf")
