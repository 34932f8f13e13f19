"""The results database's schema: Alembic builds it from empty and from the previous revision, the
migrations and the ORM models agree, and the database itself refuses to edit what is signed or audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from plancheck.config import config_from_dict
from plancheck.record.db import HEAD, MIGRATIONS, make_engine, open_record, results_url as configured_url, session, upgrade
from plancheck.record.models import AuditEntry, Base, ManualTick, Result, Run, Signature, User

TABLES = {"users", "check_runs", "results", "findings", "run_findings", "dispositions", "manual_ticks", "signatures", "audit_log"}


def _run(**kw: object) -> Run:
    now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    values = dict(patient_id="00017R", prescription="PROSTATE", check_kind="weekly", as_of=now, fingerprint="f" * 64, passed=False)
    values.update(kw)
    return Run(**values)


def test_upgrade_from_empty_builds_every_table_and_matches_the_models(results_url: str) -> None:
    engine = open_record(results_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    assert diff == [], f"the models and the migrations differ: {diff}"


def test_upgrade_from_the_previous_revision_keeps_the_rows(results_url: str) -> None:
    engine = make_engine(results_url)
    upgrade(engine, "0001")
    with session(engine) as s:
        s.add(AuditEntry(username="alice", action="user.add", target="user bob"))
    upgrade(engine, "head")
    with session(engine) as s:
        assert [(a.username, a.action) for a in s.query(AuditEntry)] == [("alice", "user.add")]


def _refused(engine_url: str, statement: str) -> str:
    engine = make_engine(engine_url)
    with pytest.raises(DBAPIError) as caught, engine.begin() as c:
        c.execute(text(statement))
    return str(caught.value.orig)


def test_the_database_refuses_edits_of_the_audit_log_and_of_a_signed_run(results_url: str) -> None:
    engine = open_record(results_url)
    with session(engine) as s:
        user = User(username="alice", role="physicist")
        signed, open_run = _run(), _run(fingerprint="e" * 64)
        s.add_all([user, signed, open_run, AuditEntry(username="alice", action="run.store")])
        s.flush()
        s.add_all([Result(run_id=signed.id, position=0, check_id="mu", origin="implicit", status="fail"),
                   ManualTick(run_id=open_run.id, check_id="manual.setup", user_id=user.id)])
        s.flush()
        s.add(Signature(run_id=signed.id, user_id=user.id, meaning="weekly chart check reviewed"))
        signed.state = "signed"
    assert "append-only" in _refused(results_url, "UPDATE audit_log SET action = 'x'")
    assert "append-only" in _refused(results_url, "DELETE FROM audit_log")
    assert "signature" in _refused(results_url, "DELETE FROM signatures")
    assert "signed run" in _refused(results_url, f"UPDATE check_runs SET passed = true WHERE id = {signed.id}")
    assert "signed run" in _refused(results_url, f"UPDATE results SET status = 'pass' WHERE run_id = {signed.id}")
    assert "signed run" in _refused(results_url, f"INSERT INTO manual_ticks (run_id, check_id, ticked, user_id, created) VALUES ({signed.id}, 'm', true, {user.id}, '2026-12-02')")
    with engine.begin() as c:  # an open run may still change
        c.execute(text(f"UPDATE check_runs SET passed = true WHERE id = {open_run.id}"))
        c.execute(text(f"DELETE FROM manual_ticks WHERE run_id = {open_run.id}"))


def test_times_come_back_in_utc(results_url: str) -> None:
    engine = open_record(results_url)
    local = dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with session(engine) as s:
        s.add(AuditEntry(username="a", action="x", at=local))
    with session(engine) as s:
        assert s.query(AuditEntry).one().at == local.astimezone(dt.UTC)
    with pytest.raises(Exception, match="naive"), session(engine) as s:
        s.add(AuditEntry(username="a", action="x", at=dt.datetime(2026, 12, 2)))


def test_results_url_defaults_next_to_the_config_and_resolves_relative_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "plancheck.toml"
    assert configured_url(config_from_dict({}, path)) == f"sqlite:///{(tmp_path / 'plancheck-record.db').resolve()}"
    assert config_from_dict({"results": {"url": "sqlite:///rec/r.db"}}, path).results_url == f"sqlite:///{(tmp_path / 'rec/r.db').resolve()}"
    assert config_from_dict({"results": {"url": "postgresql+psycopg://u@h/db"}}, path).results_url == "postgresql+psycopg://u@h/db"


def test_head_names_the_newest_migration() -> None:
    """open_record skips Alembic when the record is at HEAD: HEAD must be the migrations' head."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD]
