"""The review of 00017R's weekly check through the web app (pages and JSON API), on SQLite and PostgreSQL:
the check page shows the run as planCheck's window did; disposing, ticking and signing through the pages and
through the API give the same record; signing is refused until it may happen; data is shown as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from plancheck.checks.results import CheckRun
from plancheck.report.json import run_from_dict
from tests.record_db import RecordCopies
from tests.web_client import PASSWORD, log_in
from tests.web_demo import PATIENT, DemoClinicFixture, Stored, store, stored_app, weekly_run  # noqa: F401  (fixture)

MEANING = "weekly chart check reviewed"
COMMENT = "checked with the planner: <b>as intended</b>"


@pytest.fixture
def stored(results_url: str, tmp_path: Path, demo_clinic: DemoClinicFixture, weekly_run: CheckRun, record_copies: RecordCopies) -> Stored:  # noqa: F811
    return stored_app(results_url, tmp_path, demo_clinic, weekly_run, record_copies)


def _row(html: str, beam: str, param: str) -> str:
    found = re.search(rf'<tr data-beam="{re.escape(beam)}" data-param="{param}">(.*?)</tr>', html, re.S)
    assert found, f"no row for beam {beam} {param}"
    return found.group(1)


def test_the_check_page_is_plancheck_s_window(stored: Stored) -> None:
    client = TestClient(stored.app)
    log_in(client, "viewer")
    html = client.get(f"/runs/{stored.run_id}").text
    assert PATIENT in html and "Fraction" in html and re.search(r"\d+ of \d+", html)
    assert "Review window" in html and "Dose so far" in html
    mu = _row(html, "1-2", "mu")  # the MU planted in MOSAIQ for beam 1-2: only mosaiq's cell is marked, with the difference in MU and %
    cells = re.findall(r'<td class="([^"]*)"[^>]*>([^<]*)</td>', mu)
    marked = [value for css, value in cells if css in ("odd", "oddwarn")]
    assert len(marked) == 1 and len(cells) > 3
    assert re.search(r"mosaiq: [+-]\d+(\.\d+)? MU, [+-]\d+\.\d %", mu)
    assert 'data-prov="mosaiq: ' in mu  # where the value was read, on hover and click
    assert html.index('class="finding new"') < html.index("Beam parameters")
    assert 'id="sign-form"' not in html and "A viewer reads" in html  # a viewer is shown no signing form


def _needing(review: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in review["new"] + review["known"] if f["needs_disposition"]]


def _record(client: TestClient, run_id: int) -> dict[str, Any]:
    """What the review left in the record, without ids and times."""
    data = client.get(f"/api/runs/{run_id}").json()
    review = data["review"]
    return {
        "state": data["state"],
        "signature": (data["signature"]["by"], data["signature"]["meaning"], Path(data["signature"]["pdf"]).is_file()) if data["signature"] else None,
        "dispositions": sorted((f["check_id"], f["beam"], f["item"], f["disposition"]["verdict"], f["disposition"]["comment"])
                               for f in review["new"] + review["known"] if f["disposition"]),
        "manual": sorted((m["check_id"], m["ticked"], m["by"]) for m in review["manual"]),
        "blockers": review["blockers"],
    }


def review_through_api(client: TestClient, run_id: int, token: str) -> None:
    h = {"X-CSRF-Token": token}
    review = client.get(f"/api/runs/{run_id}").json()["review"]
    assert _needing(review) and review["manual"], "the demo's weekly check has failures and manual checks"
    early = client.post(f"/api/runs/{run_id}/sign", json={"password": PASSWORD, "meaning": MEANING}, headers=h)
    assert early.status_code == 409 and "no disposition" in early.json()["error"] and "not ticked" in early.json()["error"]
    for f in _needing(review):
        body = {"verdict": "accepted", "comment": COMMENT, "run_id": run_id}
        assert client.post(f"/api/findings/{f['finding_id']}/disposition", json=body, headers=h).status_code == 200
    for m in review["manual"]:
        assert client.post(f"/api/runs/{run_id}/ticks", json={"check_id": m["check_id"], "ticked": True}, headers=h).status_code == 200
    wrong = client.post(f"/api/runs/{run_id}/sign", json={"password": "not my password", "meaning": MEANING}, headers=h)
    assert wrong.status_code == 409
    signed = client.post(f"/api/runs/{run_id}/sign", json={"password": PASSWORD, "meaning": MEANING}, headers=h)
    assert signed.status_code == 200, signed.text
    assert Path(signed.json()["pdf"]).is_file()


def review_through_pages(client: TestClient, run_id: int, token: str) -> None:
    html = client.get(f"/runs/{run_id}").text
    needing = re.findall(r'action="/runs/\d+/findings/(\d+)/disposition"', html)
    checks = re.findall(r'<input type="hidden" name="check_id" value="([^"]+)">', html)
    refused = client.post(f"/runs/{run_id}/sign", data={"csrf_token": token, "password": PASSWORD, "meaning": MEANING})
    assert refused.status_code == 409 and "cannot be signed yet" in refused.text
    review = client.get(f"/api/runs/{run_id}").json()["review"]
    for fid in [str(f["finding_id"]) for f in _needing(review)]:
        assert fid in needing
        client.post(f"/runs/{run_id}/findings/{fid}/disposition", data={"csrf_token": token, "verdict": "accepted", "comment": COMMENT},
                    follow_redirects=False)
    for check in checks:
        client.post(f"/runs/{run_id}/ticks", data={"csrf_token": token, "check_id": check, "ticked": "on"}, follow_redirects=False)
    page = client.post(f"/runs/{run_id}/sign", data={"csrf_token": token, "password": PASSWORD, "meaning": MEANING})
    assert page.status_code == 200 and 'id="signed"' in page.text
    assert f"manual checks ticked: {len(checks)} of {len(checks)}" in page.text and "to tick" not in page.text.split('id="summary"')[1][:200]


def test_pages_and_api_give_the_same_record(stored: Stored, other_results_url: str, tmp_path: Path, demo_clinic: DemoClinicFixture,
                                           weekly_run: CheckRun, record_copies: RecordCopies) -> None:  # noqa: F811
    api = TestClient(stored.app)
    token = log_in(api, "physicist")
    review_through_api(api, stored.run_id, token)
    other = stored_app(other_results_url, tmp_path / "pages", demo_clinic, weekly_run, record_copies)  # the pages on the same engine
    pages = TestClient(other.app)
    review_through_pages(pages, other.run_id, log_in(pages, "physicist"))
    by_api, by_pages = _record(api, stored.run_id), _record(pages, other.run_id)
    assert by_api == by_pages
    assert by_api["state"] == "signed" and by_api["signature"] == ("physicist", MEANING, True) and not by_api["blockers"]
    assert list((tmp_path / "escan").glob("*.pdf")) and list((tmp_path / "pages" / "escan").glob("*.pdf"))
    first = api.get(f"/api/runs/{stored.run_id}").json()["review"]["new"][0]["finding_id"]
    again = api.post(f"/api/findings/{first}/disposition", json={"verdict": "false_alarm", "comment": "too late", "run_id": stored.run_id},
                     headers={"X-CSRF-Token": token})
    assert again.status_code == 409  # a signed run's dispositions are closed
    amended = api.post(f"/api/runs/{stored.run_id}/amend", json={"reason": "finding judged on the wrong plan"}, headers={"X-CSRF-Token": token})
    assert amended.status_code == 200 and amended.json()["state"] == "open"
    page = api.get(f"/runs/{amended.json()['id']}").text
    assert f'amends <a href="/runs/{stored.run_id}">' in page and 'id="sign-form"' in page


def test_data_is_shown_as_data(results_url: str, tmp_path: Path, demo_clinic: DemoClinicFixture, weekly_run: CheckRun,  # noqa: F811
                               record_copies: RecordCopies) -> None:
    data = weekly_run.to_dict()
    evil = "<script>alert('x')</script>"
    for row in data["table"]:
        if row["param"] == "patient_name":
            row["value"] = evil
    stored = stored_app(results_url, tmp_path, demo_clinic, run_from_dict(data), record_copies)
    client = TestClient(stored.app)
    token = log_in(client, "physicist")
    fid = client.get(f"/api/runs/{stored.run_id}").json()["review"]["new"][0]["finding_id"]
    client.post(f"/runs/{stored.run_id}/findings/{fid}/disposition", data={"csrf_token": token, "verdict": "acknowledged", "comment": evil + "\u202e"})
    html = client.get(f"/runs/{stored.run_id}").text
    assert evil not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "\u202e" not in html and "\\u202e" in html  # a direction override is shown, not obeyed
    assert html.count("<script") == 1  # our own script only


def test_history_shows_the_runs_and_what_changed(stored: Stored, weekly_run: CheckRun) -> None:  # noqa: F811
    data = weekly_run.to_dict()
    for row in data["table"]:
        if row["param"] == "mu" and row["source"] == "mosaiq" and row["beam"] == "1-2":
            row["value"] = 158.78
    for result in data["results"]:  # as if MOSAIQ had been corrected: the comparison passes now
        if result["id"] == "implicit.mu" and result["beam"] == "1-2":
            result["status"] = "pass"
    second = store(stored.url, run_from_dict(data))
    client = TestClient(stored.app)
    log_in(client, "viewer")
    html = client.get(f"/patients/{PATIENT}/history").text
    assert f'href="/runs/{stored.run_id}"' in html and f'href="/runs/{second}"' in html
    diff = html[html.index('id="diff"'):]
    assert "beam 1-2" in diff and "163.55" in diff and "158.78" in diff
    assert "implicit.mu" in diff  # the result that changed with it


def test_next_week_shows_what_is_new_first_and_last_week_s_judgements_folded(stored: Stored, weekly_run: CheckRun) -> None:  # noqa: F811
    api = TestClient(stored.app)
    review_through_api(api, stored.run_id, log_in(api, "physicist"))
    data = weekly_run.to_dict()
    changed = next(r for r in data["results"] if r["id"] == "implicit.mu" and r["beam"] == "1-2")
    changed["message"] += " (MOSAIQ edited again)"  # its values changed: new again, last week's judgement no longer covers it
    next_week = store(stored.url, run_from_dict(data))
    review = api.get(f"/api/runs/{next_week}").json()["review"]
    mu = next(f for f in review["new"] if (f["check_id"], f["beam"]) == ("implicit.mu", "1-2"))
    assert mu["change"] == "changed" and mu["earlier_disposition"]["verdict"] == "accepted" and review["known"]
    others = [f for f in review["new"] if f is not mu]
    assert all(f["status"] == "warn" and f["disposition"] is None for f in others)  # warnings nobody judged last week stay in view
    assert all(f["folded"] and f["disposition"]["comment"] == COMMENT for f in review["known"])
    html = api.get(f"/runs/{next_week}").text
    assert html.index('class="finding new"') < html.index("Known, judged before") < html.index('class="finding known"')
    assert 'class="finding known" id="finding-' in html and "Earlier, on other values: accepted by physicist" in html
    qa = TestClient(stored.app)
    log_in(qa, "qa_lead")
    stats = qa.get("/qa/stats.html").text
    assert "<table" in stats and "implicit.mu" in stats and "data:image/png;base64," in stats  # the record's statistics, with their figures
