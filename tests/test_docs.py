"""Documentation that cannot rot: every command and every check type is named in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from plancheck.checks.check_types import CHECK_TYPES
from plancheck.cli.main import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    click_app = typer.main.get_command(app)
    names = [n for n in click_app.commands if n != "version"]  # type: ignore[attr-defined]
    missing = [n for n in names if f"plancheck {n}" not in README]
    assert names and not missing, f"README does not show: {missing}"


def test_every_check_type_is_in_the_readme() -> None:
    assert all(name in README for name in CHECK_TYPES)


def test_readme_python_api_example_runs(tmp_path, monkeypatch, demo_clinic) -> None:
    (tmp_path / "plancheck-demo").symlink_to(demo_clinic[0].folder)  # the README's relative paths
    monkeypatch.chdir(tmp_path)
    code = README.split("## Python API")[1].split("```python")[1].split("```")[0]
    namespace: dict = {}
    exec(compile(code, "README.md (Python API)", "exec"), namespace)
    assert namespace["run"].patient_id == "015112" and len(namespace["d"]) == len(namespace["m"]) == 32
