"""The app factory: one FastAPI app over one config and one results database."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware

from plancheck.config import Config
from plancheck.errors import PlancheckError
from plancheck.record.db import open_record, results_url
from plancheck.web.auth import Forbidden, NotLoggedIn, unguarded
from plancheck.web.jobs import Jobs
from plancheck.web.pages import render
from plancheck.web.routes import ROUTERS
from plancheck.web.throttle import LoginThrottle
from plancheck.web.settings import WebSettings, web_settings

ACCESS = logging.getLogger("plancheck.web.access")
COOKIE = "plancheck_session"


def create_app(config: Config, *, settings: WebSettings | None = None, engine: Engine | None = None) -> FastAPI:
    """The web app on ``config``'s results database (migrated to the newest schema when opened here)."""
    app = FastAPI(title="plancheck", summary="Chart-check record: worklist, runs, dispositions, sign-off",
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.settings = settings or web_settings(config)
    app.state.engine = engine or open_record(results_url(config))
    app.state.jobs = Jobs()
    app.state.throttle = LoginThrottle()
    for router in ROUTERS:
        app.include_router(router)
    open_routes = unguarded(app.routes)
    if open_routes:
        raise RuntimeError(f"routes without a role: {', '.join(open_routes)}")
    _handlers(app)
    app.middleware("http")(_access_log)
    s = app.state.settings
    app.add_middleware(SessionMiddleware, secret_key=s.secret_key, session_cookie=COOKIE, max_age=s.max_age_s,
                       same_site=s.same_site, https_only=s.cookie_secure)
    return app


API_PAGES = frozenset({"/api/docs"})  # pages about the API, under its prefix


def wants_json(request: Request) -> bool:
    """An API request (answered in JSON: 401, 403, 404, 409) rather than a page (redirect to log-in, error page)."""
    path = request.url.path
    return (path.startswith("/api/") and path not in API_PAGES) or "application/json" in request.headers.get("accept", "")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "log in first"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if wants_json(request):
            return JSONResponse({"error": exc.reason}, status_code=403)
        return render(request, "error.html.j2", status_code=403, title="Not allowed", message=exc.reason)

    @app.exception_handler(PlancheckError)
    async def refused(request: Request, exc: PlancheckError) -> Response:
        status = 404 if type(exc).__name__.endswith("NotFound") else 409
        if wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=status)
        return render(request, "error.html.j2", status_code=status, title="Refused" if status == 409 else "Not found", message=exc.message)


def route_path(request: Request) -> str:
    """The route's template (``/runs/{run_id}``), never the concrete path: IDs in URLs are patient data."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "(no route)"))


async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """One line per request without patient data: method, route template, status, time (uvicorn's own access log is off)."""
    start = time.perf_counter()
    response = await call_next(request)
    ACCESS.info("%s %s %d %.0f ms", request.method, route_path(request), response.status_code, (time.perf_counter() - start) * 1000)
    return response
