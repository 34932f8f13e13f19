"""The demo clinic end to end through the CLI: demo, check (exit 0/1/2), simulate, baseline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.demo.clinic import build_clinic, check_patient
from plancheck.demo.mosaiq_db import PATIENTS
from plancheck.simulate.auto import run_matrix
from plancheck.simulate.catalogue import load_catalogue
from plancheck.api import rule_library
from plancheck.checks.engine import select_rule_set
from plancheck.collector import collect
from plancheck.demo.mosaiq_db import DEMO_TODAY

runner = CliRunner()
TODAY = ["--today", DEMO_TODAY.date().isoformat()]


@pytest.fixture(scope="module")
def clinic(demo_clinic):
    demo, config = demo_clinic
    return demo.folder, config


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_demo_command_catches_every_planted_error(tmp_path: Path) -> None:
    result = invoke("demo", "--out", str(tmp_path / "demo"), "--quiet")
    assert result.exit_code == 0, result.output
    assert "all automatic checks pass" in result.output and "NOT caught" not in result.output
    for error in PATIENTS[1].planted:
        assert error.caught_by[0] in result.output
    assert (tmp_path / "demo" / "plancheck.toml").exists()


def test_demo_is_reproducible(tmp_path: Path, clinic) -> None:
    import shutil

    folder, config = clinic
    runs = [check_patient(PATIENTS[1], config, ("initial",)).runs[0]]
    shutil.copytree(folder, tmp_path / "a")
    _, config_b = build_clinic(tmp_path / "a")  # rebuilt in place, over a previous demo
    runs.append(check_patient(PATIENTS[1], config_b, ("initial",)).runs[0])
    strip = lambda run: [(r.id, r.beam, r.status, r.message) for r in run.results]  # noqa: E731
    assert strip(runs[0]) == strip(runs[1])


def test_check_exit_codes(clinic) -> None:
    folder, _config = clinic
    cfg = str(folder / "plancheck.toml")
    assert invoke("check", "015112", "--config", cfg, *TODAY).exit_code == 0
    failing = invoke("check", "00017R", "--config", cfg, "--kind", "weekly", *TODAY)
    assert failing.exit_code == 1 and "rx.approved" in failing.output and "1-2" in failing.output
    unknown = invoke("check", "424242", "--config", cfg)
    assert unknown.exit_code == 2 and "424242" in unknown.output and "Traceback" not in unknown.output
    missing_config = invoke("check", "015112", "--config", str(folder / "nope.toml"))
    assert missing_config.exit_code == 2 and "nope.toml" in missing_config.output
    bad_toml = folder / "bad.toml"
    bad_toml.write_text("[mosaiq]\nurl = sqlite:///x.db\n")  # unquoted value
    bad = invoke("check", "015112", "--config", str(bad_toml))
    assert bad.exit_code == 2 and "bad.toml" in bad.output and "TOML" in bad.output
    unreachable = invoke("check", "015112", "--mosaiq-url", "sqlite:////no/such/mosaiq.db")
    assert unreachable.exit_code == 2 and "not found" in unreachable.output


def test_check_json_on_stdout(clinic) -> None:
    folder, _ = clinic
    result = invoke("check", "015112", "--mosaiq-url", f"sqlite:///{folder / 'mosaiq.db'}", "--format", "json", "--out", str(folder / "r"), *TODAY)
    data = json.loads(result.stdout)
    assert data["patient_id"] == "015112" and data["sources"] == ["mosaiq", "model"]
    # MOSAIQ alone: nothing to cross-check the plan against, and that is said, not passed
    failed = {r["id"] for r in data["results"] if r["status"] in ("fail", "error")}
    assert data["passed"] is False and "plan.independent_source" in failed and result.exit_code == 1


def test_bad_dicom_does_not_stop_the_other_sources(clinic, tmp_path: Path) -> None:
    _folder, config = clinic
    from dataclasses import replace

    broken = tmp_path / "dicom"
    (broken / "x").mkdir(parents=True)
    (broken / "x" / "RP.bad.dcm").write_bytes(b"DICM" + b"\x00" * 50)
    table = collect("015112", None, replace(config, dicom_dir=broken))
    assert "mosaiq" in table.sources and "monaco_tel" in table.sources
    named = " ".join([*table.source_errors.values(), *table.warnings])
    assert "RP.bad.dcm" in named, named  # the bad file is named, not skipped in silence


@pytest.mark.parametrize(
    "patient_id, kinds",
    [("015112", ("initial", "weekly")), ("020304", ("initial", "weekly")), ("030405", ("initial", "weekly", "final"))],
)
def test_regression_gate_no_fault_escapes_and_no_false_alarm(clinic, patient_id: str, kinds: tuple[str, ...]) -> None:
    """Every catalogued fault is caught by the shipped rule sets on the demo's clean patients."""
    _, config = clinic
    table = collect(patient_id, None, config)
    rule_set = select_rule_set(rule_library(config), table, DEMO_TODAY)
    faults = [f for f in load_catalogue() if f.kind in kinds]
    matrix = run_matrix(table, faults, rule_set, config=config, today=DEMO_TODAY, patient_id=patient_id)
    escaped = [(o.id, o.reason) for o in matrix.outcomes if o.outcome == "escaped"]
    assert not escaped and not matrix.false_alarms, (escaped, matrix.false_alarms)
    assert sum(o.outcome == "caught" for o in matrix.outcomes) >= len(faults) * 0.8


def test_simulate_auto_cli_json_and_html(clinic, tmp_path: Path) -> None:
    folder, _ = clinic
    html = tmp_path / "m.html"
    result = invoke("simulate", "auto", "015112", "--config", str(folder / "plancheck.toml"), "--format", "json", "--html", str(html), *TODAY)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert not data["escaped"] and len(data["faults"]) >= 25
    assert "implicit.mu" in html.read_text()


def test_simulate_edit_then_run(clinic, tmp_path: Path) -> None:
    folder, _ = clinic
    sim = tmp_path / "sim"
    assert invoke("simulate", "edit", "015112", "--dir", str(sim), "--config", str(folder / "plancheck.toml"), *TODAY).exit_code == 0
    assert (sim / "README.md").exists() and (sim / "mosaiq.csv").exists()
    unchanged = invoke("simulate", "run", str(sim))
    assert unchanged.exit_code == 0 and "no check changed" in unchanged.output
    text = (sim / "mosaiq.csv").read_text()
    line = next(row for row in text.splitlines() if row.startswith("beam,1-2,,energy,"))
    (sim / "mosaiq.csv").write_text(text.replace(line, line.replace(",6X,", ",10X,")))
    edited = invoke("simulate", "run", str(sim))
    assert edited.exit_code == 1 and "newly failing" in edited.output and "implicit.energy" in edited.output
    (sim / "mosaiq.csv").write_text(text.replace(line, line.replace(",6X,", ",6X,").replace("beam,1-2,", "beam,9-9,")))
    bad = invoke("simulate", "run", str(sim))
    assert bad.exit_code == 2 and "mosaiq.csv row" in bad.output and "9-9" in bad.output


def test_baseline_save_and_compare(clinic, tmp_path: Path) -> None:
    folder, _ = clinic
    cfg = str(folder / "plancheck.toml")
    assert invoke("baseline", "save", "015112", "--dir", str(tmp_path), "--config", cfg).exit_code == 0
    same = invoke("baseline", "compare", "015112", "--dir", str(tmp_path), "--config", cfg)
    assert same.exit_code == 0 and "0 difference" in same.output
    path = tmp_path / "015112.baseline.json"
    path.write_text(path.read_text().replace('"CBCT"', '"CBCT0"', 1))
    changed = invoke("baseline", "compare", "015112", "--dir", str(tmp_path), "--config", cfg)
    assert changed.exit_code == 1 and "CBCT" in changed.output


def test_deliveries_are_matched_to_plan_and_mosaiq(clinic) -> None:
    folder, _ = clinic
    result = invoke("deliveries", "015112", "--config", str(folder / "plancheck.toml"))
    assert result.exit_code == 0 and "2 matched, 0 unmatched, 0 ambiguous" in result.output and "DHS" in result.output


def test_weekly_gamma_passes_clean_and_catches_the_planted_leaf_pair(clinic) -> None:
    _, config = clinic
    outcomes = {p.patient_id: check_patient(p, config, ("weekly",)).runs[0] for p in PATIENTS[:2]}
    clean = [r for r in outcomes["015112"].results if r.id == "delivery.gamma"]
    faulty = {r.beam: r for r in outcomes["00017R"].results if r.id == "delivery.gamma"}
    assert len(clean) == 2 and all(r.status.value == "pass" for r in clean)
    assert faulty["1-1"].status.value == "fail" and faulty["1-2"].status.value == "pass"
    assert faulty["1-1"].details["pass_percent"] < 95 <= faulty["1-2"].details["pass_percent"]


def test_weekly_check_writes_every_report_the_files_by_the_worker(clinic, tmp_path: Path) -> None:
    """A new process, as a physicist runs it: the comparison pages, the HTML and the PDFs come from the worker
    (fpdf, matplotlib and jinja2 never load in the command's own process), still name the checks and carry the
    failing gamma page at the page width."""
    import subprocess
    import sys

    import pdfplumber

    folder, config = clinic
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: print('loaded here:', sorted(m for m in ('fpdf', 'matplotlib', 'jinja2') if m in sys.modules)))\n"
        "from plancheck.cli.main import main\n"
        "main()\n"
    )
    argv = ["check", "00017R", "--kind", "weekly", "--config", str(folder / "plancheck.toml"), *TODAY, "--out", str(tmp_path)]
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1, done.stderr  # the planted errors fail
    assert "loaded here: []" in done.stdout  # the worker drew the pages and wrote the HTML and the PDFs
    written = sorted(tmp_path.rglob("*.*"))
    assert {p.suffix for p in written} == {".json", ".html", ".pdf", ".png", ".npz"}  # .npz: the comparison behind each page
    assert {p.stem for p in written if p.suffix == ".png"} == {p.stem for p in written if p.suffix == ".npz"}
    escan = config.escan_dir / "00017R.pdf"
    assert escan.is_file() and str(escan) in done.stdout.replace("\n", "")
    (pdf,) = [p for p in written if p.suffix == ".pdf"]
    with pdfplumber.open(pdf) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
        images = [image for page in document.pages for image in page.images]
    assert "delivery.gamma" in text and "rx.approved" in text and "(beam 1-1):\ngamma_1-1_00017R" in text  # the failing page
    assert images and all(image["x1"] - image["x0"] >= 595 - 2 * 14 / 25.4 * 72 - 1 for image in images)


def test_documents_come_from_mosaiq_and_the_void_version_is_never_read(clinic) -> None:
    folder, config = clinic
    listed = invoke("documents", "015112", "--config", str(folder / "plancheck.toml"))
    assert listed.exit_code == 0 and "015112_plan.pdf" in listed.output and "015112_plan_v1.pdf" not in listed.output
    table = collect("015112", None, config)
    pdf_mu = {r.beam: r.value for r in table.select(source="plan_pdf", param="mu")}
    assert pdf_mu and 150.0 not in pdf_mu.values()  # the voided v1 report carries 150 MU
    assert all(r.value is True for r in table.select(param="document_newest"))


def test_a_source_that_breaks_unexpectedly_does_not_stop_the_others(clinic, monkeypatch) -> None:
    import importlib

    collect_module = importlib.import_module("plancheck.collector")  # the module, not the API function of that name

    real = collect_module.readers()

    def broken(request):
        raise KeyError("ControlPointSequence")

    monkeypatch.setattr(collect_module, "readers", lambda: {**real, "rtplan": broken})
    _, config = clinic
    table = collect_module.collect("015112", None, config)
    assert "KeyError" in table.source_errors["rtplan"] and "mosaiq" in table.sources and "plan_pdf" in table.sources


def test_unknown_plan_is_a_usage_error_listing_the_plans(clinic) -> None:
    folder, _ = clinic
    for args in (("--config", str(folder / "plancheck.toml")), ("--mosaiq-url", f"sqlite:///{folder / 'mosaiq.db'}")):
        result = invoke("check", "015112", "--plan", "NO-SUCH-PLAN", *args, *TODAY)
        assert result.exit_code == 2, result.output
        assert "'NO-SUCH-PLAN'" in result.output and "'PROSTATE'" in result.output and "checks" not in result.output.lower()


@pytest.mark.parametrize("typed", ["00017r", "17R", "017r"])
def test_unknown_patient_suggests_the_near_id(clinic, typed: str) -> None:
    folder, _ = clinic
    result = invoke("check", typed, "--config", str(folder / "plancheck.toml"), *TODAY)
    assert result.exit_code == 2 and "did you mean 00017R?" in result.output, result.output


def test_near_ids_come_from_the_folder_sources_too(clinic) -> None:
    from dataclasses import replace

    from plancheck.cli.lookup import near_ids

    _, config = clinic
    folders_only = replace(config, mosaiq_url="")
    assert near_ids("00017r", folders_only) == ["00017R"]
    assert near_ids("015112", folders_only) == [] and near_ids("99999", config) == []


def test_json_without_out_writes_no_file(clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = clinic
    monkeypatch.chdir(tmp_path)
    before = set(folder.rglob("*"))
    result = invoke("check", "015112", "--config", str(folder / "plancheck.toml"), "--format", "json", "--kind", "weekly", *TODAY)
    assert json.loads(result.stdout)["patient_id"] == "015112"
    assert set(folder.rglob("*")) == before and not list(tmp_path.iterdir())


def test_config_is_found_from_the_environment_or_the_working_folder(clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = clinic
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANCHECK_CONFIG", str(folder / "plancheck.toml"))
    from_env = invoke("deliveries", "00017R")
    assert from_env.exit_code == 0 and f"config: {folder / 'plancheck.toml'} (from PLANCHECK_CONFIG)" in from_env.stderr
    monkeypatch.delenv("PLANCHECK_CONFIG")
    monkeypatch.chdir(folder)
    from_cwd = invoke("deliveries", "00017R")
    assert from_cwd.exit_code == 0 and "config: plancheck.toml (from working folder)" in from_cwd.stderr
    monkeypatch.setenv("PLANCHECK_CONFIG", str(tmp_path / "nope.toml"))
    missing = invoke("deliveries", "00017R")
    assert missing.exit_code == 2 and "PLANCHECK_CONFIG" in missing.output


def test_a_later_run_never_shows_an_earlier_runs_page(clinic, tmp_path: Path) -> None:
    """Pages are named by beam and delivery: a second check of the same deliveries takes the first run's page
    away when it keeps its own comparison, and its own report draws the page from that comparison."""
    from plancheck.api import check_table
    from plancheck.report import write_all

    _, config = clinic
    table = collect("00017R", None, config)
    figures = tmp_path / "00017R" / "figures"
    first = check_table(table, patient_id="00017R", kind="weekly", config=config, today=DEMO_TODAY, figure_dir=figures)
    write_all(first, tmp_path)
    (page,) = [Path(f) for r in first.results if r.id == "delivery.gamma" and r.beam == "1-2" for f in r.figures]
    assert page.is_file()
    second = check_table(table, patient_id="00017R", kind="weekly", config=config, today=DEMO_TODAY, figure_dir=figures)
    assert not page.exists() and page.with_suffix(".npz").is_file()  # the first run's page is gone before anything shows it
    write_all(second, tmp_path)
    assert page.is_file()
