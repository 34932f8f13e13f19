"""/admin: the record's users (add, disable), for admins; the same calls as `plancheck users add|disable`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from plancheck.errors import PlancheckError
from plancheck.record.models import ROLES
from plancheck.record.users import add_user, disable_user, list_users
from plancheck.web.auth import Admin, Db, FormText
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, s: Session, *, error: str = "", done: str = "", status_code: int = 200) -> Response:
    return render(request, "admin.html.j2", status_code=status_code, users=list_users(s), roles=ROLES, error=error, done=done)


@router.get("/admin")
def admin(request: Request, s: Db, _user: Admin, done: str = "") -> Response:
    return _page(request, s, done=done)


@router.post("/admin/users")
def add(request: Request, username: FormText, user_role: Annotated[str, Form(alias="role")], s: Db, user: Admin,
        auth: FormText = "local", password: FormText = "", display_name: FormText = "") -> Response:
    try:
        add_user(s, username, role=user_role, password=password or None, auth=auth, display_name=display_name, actor=user)
    except PlancheckError as exc:
        return _page(request, s, error=exc.message, status_code=400)
    return RedirectResponse(f"/admin?done=added+{username}", status_code=303)


@router.post("/admin/users/{username}/disable")
def disable(request: Request, username: str, s: Db, user: Admin) -> Response:
    try:
        disable_user(s, username, actor=user)
    except PlancheckError as exc:
        return _page(request, s, error=exc.message, status_code=400)
    return RedirectResponse(f"/admin?done=disabled+{username}", status_code=303)
