"""The app's routers, one module per page or area; every route in them carries a role (see auth.unguarded)."""

from __future__ import annotations

from fastapi import APIRouter

from plancheck.web.routes import admin, api, docs, login, patients, qa, runs, worklist

ROUTERS: list[APIRouter] = [login.router, api.router, docs.router, worklist.router, runs.router, patients.router, admin.router, qa.router]
