"""The web app's security skeleton: nothing without log-in (every registered route walked), roles, CSRF,
cookie flags, the SSO header only from a trusted proxy, no patient data in the server's log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from plancheck.web.app import API_PAGES, COOKIE
from plancheck.web.auth import PUBLIC, SAFE_METHODS, flat_routes, route_role
from tests.record_db import RecordCopies
from tests.web_client import PASSWORD, add_role_users, form_token, log_in, make_app, record_config


@pytest.fixture
def app(tmp_path: Path, record_copies: RecordCopies) -> FastAPI:
    url = record_copies.fill(f"sqlite:///{tmp_path / 'record.db'}", add_role_users)
    return make_app(record_config(tmp_path, url))


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def every_route(app: FastAPI) -> list[tuple[str, str, str | None]]:
    out = [(m, r.path, route_role(r)) for r in flat_routes(app.routes) for m in sorted(r.methods or ())]
    assert len(out) > 20 and any(p.startswith("/api/") for _, p, _ in out)  # the walk covers the real router, not a stub
    return out


def test_every_route_refuses_without_log_in(app: FastAPI) -> None:
    client = TestClient(app)
    token = form_token(client.get("/login").text)  # an anonymous session with a valid CSRF token: only the log-in is missing
    walked = 0
    for method, path, _role in every_route(app):
        if path in PUBLIC:
            continue
        answer = client.request(method, concrete(path), headers={"X-CSRF-Token": token, "Accept": "text/html"}, json={}, follow_redirects=False)
        if path.startswith("/api/") and path not in API_PAGES:
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.json() == {"error": "log in first"}
        else:
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/login")
        walked += 1
    assert walked >= 20


def test_without_any_session_nothing_but_login_and_health_answers(app: FastAPI) -> None:
    client = TestClient(app)
    for method, path, _role in every_route(app):
        answer = client.request(method, concrete(path), follow_redirects=False)
        if path in PUBLIC:
            continue
        assert answer.status_code in (401, 303), (method, path, answer.status_code)
    assert client.get("/health").json() == {"status": "ok"}


def test_every_route_holds_a_role_and_writes_are_physicist_or_above(app: FastAPI) -> None:
    for method, path, role in every_route(app):
        if path in PUBLIC or path == "/logout":
            continue
        assert role is not None, path
        if method not in SAFE_METHODS:
            assert role != "viewer", f"{method} {path}: a viewer only reads"


@pytest.mark.parametrize("who,status", [("viewer", 403), ("physicist", 200), ("qa_lead", 200), ("admin", 200)])
def test_roles_on_the_admin_page_and_the_qa_page(app: FastAPI, who: str, status: int) -> None:
    client = TestClient(app)
    log_in(client, who)
    assert client.get("/admin").status_code == (200 if who == "admin" else 403)
    assert client.get("/qa").status_code == (200 if who in ("qa_lead", "admin") else 403)
    assert client.get("/api/docs").status_code == 200


def test_a_viewer_cannot_sign_tick_or_dispose(app: FastAPI) -> None:
    client = TestClient(app)
    token = log_in(client, "viewer")
    h = {"X-CSRF-Token": token}
    for path, body in [("/api/runs/1/sign", {"password": PASSWORD, "meaning": "weekly chart check reviewed"}),
                       ("/api/runs/1/ticks", {"check_id": "x"}), ("/api/findings/1/disposition", {"verdict": "accepted"})]:
        answer = client.post(path, json=body, headers=h)
        assert answer.status_code == 403 and "viewer" in answer.json()["error"], path


def test_csrf_is_required_on_state_changes(app: FastAPI) -> None:
    client = TestClient(app)
    token = log_in(client, "admin")
    no_token = client.post("/admin/users", data={"username": "mallory", "role": "admin", "password": PASSWORD})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.post("/api/runs/1/ticks", json={"check_id": "x"}, headers={"X-CSRF-Token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    ok = client.post("/admin/users", data={"username": "carol", "role": "physicist", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert "carol" in client.get("/admin").text and "mallory" not in client.get("/admin").text


def test_log_in_form_needs_its_token_and_the_right_password(app: FastAPI) -> None:
    client = TestClient(app)
    token = form_token(client.get("/login").text)
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 403
    bad = client.post("/login", data={"username": "admin", "password": "wrong password", "csrf_token": token})
    assert bad.status_code == 401 and "wrong password" in bad.text
    assert client.get("/api/worklist").status_code == 401


def test_session_cookie_flags_and_fresh_token_after_log_in(tmp_path: Path, record_copies: RecordCopies) -> None:
    url = record_copies.fill(f"sqlite:///{tmp_path / 'record.db'}", add_role_users)
    client = TestClient(make_app(record_config(tmp_path, url), cookie_secure=True, same_site="strict"), base_url="https://testserver")
    before = form_token(client.get("/login").text)
    answer = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": before}, follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert COOKIE in cookie and "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert form_token(client.get("/api/docs").text) != before


def test_next_after_log_in_stays_on_this_site(app: FastAPI) -> None:
    client = TestClient(app)
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}, follow_redirects=False)
    assert answer.headers["location"] == "/worklist"


def test_a_disabled_user_is_logged_out(app: FastAPI) -> None:
    admin, viewer = TestClient(app), TestClient(app)
    token = log_in(admin, "admin")
    log_in(viewer, "viewer")
    assert viewer.get("/api/docs").status_code == 200
    admin.post("/admin/users/viewer/disable", data={"csrf_token": token})
    assert viewer.get("/api/docs", follow_redirects=False).status_code == 303


def test_sso_header_only_when_enabled_and_only_from_a_trusted_proxy(tmp_path: Path, record_copies: RecordCopies) -> None:
    url = record_copies.fill(f"sqlite:///{tmp_path / 'record.db'}", add_role_users)
    config = record_config(tmp_path, url)
    off = TestClient(make_app(config))
    assert off.get("/api/docs", headers={"X-Remote-User": "admin"}, follow_redirects=False).status_code == 303
    on = make_app(config, sso_header="X-Remote-User", sso_trusted=("testclient",))
    assert TestClient(on).get("/admin", headers={"X-Remote-User": "admin"}).status_code == 200
    assert TestClient(on).get("/admin", headers={"X-Remote-User": "nobody"}, follow_redirects=False).status_code == 303
    untrusted = make_app(config, sso_header="X-Remote-User", sso_trusted=("10.9.9.9",))
    assert TestClient(untrusted).get("/admin", headers={"X-Remote-User": "admin"}, follow_redirects=False).status_code == 303


def test_the_server_log_names_routes_not_patients(app: FastAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger("plancheck.web.access"), "propagate", True)  # a served app's log config may have turned it off
    client = TestClient(app)
    log_in(client, "viewer")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="plancheck.web.access"):
        client.get("/patients/00017R/history?a=1&b=2")
    lines = [r.getMessage() for r in caplog.records if r.name == "plancheck.web.access"]
    assert len(set(lines)) == 1 and re.fullmatch(r"GET /patients/\{patient_id\}/history 200 \d+ ms", lines[0]), lines
    assert "00017R" not in caplog.text


def test_uvicorn_access_log_is_off_and_loopback_is_the_default() -> None:
    import inspect

    from plancheck.cli.serve import serve as cli_serve
    from plancheck.web.serve import serve, uvicorn_options

    options = uvicorn_options("127.0.0.1", 8740)
    assert options["access_log"] is False and options["log_config"]["loggers"]["uvicorn.access"]["handlers"] == []
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(cli_serve).parameters["host"].default.default == "127.0.0.1"


def test_repeated_failed_log_ins_are_refused_for_a_while_even_with_the_right_password(app: FastAPI) -> None:
    client = TestClient(app)
    token = form_token(client.get("/login").text)
    for _ in range(5):
        assert client.post("/login", data={"username": "Admin ", "password": "guess", "csrf_token": token}).status_code == 401
    right = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert right.status_code == 429 and "Too many failed log-ins: try again in 15 min" in right.text
    assert client.get("/api/worklist").status_code == 401
    other = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert other.status_code == 429  # the same address is slowed down too, whatever name it tries


def test_the_throttle_forgets_failures_older_than_its_window() -> None:
    from plancheck.web.throttle import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(limit=3, window_s=60.0, clock=lambda: now[0])
    for t in (0.0, 10.0, 20.0):
        now[0] = t
        throttle.failed("alice", "10.0.0.1")
    assert throttle.wait_s("ALICE", "10.0.0.2") == pytest.approx(40.0) and throttle.wait_s("bob", "10.0.0.1") == pytest.approx(40.0)
    assert throttle.wait_s("bob", "10.0.0.2") == 0.0
    now[0] = 60.0
    assert throttle.wait_s("alice", "10.0.0.1") == 0.0  # the first failure aged out: two left, under the limit
    throttle.failed("alice", "10.0.0.3")
    throttle.succeeded("alice")
    assert throttle.wait_s("alice", "10.0.0.4") == 0.0


def test_behind_the_trusted_proxy_failures_count_per_name_only(app: FastAPI) -> None:
    client = TestClient(app, client=("127.0.0.1", 50000))  # the trusted reverse proxy's address (sso_trusted)
    token = form_token(client.get("/login").text)
    for _ in range(5):
        assert client.post("/login", data={"username": "admin", "password": "guess", "csrf_token": token}).status_code == 401
    assert client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}).status_code == 429
    viewer = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert viewer.status_code == 303  # another person behind the same proxy is not locked out
