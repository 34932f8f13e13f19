"""Helpers of the web app's tests: an app on a fresh record with one user per role, and logging in as a browser does."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from plancheck.config import Config
from plancheck.record.db import open_record, session
from plancheck.record.models import ROLES
from plancheck.record.users import add_user
from plancheck.web.app import create_app
from plancheck.web.settings import WebSettings

PASSWORD = "correct horse battery"
SECRET = "test-secret-" + "k" * 32


def add_role_users(url: str) -> None:
    """One active local user per role, named after it (admin first: the record's first user must be one)."""
    engine = open_record(url)
    with session(engine) as s:
        admin = add_user(s, "admin", role="admin", password=PASSWORD, display_name="Ada Admin", actor=None)
        for name in ROLES:
            if name != "admin":
                add_user(s, name, role=name, password=PASSWORD, display_name=f"{name.title()} User", actor=admin)
    engine.dispose()


def make_app(config: Config, **settings: object) -> FastAPI:
    return create_app(config, settings=WebSettings(secret_key=SECRET, **settings))  # type: ignore[arg-type]


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/worklist"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    return form_token(client.get("/api/docs").text)


def record_config(tmp: Path, url: str) -> Config:
    return Config(results_url=url, path=tmp / "plancheck.toml", escan_dir=tmp / "escan", output_dir=tmp / "results")
