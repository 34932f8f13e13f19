"""`plancheck rules`: list, show, validate (a bad file names file and line, exit 2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from plancheck.cli.main import app

runner = CliRunner()


def test_list_and_show() -> None:
    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and "photon-vmat" in listed.output
    shown = runner.invoke(app, ["rules", "show", "photon-vmat"])
    assert shown.exit_code == 0 and "beam.vmat_type" in shown.output and "rx.approved" in shown.output


def test_validate_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text("name: ours\nextends: photon\nchecks:\n  - id: a\n    expect: mu >\n")
    result = runner.invoke(app, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "ours.yaml:5" in result.output and "Traceback" not in result.output
    (tmp_path / "ours.yaml").write_text("name: ours\nextends: photon\nchecks:\n  - id: a\n    expect: mu > 1\n")
    assert runner.invoke(app, ["rules", "validate", str(tmp_path)]).exit_code == 0


def test_unknown_rule_set() -> None:
    result = runner.invoke(app, ["rules", "show", "protons"])
    assert result.exit_code == 2 and "no rule set named 'protons'" in result.output
