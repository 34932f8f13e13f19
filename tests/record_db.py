"""Results databases for tests: a SQLite file, and a fresh database on the real PostgreSQL server
that `.ci/postgres` starts (``PLANCHECK_TEST_POSTGRES_URL``). Without that server the PostgreSQL
cases skip locally and fail in CI (``CI`` set), so CI can never pass without having run them.

A test that needs a record with people in it starts from a copy (``record_copies``): the record is built
once per session by the project's own code (Alembic's migrations, argon2 hashes of every password) and
copied into each such test's own database, so no test sees another's writes and none pays for the build again."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
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


@pytest.fixture
def other_results_url(results_url: str, tmp_path: Path, _postgres_databases: list[str]) -> str:
    """A second empty results database, on results_url's engine."""
    folder = tmp_path / "other-record"
    folder.mkdir()
    return new_database(make_url(results_url).get_backend_name(), folder, _postgres_databases)


class RecordCopies:
    """Records built once per session by a builder, copied into a test's own empty database on demand."""

    def __init__(self, folder: Path, made: list[str]) -> None:
        self._folder = folder
        self._made = made
        self._built: dict[tuple[Callable[[str], object], str], str] = {}

    def fill(self, url: str, build: Callable[[str], object]) -> str:
        """Make the empty database at ``url`` what ``build`` (a module-level function given an empty database's URL,
        which closes its connections) makes of an empty one: built on the first call per builder and engine, then copied.
        Returns ``url``."""
        engine = make_url(url).get_backend_name()
        key = (build, engine)
        if key not in self._built:
            folder = self._folder / f"{engine}-{len(self._built)}"
            folder.mkdir()
            template = new_database(engine, folder, self._made)
            build(template)
            self._built[key] = template
        _copy_database(self._built[key], url)
        return url


def _copy_database(template: str, url: str) -> None:
    """Replace the empty database at ``url`` by a copy of ``template``: the file for SQLite, CREATE DATABASE ... TEMPLATE
    for PostgreSQL (which refuses while anyone is connected to the template)."""
    source, target = make_url(template), make_url(url)
    if target.get_backend_name() == "sqlite":
        assert target.database and source.database
        path = Path(target.database)
        assert not path.exists() or path.stat().st_size == 0, f"{path} is not an empty database"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.database, path)
        return
    admin = create_engine(_postgres_admin(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        c.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{source.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def record_copies(tmp_path_factory: pytest.TempPathFactory, _postgres_databases: list[str]) -> RecordCopies:
    """Copies of records built once per session (see RecordCopies.fill)."""
    return RecordCopies(tmp_path_factory.mktemp("record-templates"), _postgres_databases)
