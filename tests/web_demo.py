"""The demo clinic's 00017R weekly check stored in a fresh record, with one user per role: what the web tests review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from plancheck.checks.results import CheckRun
from plancheck.config import Config
from plancheck.record.db import open_record, session
from plancheck.record.store import store_run
from tests.record_db import RecordCopies
from tests.record_runs import weekly_run  # noqa: F401  (fixture: 00017R's weekly check, once per session)
from tests.web_client import add_role_users, make_app

PATIENT = "00017R"
DemoClinicFixture = tuple[Any, Config]  # conftest's demo_clinic: (DemoClinic, Config)


@dataclass
class Stored:
    app: FastAPI
    config: Config
    run_id: int
    url: str


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
