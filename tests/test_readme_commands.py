"""The README runs as written: every `plancheck ...` line of its bash blocks, in order, in a fresh folder.

Each line runs through bash in one temporary folder (so `plancheck demo` builds the clinic the
later lines use) with this checkout's `plancheck` first on PATH and no PLANCHECK_CONFIG. The exit
code expected is the one the line's comment documents (`exit 1`), else 0. One line is changed:
`plancheck icom listen` serves a linac until stopped, so it runs with `--help` instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
LONG_RUNNING = {"plancheck icom listen": "serves a linac's iCOM port until stopped; its options are checked with --help",
                "plancheck serve": "serves the review app until stopped; its options are checked with --help"}
COMMENT = re.compile(r"\s+#\s.*$")


def readme_commands(text: str) -> list[tuple[str, int]]:
    """Every `plancheck` line of the bash blocks, without its comment, with the exit code the comment documents."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("plancheck "):
                comment = COMMENT.search(line)
                code = re.search(r"\bexit (\d)\b", comment.group(0)) if comment else None
                commands.append((COMMENT.sub("", line).strip(), int(code.group(1)) if code else 0))
    return commands


def as_run(command: str) -> str:
    for prefix in LONG_RUNNING:
        if command.startswith(prefix):
            return f"{prefix} --help"
    return command


def test_readme_commands_are_found() -> None:
    commands = dict(readme_commands(README.read_text(encoding="utf-8")))
    assert len(commands) >= 15 and next(iter(commands)) == "plancheck demo"
    assert commands["plancheck check 00017R --kind weekly  --config plancheck-demo/plancheck.toml"] == 1
    assert any(c.startswith("plancheck icom listen") for c in commands)


def test_setup_lines_put_plancheck_on_path() -> None:
    setup = README.read_text(encoding="utf-8").split("```bash\n")[1].split("```")[0].splitlines()
    assert len(setup) == 2 and all(". .venv/bin/activate &&" in line for line in setup)


def _shim(folder: Path) -> dict[str, str]:
    """An environment whose `plancheck` is this checkout's, run by this interpreter."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "plancheck"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m plancheck "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PLANCHECK_CONFIG"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(README.parent), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    env = _shim(tmp_path)
    work = tmp_path / "clone"
    work.mkdir()
    failures = []
    for command, expected in readme_commands(README.read_text(encoding="utf-8")):
        done = subprocess.run(["bash", "-c", as_run(command)], cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != expected:
            last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [""])[-1]
            failures.append(f"{command}: exit {done.returncode}, README says {expected}: {last}")
        elif "--format json" in command:
            json.loads(done.stdout)  # stdout is the CheckRun and nothing else
    assert not failures, "\n".join(failures)
    assert not (work / "plancheck-results").exists(), "a README command wrote reports into the working folder"
