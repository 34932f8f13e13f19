"""Rendering pages: one Jinja2 environment (autoescape always on, control characters shown), shared context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from plancheck.report.view import printable
from plancheck.version import __version__
from plancheck.web.auth import CSRF_FIELD, csrf_token

TEMPLATES = Path(__file__).with_name("templates")


def _shown(value: Any) -> Any:
    """Every ``{{ value }}``: control and direction characters made visible; autoescape then escapes markup."""
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, finalize=_shown, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``name`` rendered with the user, the CSRF token and ``context``."""
    user = getattr(request.state, "user", None)
    token = csrf_token(request)
    html = ENV.get_template(name).render(request=request, user=user, csrf=token, csrf_field=CSRF_FIELD, version=__version__, **context)
    return HTMLResponse(html, status_code=status_code)
