"""Results databases for tests: a SQLite file, and a fresh database on the real PostgreSQL server
that `.ci/postgres` starts (``PLANCHECK_TEST_POSTGRES_URL``). Without that server the PostgreSQL
cases skip locally and fail in CI (``CI`` set), so CI can never pass without having run them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers import server_url

POSTGRES_ENV = "PLANCHECK_TEST_POSTGRES_URL"
ENGINES = ("sqlite", "postgresql")


def _postgres_admin() -> str:
    return server_url(POSTGRES_ENV, "PostgreSQL", "postgres")


@pytest.fixture(scope="session")
def _postgres_databases() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        admin = create_engine(_postgres_admin(), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            for name in made:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def new_database(engine: str, tmp_path: Path, made: list[str]) -> str:
    """The URL of an empty results database on ``engine`` (sqlite or postgresql)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'record.db'}"
    admin_url = _postgres_admin()
    name = f"plancheck_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    made.append(name)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=ENGINES)
def results_url(request: pytest.FixtureRequest, tmp_path: Path, _postgres_databases: list[str]) -> str:
    """An empty results database, once on SQLite and once on the real PostgreSQL server."""
    return new_database(request.param, tmp_path, _postgres_databases)
