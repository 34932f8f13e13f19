"""Log-in, log-out and the health check: the only routes open without a session."""

from __future__ import annotations

import math
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from plancheck.errors import PlancheckError
from plancheck.web.auth import Db, FormText, Viewer, check_csrf, log_in, session_user
from plancheck.web.pages import render

router = APIRouter()


def safe_next(target: str) -> str:
    """Where to go after log-in: a path on this site only (never ``//host`` or ``https://...``)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/worklist"


@router.get("/health", include_in_schema=False)
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/login", include_in_schema=False)
def login_page(request: Request, s: Db, next: str = "/worklist") -> Response:
    if session_user(request, s) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html.j2", next=safe_next(next), error="")


@router.post("/login", include_in_schema=False, dependencies=[Depends(check_csrf)])
def login(request: Request, username: FormText, password: FormText, s: Db, next: FormText = "/worklist") -> Response:
    from plancheck.record.users import authenticate

    throttle, peer = request.app.state.throttle, request.client.host if request.client else ""
    address = "" if peer in request.app.state.settings.sso_trusted else peer  # a proxy's address speaks for everyone: by name only
    wait = throttle.wait_s(username, address)
    if wait > 0:
        error = f"Too many failed log-ins: try again in {math.ceil(wait / 60)} min."
        return render(request, "login.html.j2", status_code=429, next=safe_next(next), error=error)
    try:
        user = authenticate(s, username.strip(), password, request.app.state.config)
    except PlancheckError:
        throttle.failed(username, address)
        return render(request, "login.html.j2", status_code=401, next=safe_next(next), error="Unknown user or wrong password.")
    throttle.succeeded(username)
    log_in(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, _user: Viewer) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", include_in_schema=False)
def home(_user: Viewer) -> Response:
    return RedirectResponse("/worklist", status_code=303)
