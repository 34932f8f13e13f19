"""Who is asking, and may they: the session user (or a trusted proxy's SSO header), roles, CSRF.

Every route but the public ones carries a ``role(...)`` dependency; :func:`unguarded` lets the app
factory refuse to start when one does not. Every state-changing request carries the session's CSRF
token, in the ``X-CSRF-Token`` header (the API) or the ``csrf_token`` form field (the pages): the role
dependency checks it after the log-in (so an API call without a session is a 401), log-in itself checks it too.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from plancheck.record.db import session
from plancheck.record.models import User
from plancheck.web.settings import WebSettings

PUBLIC = frozenset({"/login", "/health"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class NotLoggedIn(Exception):
    """No session user: the API answers 401, a page redirects to the log-in page."""


class Forbidden(Exception):
    """Logged in, but the role or the CSRF token does not allow this request (403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def db(request: Request) -> Iterator[Session]:
    """A record session for one request, committed when the route returns without error."""
    engine: Engine = request.app.state.engine
    with session(engine) as s:
        yield s


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (also for the anonymous log-in form)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """A state-changing request without the session's token (header or form field) is refused."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf", "")
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        given = str((await request.form()).get(CSRF_FIELD, ""))
    if not expected or not hmac.compare_digest(str(expected), given):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def _sso_user(request: Request, settings: WebSettings) -> str:
    """The username a trusted reverse proxy put in the SSO header, only when enabled and from a trusted address."""
    if not settings.sso_header or request.client is None or request.client.host not in settings.sso_trusted:
        return ""
    return request.headers.get(settings.sso_header, "").strip()


def session_user(request: Request, s: Session) -> User | None:
    """The logged-in, active user of this request, or None."""
    settings: WebSettings = request.app.state.settings
    sso = _sso_user(request, settings)
    if sso:
        user = s.scalars(select(User).where(User.username == sso)).first()
        if user is not None and user.active:
            request.session["uid"] = user.id
            csrf_token(request)
            return user
        return None
    uid = request.session.get("uid")
    user = s.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active:
        request.session.pop("uid", None)
        return None
    return user


def log_in(request: Request, user: User) -> None:
    """A fresh session for ``user`` (a new CSRF token: nothing from before log-in carries over)."""
    request.session.clear()
    request.session["uid"] = user.id
    csrf_token(request)


DB = Depends(db, scope="function")  # committed before the response is sent
Db = Annotated[Session, DB]
FormText = Annotated[str, Form()]  # a form field


def logged_in(request: Request, s: Session = DB) -> User:
    """The session user; NotLoggedIn (401 / redirect to log-in) when there is none."""
    user = session_user(request, s)
    if user is None:
        raise NotLoggedIn()
    return user


def role(minimum: str) -> Callable[..., User]:
    """A dependency: the session user (first), a valid CSRF token on a state-changing request (then), and
    ``minimum`` or a higher role (users.require)."""
    from plancheck.record.users import PermissionDenied, require

    def dependency(request: Request, user: Annotated[User, Depends(logged_in)], _csrf: Annotated[None, Depends(check_csrf)]) -> User:
        try:
            require(user, minimum)
        except PermissionDenied as exc:
            raise Forbidden(exc.message) from None
        request.state.user = user
        return user

    dependency.minimum_role = minimum  # type: ignore[attr-defined]
    return dependency


def flat_routes(routes: list[Any]) -> list[APIRoute]:
    """Every API route of an app, those of included routers too (newer FastAPI keeps included routers as one entry each)."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # FastAPI before 0.165: app.routes is already flat
        flat = list(routes)
    else:
        flat = [getattr(c, "original_route", c) for c in iter_route_contexts(routes)]
    return [r for r in flat if isinstance(r, APIRoute)]


def route_role(route: APIRoute) -> str | None:
    """The minimum role a route's dependencies demand (None: it has no role dependency)."""
    for dep in route.dependant.dependencies:
        found = getattr(dep.call, "minimum_role", None)
        if found:
            return str(found)
    return None


def unguarded(routes: list[Any]) -> list[str]:
    """The paths of routes that are neither public nor role-protected, or change state unchecked for CSRF (the app refuses to start with any)."""
    def csrf_checked(route: APIRoute) -> bool:
        unsafe = set(route.methods or ()) - SAFE_METHODS
        return route_role(route) is not None or any(d.call is check_csrf for d in route.dependant.dependencies) or not unsafe

    return [r.path for r in flat_routes(routes) if (r.path not in PUBLIC and route_role(r) is None) or not csrf_checked(r)]


# the roles as parameter types: ``user: Physicist`` in a route's signature
Viewer = Annotated[User, Depends(role("viewer"))]
Physicist = Annotated[User, Depends(role("physicist"))]
QALead = Annotated[User, Depends(role("qa_lead"))]
Admin = Annotated[User, Depends(role("admin"))]
