"""`plancheck batch --due` on the demo clinic: every due check run and stored once, a failing patient
named without stopping the others, the MOSAIQ connection cap measured, and the same tasks on Dask."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from plancheck.batch import Task, due_tasks, last_batch, run_batch
from plancheck.batch_gate import ConnectionMeter
from plancheck.cli.main import app
from plancheck.demo.patients import DEMO_TODAY
from plancheck.record.db import open_record, session
from plancheck.record.models import Run
from plancheck.record.settings import BatchSettings
from plancheck.record.worklist import due_checks
from tests.demo_copy import copy_clinic

ON = DEMO_TODAY.date() + dt.timedelta(days=7)  # a week on: every demo patient's weekly (or final) check is due
TODAY = dt.datetime.combine(ON, dt.time(12, 0))


def _runs(engine) -> int:
    with session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Run)) or 0)


def test_batch_stores_every_due_check_once_and_a_failing_patient_stops_nobody(demo_clinic, results_url: str) -> None:
    clinic, cfg = demo_clinic
    engine = open_record(results_url)
    due = due_tasks(due_checks(cfg, engine, ON))
    assert {t.patient_id for t in due} == {p.patient_id for p in clinic.patients}
    broken = [Task("NOPE99", "PROSTATE", "weekly"), Task("", "Pelvis", "weekly")]
    first = run_batch(due + broken, cfg, engine, today=TODAY, out_dir=None, workers=2)
    failed = {o.task.patient_id: o.error for o in first.failed}
    assert set(failed) == {"NOPE99", ""} and "NOPE99" in failed["NOPE99"] and "Ident.IDA" in failed[""]
    assert all("\n" not in error for error in failed.values()), "one line each"
    checked = [o for o in first.outcomes if not o.error]
    assert len(checked) == len(due) and all(o.new and o.run_id for o in checked) and _runs(engine) == len(due)
    assert first.max_connections is not None and 1 <= first.max_connections <= cfg.batch.mosaiq_connections

    again = run_batch(due, cfg, engine, today=TODAY, out_dir=None, workers=2)
    assert not again.failed and not any(o.new for o in again.outcomes), "an unchanged patient makes no second run"
    assert sorted(o.run_id or 0 for o in again.outcomes) == sorted(o.run_id or 0 for o in checked) and _runs(engine) == len(due)
    with session(engine) as s:
        assert {r.created_by for r in s.scalars(select(Run))} == {"batch"}
    status = last_batch(engine)  # the worklist's "nightly batch" line: the second batch, from the audit log
    assert status is not None and (status.due, status.new, status.unchanged, status.not_checked) == (len(due), 0, len(due), 0)
    assert f"{len(due)} due checks, 0 new runs stored, {len(due)} unchanged" in status.line()


def test_no_more_mosaiq_connections_than_configured_whatever_the_workers(demo_clinic, tmp_path: Path) -> None:
    _clinic, cfg = demo_clinic
    engine = open_record(f"sqlite:///{tmp_path / 'record.db'}")
    tasks = due_tasks(due_checks(cfg, engine, ON))[:3]
    one = replace(cfg, batch=BatchSettings(mosaiq_connections=1, workers=3))
    result = run_batch(tasks, one, engine, today=TODAY, out_dir=None)
    assert not result.failed and result.workers == 3 and result.max_connections == 1


def test_the_meter_sees_connections_open_at_once(tmp_path: Path) -> None:
    """The meter itself: two engines holding a connection each at the same time count 2, then 0 open."""
    meter = ConnectionMeter.new()
    engines = [create_engine(f"sqlite:///{tmp_path / f'{n}.db'}") for n in range(2)]
    for e in engines:
        meter.watch(e)
    both = threading.Barrier(2)

    def hold(e) -> None:
        with e.connect() as c:
            c.execute(text("SELECT 1"))
            both.wait(timeout=10)
        e.dispose()

    threads = [threading.Thread(target=hold, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert meter.max_seen == 2 and meter.open_now.value == 0


def test_batch_command_writes_reports_and_a_summary(demo_clinic, tmp_path: Path) -> None:
    clinic, _cfg = demo_clinic
    config = tmp_path / "plancheck.toml"
    config.write_text((clinic.folder / "plancheck.toml").read_text() + f'\n[results]\nurl = "sqlite:///{tmp_path / "record.db"}"\n'
                      "\n[batch]\nmosaiq_connections = 1\nworkers = 2\n\n[worklist]\nweekly_days = 7\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["batch", "--config", str(config)])
    assert refused.exit_code == 2 and "--due" in refused.output
    out = tmp_path / "reports"
    # on the demo day with an empty record only 030405 is due: its final check, from the day after its last fraction
    done = runner.invoke(app, ["batch", "--due", "--date", DEMO_TODAY.date().isoformat(), "--config", str(config), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "030405" in done.stdout and "most MOSAIQ connections open at once: 1" in done.stdout
    assert sorted(p.suffix for p in (out / "030405").glob("*_final.*")) == [".html", ".json", ".pdf"]
    listed = runner.invoke(app, ["worklist", "--date", DEMO_TODAY.date().isoformat(), "--config", str(config)])
    assert "1 due checks, 1 new runs stored, 0 unchanged" in " ".join(listed.stdout.split()), listed.stdout


def test_the_same_tasks_on_a_dask_cluster(demo_clinic, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'plancheck[dask]')")
    _clinic, cfg = demo_clinic
    engine = open_record(f"sqlite:///{tmp_path / 'record.db'}")
    tasks = [*due_tasks(due_checks(cfg, engine, ON))[:2], Task("NOPE99", "PROSTATE", "weekly")]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch(tasks, cfg, engine, today=TODAY, out_dir=None, scheduler=cluster.scheduler_address)
    assert [o.task.patient_id for o in result.failed] == ["NOPE99"]
    assert all(o.new and o.run_id for o in result.outcomes if not o.error) and _runs(engine) == 2


def test_a_grown_clinics_copies_are_checked_like_their_originals(demo_clinic, tmp_path: Path) -> None:
    """The benchmark's clinic: each copy reads from every source and ends like the patient it copies."""
    from plancheck.api import check
    from plancheck.demo.grow import grow_clinic

    clinic, cfg = copy_clinic(demo_clinic, tmp_path / "clinic")
    assert grow_clinic(clinic, len(clinic.patients) + 2) == ["G00001", "G00002"]
    assert {line.patient_id for line in due_checks(cfg, open_record(f"sqlite:///{tmp_path / 'r.db'}"), ON)} >= {"G00001", "G00002"}
    for copy, original in (("G00001", "015112"), ("G00002", "00017R")):
        a, b = (check(pid, kind="weekly", config=cfg, today=TODAY) for pid in (original, copy))
        assert set(b.table.sources) == set(a.table.sources) >= {"mosaiq", "rtplan", "monaco_tel", "icom", "plan_pdf"}
        assert not b.table.source_errors and b.counts() == a.counts()
        assert {(r.id, r.beam, r.status) for r in b.results} == {(r.id, r.beam, r.status) for r in a.results}
