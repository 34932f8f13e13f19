"""The record on the command line, on SQLite and PostgreSQL: check stores runs (several patients, an
unchanged one once), review / dispose / tick / sign / amend / history / users, JSON listings, exit codes,
and the password read from a pipe or PLANCHECK_PASSWORD, never from an argument."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.config import Config
from plancheck.demo.mosaiq_db import DEMO_TODAY
from plancheck.record.db import session
from plancheck.record.store import store_run
from tests.record_runs import AS_OF, PASSWORDS

runner = CliRunner()
TODAY = ["--today", DEMO_TODAY.date().isoformat()]


def _toml(cfg: Config, url: str, folder: Path) -> str:
    """The demo's plancheck.toml with absolute folders, its record at ``url`` and eSCAN in ``folder``."""
    assert cfg.path is not None
    text = cfg.path.read_text(encoding="utf-8")
    for key, path in cfg.folders.items():
        text = re.sub(rf'^{key} = ".*"$', f'{key} = "{path if key != "escan" else folder / "escan"}"', text, flags=re.M)
    path = folder / "plancheck.toml"
    path.write_text(text + f'\n[results]\nurl = "{url}"\n', encoding="utf-8")
    return str(path)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), input=input, env=env)


def test_review_dispose_tick_sign_history_and_users(record, weekly_runs, results_url: str, tmp_path: Path) -> None:
    engine, cfg = record
    config = ["--config", _toml(cfg, results_url, tmp_path)]
    with session(engine) as s:
        run_id = store_run(s, weekly_runs["found"], as_of=AS_OF, created_by="batch")[0].id
    review = json.loads(invoke("review", str(run_id), "--format", "json", *config).stdout)
    assert review["run"]["id"] == run_id and review["known"] == [] and review["blockers"]
    must = [f["finding"] for f in review["new"] if f["needs_disposition"]]
    assert invoke("sign", str(run_id), "--meaning", "weekly", "--user", "alice", *config).exit_code == 1  # refused before any password is read
    assert invoke("dispose", *map(str, must), "--as", "accepted", "--comment", "seen", "--user", "victor", *config).exit_code == 1  # a viewer
    assert invoke("dispose", str(must[0]), "--as", "maybe", "--comment", "x", "--user", "alice", *config).exit_code == 2
    assert invoke("dispose", str(must[0]), "--as", "accepted", "--comment", "x", "--user", "nobody", *config).exit_code == 2
    judged = invoke("dispose", *map(str, must), "--as", "accepted", "--comment", "reviewed", "--user", "alice", *config)
    assert judged.exit_code == 0 and judged.stdout.count("accepted by alice") == len(must)
    manual = [m["check_id"] for m in review["manual"]]
    assert invoke("tick", str(run_id), *manual, "--user", "alice", *config).exit_code == 0
    wrong = invoke("sign", str(run_id), "--meaning", "weekly chart check reviewed", "--user", "alice", *config, input="not-it\n")
    assert wrong.exit_code == 1 and "not accepted" in wrong.output
    signed = invoke("sign", str(run_id), "--meaning", "weekly chart check reviewed", "--user", "alice", *config, input=PASSWORDS["alice"] + "\n")
    assert signed.exit_code == 0, signed.output
    pdf = Path(signed.stdout.split("signed record: ")[1].strip())
    assert pdf.exists() and pdf.parent == tmp_path / "escan"
    again = invoke("tick", str(run_id), manual[0], "--untick", "--user", "alice", *config)
    assert again.exit_code == 1 and "is signed by alice" in again.output and "amend" in again.output
    amended = invoke("amend", str(run_id), "--reason", "wrong verdict", "--user", "alice", *config)
    assert amended.exit_code == 0
    history = json.loads(invoke("history", "00017R", "--format", "json", "--diff", str(run_id), str(run_id + 1), *config).stdout)
    runs = {r["id"]: r for r in history["runs"]}
    assert runs[run_id]["signature"]["by"] == "alice" and runs[run_id + 1]["amends"] == run_id and runs[run_id + 1]["state"] == "open"
    assert history["diff"] == {"a": run_id, "b": run_id + 1, "values": [], "results": []}
    listed = invoke("users", "list", "--format", "json", *config)
    assert {u["username"] for u in json.loads(listed.stdout)} == {"admin", "alice", "victor"} and "argon2" not in listed.stdout
    added = invoke("users", "add", "bea", "--role", "physicist", "--user", "admin", *config, input=f"{PASSWORDS['admin']}\nbea-password-1\n")
    assert added.exit_code == 0 and "added bea" in added.stdout
    by_env = invoke("users", "disable", "bea", "--user", "admin", *config, env={"PLANCHECK_PASSWORD": PASSWORDS["admin"]})
    assert by_env.exit_code == 0
    assert invoke("users", "disable", "alice", "--user", "admin", *config, input="wrong-password\n").exit_code == 1


def test_check_stores_several_patients_and_an_unchanged_one_once(record, results_url: str, tmp_path: Path) -> None:
    _engine, cfg = record
    config = ["--config", _toml(cfg, results_url, tmp_path)]
    first = invoke("check", "015112", "00017R", "424242", "--kind", "weekly", *config, *TODAY)
    assert first.exit_code == 2, first.output  # the unknown patient; the two others were checked and stored
    assert "015112: stored as run 1" in first.stdout and "00017R: stored as run 2" in first.stdout and "424242" in first.output
    again = invoke("check", "015112", "00017R", "--kind", "weekly", *config, *TODAY, "--format", "json")
    assert again.exit_code == 1 and [r["patient_id"] for r in json.loads(again.stdout)] == ["015112", "00017R"]
    assert "00017R: unchanged since run 2" in again.stderr
    history = json.loads(invoke("history", "00017R", "--format", "json", *config).stdout)
    assert [r["id"] for r in history["runs"]] == [2] and history["runs"][0]["findings"]["new"] > 5
    assert invoke("check", "00017R", "--kind", "weekly", "--no-record", *config, *TODAY).stdout.count("stored") == 0


def test_a_results_database_that_cannot_be_opened_loses_no_check(demo_clinic, tmp_path: Path) -> None:
    """Every patient is still checked and its reports written; the record's error is said once, at the end, exit 2."""
    _clinic, cfg = demo_clinic
    config = ["--config", _toml(cfg, f"sqlite:///{tmp_path / 'no-such-folder' / 'record.db'}", tmp_path)]
    done = invoke("check", "015112", "00017R", "--kind", "initial", *config, *TODAY, "--out", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert done.output.count("cannot open the results database") == 1 and "stored" not in done.output
    assert {p.parent.name for p in (tmp_path / "out").rglob("*.pdf")} == {"015112", "00017R"}
