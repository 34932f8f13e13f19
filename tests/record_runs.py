"""Real runs of the demo clinic for the record's tests, and a record with its people in it.

The runs are the demo's 00017R weekly check as plancheck computes it, and the same check on a table
edited as a person would edit MOSAIQ (a value fixed, a value changed): never results written by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from plancheck.api import check_table, collect
from plancheck.checks.results import CheckRun
from plancheck.config import Config
from plancheck.demo.mosaiq_db import DEMO_TODAY
from plancheck.record.db import open_record, session
from plancheck.record.users import add_user
from plancheck.table import ParamTable
from tests.record_db import RecordCopies

AS_OF = DEMO_TODAY.replace(tzinfo=dt.UTC)
PASSWORDS = {"admin": "admin-pass-1", "alice": "alice-pass-1", "victor": "victor-pass-1"}


def edited(table: ParamTable, beam: str, param: str, value: Any, source: str = "mosaiq") -> ParamTable:
    """``table`` with ``source``'s ``param`` of ``beam`` set to ``value`` (a person editing MOSAIQ)."""
    out = table.copy()
    out.rows = [replace(r, value=value) if (r.beam, r.param, r.source, r.scope) == (beam, param, source, "beam") else r for r in out.rows]
    assert out.rows != table.rows, f"nothing to edit: {source} {param} of beam {beam}"
    return out


@pytest.fixture(scope="session")
def weekly_run(demo_clinic: Any) -> CheckRun:
    """00017R's weekly check on the demo clinic as of the demo's day, checked once per test session."""
    _clinic, cfg = demo_clinic
    return check_table(collect("00017R", config=cfg), kind="weekly", config=cfg, today=DEMO_TODAY, patient_id="00017R")


@pytest.fixture(scope="session")
def weekly_runs(demo_clinic: Any, weekly_run: CheckRun) -> dict[str, CheckRun]:
    """00017R's weekly check as found, and after MOSAIQ was edited: energy of 1-2 fixed, MU of 1-2 changed again; and its initial check."""
    _clinic, cfg = demo_clinic
    table = collect("00017R", config=cfg)
    later = edited(edited(table, "1-2", "energy", "6X"), "1-2", "mu", 170.0)
    run = {"kind": "weekly", "config": cfg, "today": DEMO_TODAY, "patient_id": "00017R"}
    return {"found": weekly_run, "edited": check_table(later, **run), "initial": check_table(table, **{**run, "kind": "initial"})}


def add_people(url: str) -> None:
    """An admin, a physicist (alice) and a viewer (victor) in the record at ``url`` (created at the newest schema)."""
    engine = open_record(url)
    with session(engine) as s:
        admin = add_user(s, "admin", role="admin", password=PASSWORDS["admin"], actor=None)
        add_user(s, "alice", role="physicist", password=PASSWORDS["alice"], display_name="Alice Physicist", actor=admin)
        add_user(s, "victor", role="viewer", password=PASSWORDS["victor"], actor=admin)
    engine.dispose()


@pytest.fixture
def record(results_url: str, record_copies: RecordCopies, demo_clinic: Any, tmp_path: Any) -> tuple[Engine, Config]:
    """A record at ``results_url`` (SQLite or PostgreSQL) with an admin, a physicist (alice) and a viewer (victor),
    a copy of one built once (add_people); the demo clinic's config with its eSCAN folder in this test's own tmp_path."""
    engine = open_record(record_copies.fill(results_url, add_people))
    return engine, replace(demo_clinic[1], escan_dir=tmp_path / "escan")
