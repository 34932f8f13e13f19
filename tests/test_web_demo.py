"""The demo clinic's record in the review app, as `plancheck demo` tells a newcomer to open it: log in as the demo
physicist with the password the demo made, find 00017R's weekly check due with last week's signature, run this
week's check, and see last week's judged findings folded and what happened since new."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from plancheck.cli.demo import _app_line
from plancheck.demo.record import PATIENT, SIGNER, USERS, build_demo_record
from tests.web_client import form_token, make_app
from tests.web_demo import DemoClinicFixture


def test_the_demo_tells_how_to_open_the_app() -> None:
    line = _app_line(Path("plancheck-demo/plancheck.toml"))
    assert "plancheck serve --config plancheck-demo/plancheck.toml" in line and "http://127.0.0.1:8740" in line
    assert all(f"{name} ({role})" in line for name, role, _ in USERS)


def test_the_demo_record_reviewed_in_the_app(tmp_path: Path, demo_clinic: DemoClinicFixture) -> None:
    from plancheck.demo.patients import DEMO_TODAY

    config = replace(demo_clinic[1], results_url=f"sqlite:///{tmp_path / 'record.db'}", escan_dir=tmp_path / "escan", output_dir=tmp_path / "results")
    record = build_demo_record(config)
    client = TestClient(make_app(config))
    token = form_token(client.get("/login").text)
    logged = client.post("/login", data={"username": SIGNER, "password": record.passwords[SIGNER], "csrf_token": token}, follow_redirects=False)
    assert logged.status_code == 303
    token = form_token(client.get("/api/docs").text)
    today = DEMO_TODAY.date().isoformat()
    line = next(d for d in client.get("/api/worklist", params={"date": today}).json()["due"] if d["patient_id"] == PATIENT)
    assert line["kind"] == "weekly" and line["last_signer"] == SIGNER and line["last_signed_run"] == record.signed_run
    started = client.post("/api/checks/run", json={"date": today, "patients": [PATIENT]}, headers={"X-CSRF-Token": token}).json()
    deadline = time.monotonic() + 240
    while not (job := client.get(f"/api/jobs/{started['id']}").json())["finished"]:
        assert time.monotonic() < deadline, "this week's check did not finish"
        time.sleep(0.05)
    assert not job["errors"] and len(job["result"]["runs"]) == 1
    this_week = job["result"]["runs"][0]
    review = client.get(f"/api/runs/{this_week}").json()["review"]
    assert review["last_signed_run"] == record.signed_run and review["new"] and review["known"]
    assert all(f["folded"] and f["disposition"]["by"] == SIGNER for f in review["known"])
    page = client.get(f"/runs/{this_week}").text
    assert f'(run <a href="/runs/{record.signed_run}">' in page and "Known, judged before" in page
    signed = client.get(f"/runs/{record.signed_run}").text
    assert re.search(r"Signed by <b>[^<]+</b> on " + (DEMO_TODAY - dt.timedelta(days=7)).strftime("%Y-%m-%d"), signed)
