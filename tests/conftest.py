"""Shared fixtures: real RT Plans shipped inside pymedphys, and tables built from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pymedphys
import pytest

from plancheck.sources.rtplan import load, rows_from_dataset
from plancheck.table import ParamTable

from tests.record_db import _postgres_databases, other_results_url, record_copies, results_url  # noqa: F401  (fixtures: results databases on SQLite and PostgreSQL, copies of built ones)
from tests.real_mosaiq import real_mosaiq_path  # noqa: F401  (fixture: the real MOSAIQ extract pymedphys ships, built once)
from tests.record_runs import record, weekly_run, weekly_runs  # noqa: F401  (fixtures: the demo's 00017R runs, a record with its users)

PMP = Path(pymedphys.__file__).parent
VMAT_PLAN = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
STATIC_PLAN = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"


def table_from_plan(path: Path, *, mirror_as: str | None = "mosaiq") -> ParamTable:
    """The RT Plan's rows, and (for engine tests) the same rows as if a second source gave them."""
    rows, deliveries, _ = rows_from_dataset(load(path), str(path))
    table = ParamTable()
    table.extend(rows)
    if mirror_as:
        table.extend(replace(r, source=mirror_as, provenance="mirror") for r in rows)
    table.deliveries.update({("rtplan", b): d for b, d in deliveries.items()})
    return table


@pytest.fixture
def vmat_table() -> ParamTable:
    return table_from_plan(VMAT_PLAN)


@pytest.fixture(scope="session")
def demo_clinic(tmp_path_factory: pytest.TempPathFactory):
    """The demo clinic, built once per test run and shared: (DemoClinic, Config). Read-only:
    a test that changes a file copies what it changes into its own tmp_path first."""
    from plancheck.demo.clinic import build_clinic

    return build_clinic(tmp_path_factory.mktemp("demo-clinic"))
