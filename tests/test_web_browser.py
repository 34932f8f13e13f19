"""The whole review of 00017R's weekly check in a real browser (Playwright driving Debian's chromium) against the
app served for real by uvicorn on a loopback port: log in, worklist, check page, tick, dispose, sign, the PDF in
eSCAN, the worklist updated; a viewer cannot sign; a request without the CSRF token is refused; the same record as
through the JSON API. Screenshots of the main pages at 1440 and 1024 px go to $PLANCHECK_WEB_SCREENSHOTS (else tmp).

One walk per database engine: the whole review on the real PostgreSQL server, the viewer's and the admin's on
SQLite. What the browser does is the same on either; every route they call is also driven on both engines,
pages and JSON API alike, by tests/test_web_review.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from plancheck.checks.results import CheckRun
from tests.record_db import RecordCopies, new_database
from tests.test_web_review import COMMENT, MEANING, _record, review_through_api
from tests.web_client import PASSWORD, log_in
from tests.web_demo import PATIENT, DemoClinicFixture, Stored, stored_app, weekly_run  # noqa: F401  (fixture)
from tests.web_server import CHROMIUM_ARGS, chromium_path, live_server

WIDTHS = (1440, 1024)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PLANCHECK_WEB_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_day() -> str:
    from plancheck.demo.mosaiq_db import DEMO_TODAY

    return DEMO_TODAY.date().isoformat()


def log_in_page(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/worklist")  # not logged in: sent to the log-in page, and back after it
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/worklist*")


def snap(page: Page, shots: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"{name}_{width}.png"))


def review_in_browser(page: Page, base: str, stored: Stored, shots: Path) -> None:
    page.goto(f"{base}/worklist?date={demo_day()}&show=all")
    snap(page, shots, "worklist")
    page.click(f'tr[data-patient="{PATIENT}"] a[href="/runs/{stored.run_id}"]')
    page.wait_for_selector("#beam-table")
    snap(page, shots, "check_page")
    beam_table_keeps_its_header_in_view(page)
    for box in page.locator("form.tick").all():  # each checkbox saves through the JSON API at once
        box.locator('input[type="checkbox"]').check()
        page.wait_for_function("f => f.dataset.saved === 'yes'", arg=box.element_handle())
    page.reload()
    assert page.locator('form.tick input[type="checkbox"]:checked').count() == page.locator("form.tick").count() > 0
    while True:  # every finding that needs a disposition; each form posts and comes back to the page
        open_form = page.locator("details.finding:has(span:text('needs a disposition')) form.dispose").first
        if open_form.count() == 0:
            break
        open_form.locator('select[name="verdict"]').select_option("accepted")
        open_form.locator('input[name="comment"]').fill(COMMENT)
        open_form.locator("button").click()
        page.wait_for_load_state()
    assert page.locator("#sign-form button").is_enabled()
    page.fill('#sign-form input[name="meaning"]', MEANING)
    page.fill('#sign-form input[name="password"]', PASSWORD)
    page.click("#sign-form button")
    page.wait_for_selector("#signed")


def beam_table_keeps_its_header_in_view(page: Page) -> None:
    """At 1024 px the beam table scrolls in its own box: scrolled down (and across, where it is wider than the
    screen), its header row stays at the top of the box and its beam column at the left."""
    page.set_viewport_size({"width": 1024, "height": 900})
    box = page.locator("div.table-box:has(#beam-table)")
    size = box.evaluate("b => [b.scrollHeight, b.clientHeight, b.scrollWidth, b.clientWidth]")
    assert size[0] > size[1], f"the beam table fits its box ({size}): nothing to scroll"
    box.evaluate("b => { b.scrollTop = b.scrollHeight; b.scrollLeft = b.scrollWidth; }")
    frame, header = box.bounding_box(), page.locator("#beam-table tr:first-child th").nth(1).bounding_box()
    last_beam = page.locator("#beam-table tr:last-child td").first.bounding_box()
    assert frame and header and last_beam
    assert abs(header["y"] - frame["y"]) < 2  # the header row, at the top of the scrolled box
    assert abs(last_beam["x"] - frame["x"]) < 2  # the beam column, at its left even when scrolled across
    page.set_viewport_size({"width": 1440, "height": 900})
    box.evaluate("b => { b.scrollTop = 0; b.scrollLeft = 0; }")


@pytest.mark.slow
def test_the_whole_review_in_chromium(browser: Browser, tmp_path: Path, demo_clinic: DemoClinicFixture, weekly_run: CheckRun,  # noqa: F811
                                      shots: Path, record_copies: RecordCopies, _postgres_databases: list[str]) -> None:
    stored = stored_app(new_database("postgresql", tmp_path, _postgres_databases), tmp_path, demo_clinic, weekly_run, record_copies)
    with live_server(stored.app) as base:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        log_in_page(page, base, "physicist")
        review_in_browser(page, base, stored, shots)
        assert "Signed by" in page.inner_text("#signed")
        assert len(list((tmp_path / "escan").glob("*.pdf"))) == 1  # the signed record in the eSCAN folder
        snap(page, shots, "check_page_signed")
        page.goto(f"{base}/worklist?date={demo_day()}&show=all")
        row = page.locator(f'tr[data-patient="{PATIENT}"]')
        assert "physicist" in row.inner_text() and "signed" in row.inner_text()  # the worklist shows the new signature
        page.goto(f"{base}/patients/{PATIENT}/history")
        snap(page, shots, "history")
        page.goto(f"{base}/api/docs")
        snap(page, shots, "api")
        browser_record = _record(_client_of(stored, "viewer"), stored.run_id)
        page.close()
    other = stored_app(f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "api", demo_clinic, weekly_run, record_copies)
    api = TestClient(other.app)
    review_through_api(api, other.run_id, log_in(api, "physicist"))
    assert browser_record == _record(api, other.run_id)  # the same actions through the JSON API give the same record


def _client_of(stored: Stored, username: str) -> TestClient:
    client = TestClient(stored.app)
    log_in(client, username)
    return client


@pytest.mark.slow
def test_a_viewer_cannot_sign_and_csrf_is_required(browser: Browser, tmp_path: Path, demo_clinic: DemoClinicFixture, weekly_run: CheckRun,  # noqa: F811
                                                   shots: Path, record_copies: RecordCopies) -> None:
    stored = stored_app(f"sqlite:///{tmp_path / 'record.db'}", tmp_path, demo_clinic, weekly_run, record_copies)
    with live_server(stored.app) as base:
        viewer = browser.new_page(viewport={"width": 1440, "height": 900})
        log_in_page(viewer, base, "viewer")
        viewer.goto(f"{base}/runs/{stored.run_id}")
        assert viewer.locator("#sign-form").count() == 0 and viewer.locator("form.dispose").count() == 0
        assert viewer.locator('form.tick input[type="checkbox"]:disabled').count() == viewer.locator("form.tick").count()
        status = viewer.evaluate("""async ([url, pw]) => {
            const token = document.querySelector('input[name="csrf_token"]').value;
            const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
                                        body: JSON.stringify({password: pw, meaning: "weekly chart check reviewed"})});
            return r.status; }""", [f"/api/runs/{stored.run_id}/sign", PASSWORD])
        assert status == 403
        physicist = browser.new_page(viewport={"width": 1440, "height": 900})
        log_in_page(physicist, base, "physicist")
        physicist.goto(f"{base}/runs/{stored.run_id}")
        check = physicist.locator("form.tick").first.get_attribute("data-check")
        no_token = physicist.evaluate("""async ([url, check]) => {
            const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({check_id: check})});
            return r.status; }""", [f"/api/runs/{stored.run_id}/ticks", check])
        assert no_token == 403
        assert _record(_client_of(stored, "viewer"), stored.run_id)["manual"][0][1] is False  # nothing was ticked
        admin = browser.new_page(viewport={"width": 1440, "height": 900})
        log_in_page(admin, base, "admin")
        admin.goto(f"{base}/admin")
        snap(admin, shots, "admin")
        admin.goto(f"{base}/qa")
        snap(admin, shots, "qa")
        for page in (viewer, physicist, admin):
            page.close()
