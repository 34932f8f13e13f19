"""The demo clinic's 00017R weekly check stored in a fresh record, with one user per role: what the web tests review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from plancheck.checks.results import CheckRun
from plancheck.config import Config
from plancheck.record.db import open_record, session
from plancheck.record.store import store_run
from tests.record_db import RecordCopies
from tests.web_client import add_role_users, make_app

PATIENT = "00017R"
DemoClinicFixture = tuple[Any, Config]  # conftest's demo_clinic: (DemoClinic, Config)


@dataclass
class Stored:
    app: FastAPI
    config: Config
    run_id: int
    url: str


@pytest.fixture(scope="session")
def weekly_run(demo_clinic: DemoClinicFixture) -> CheckRun:
    """00017R's weekly check on the demo clinic as of the demo's day, checked once per test session."""
    from plancheck.api import check
    from plancheck.demo.mosaiq_db import DEMO_TODAY

    _clinic, config = demo_clinic
    return check(PATIENT, kind="weekly", config=config, today=DEMO_TODAY)


def store(url: str, run: CheckRun) -> int:
    """Store ``run`` as checked on the demo's day (its ``created`` is the wall clock); returns its id."""
    from plancheck.demo.mosaiq_db import DEMO_TODAY

    engine = open_record(url)
    with session(engine) as s:
        stored, _ = store_run(s, run, as_of=DEMO_TODAY.astimezone(dt.UTC), created_by="batch")
        run_id = stored.id
    engine.dispose()
    return run_id


def stored_app(url: str, tmp_path: Path, demo_clinic: DemoClinicFixture, run: CheckRun, copies: RecordCopies) -> Stored:
    """A record at ``url`` with the role users (a copy of the record add_role_users made once) and ``run`` stored;
    signed PDFs go to ``tmp_path``/escan (the shared clinic stays as built)."""
    copies.fill(url, add_role_users)
    run_id = store(url, run)
    config = replace(demo_clinic[1], results_url=url, escan_dir=tmp_path / "escan", output_dir=tmp_path / "results")
    return Stored(make_app(config), config, run_id, url)
