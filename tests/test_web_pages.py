"""The worklist, "run the due checks now", the QA lead's detection matrix, the admin page and the API description,
on the demo clinic (its MOSAIQ) and a fresh record."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.record_db import RecordCopies
from tests.web_client import PASSWORD, add_role_users, log_in, make_app
from tests.web_demo import DemoClinicFixture


@pytest.fixture
def client(tmp_path: Path, demo_clinic: DemoClinicFixture, record_copies: RecordCopies) -> TestClient:
    url = record_copies.fill(f"sqlite:///{tmp_path / 'record.db'}", add_role_users)
    config = replace(demo_clinic[1], results_url=url, output_dir=tmp_path / "results", escan_dir=tmp_path / "escan")
    return TestClient(make_app(config))


def demo_day() -> str:
    from plancheck.demo.mosaiq_db import DEMO_TODAY

    return DEMO_TODAY.date().isoformat()


def wait_for(client: TestClient, job_id: str, timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["finished"]:
            return dict(job)
        time.sleep(0.05)  # the job runs in the app's own thread: ask again soon, the deadline bounds a hang
    raise AssertionError(f"job {job_id} did not finish")


def test_worklist_run_now_stores_the_due_checks(client: TestClient) -> None:
    token = log_in(client, "physicist")
    listed = client.get("/api/worklist", params={"date": demo_day()}).json()
    due = [d for d in listed["due"] if d["is_due"]]
    assert due and all(d["latest_run"] is None for d in due)
    page = client.get("/worklist", params={"date": demo_day()}).text
    assert all(f'data-patient="{d["patient_id"]}"' in page for d in due) and "Run the" in page
    assert "Nightly batch: no batch has run yet (plancheck batch --due)" in page
    started = client.post("/api/checks/run", json={"date": demo_day()}, headers={"X-CSRF-Token": token})
    assert started.status_code == 200
    job = wait_for(client, started.json()["id"])
    assert job["total"] == len(due) and job["done"] == len(due) and not job["errors"] and len(job["result"]["runs"]) == len(due)
    after = client.get("/api/worklist", params={"date": demo_day()}).json()["due"]
    assert {d["patient_id"]: d["latest_run"] for d in after if d["is_due"]} == {d["patient_id"]: r for d, r in zip(due, job["result"]["runs"], strict=True)}
    run = client.get(f"/runs/{job['result']['runs'][0]}").text
    assert "Beam parameters" in run


def test_the_qa_lead_runs_a_detection_matrix(client: TestClient) -> None:
    token = log_in(client, "qa_lead")
    answer = client.post("/qa/matrix", data={"csrf_token": token, "patient_id": "015112", "date": demo_day(), "only": "energy_one_beam,mu_scaled_mosaiq"},
                         follow_redirects=False)
    job_id = answer.headers["location"].split("job=")[1]
    job = wait_for(client, job_id)
    assert not job["errors"] and job["result"]["matrix"]["patient_id"] == "015112"
    page = client.get(f"/qa?job={job_id}").text
    assert 'id="matrix"' in page and "energy_one_beam" in page and "mu_scaled_mosaiq" in page and "plancheck" in page


def test_the_qa_lead_sees_the_record_s_statistics(client: TestClient) -> None:
    log_in(client, "qa_lead")
    assert 'src="/qa/stats.html?since=2026-01-01"' in client.get("/qa/stats", params={"since": "2026-01-01"}).text
    report = client.get("/qa/stats.html", params={"since": "2026-01-01"})
    assert report.status_code == 200 and "plancheck stats" in report.text and "None in this period" in report.text  # an empty record


def test_admin_adds_and_disables_users(client: TestClient) -> None:
    token = log_in(client, "admin")
    short = client.post("/admin/users", data={"csrf_token": token, "username": "dora", "role": "physicist", "password": "short"})
    assert short.status_code == 400 and "8 characters" in short.text
    client.post("/admin/users", data={"csrf_token": token, "username": "dora", "role": "physicist", "password": PASSWORD, "display_name": "Dora D"})
    other = TestClient(client.app)
    log_in(other, "dora")
    client.post("/admin/users/dora/disable", data={"csrf_token": token})
    assert other.get("/api/worklist").status_code == 401


def test_the_api_is_described(client: TestClient) -> None:
    log_in(client, "viewer")
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/worklist", "/api/runs/{run_id}", "/api/runs/{run_id}/sign", "/api/findings/{finding_id}/disposition", "/api/runs/{run_id}/ticks"):
        assert path in schema["paths"]
    assert not any(p.startswith(("/runs", "/admin", "/login")) for p in schema["paths"])  # the pages are not API
    page = client.get("/api/docs").text
    assert "/api/runs/{run_id}/sign" in page and "X-CSRF-Token" in page
