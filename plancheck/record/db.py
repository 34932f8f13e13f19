"""Where the results database is, and opening it at the newest schema (Alembic migrations).

``[results] url`` in plancheck.toml; by default a SQLite file next to plancheck.toml
(``plancheck-record.db``). A PostgreSQL department record: ``postgresql+psycopg://user@host/plancheck``
with the password from ``PLANCHECK_RESULTS_PASSWORD`` (never in the file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from plancheck.errors import ConfigError, ConnectionFailed

if TYPE_CHECKING:
    from plancheck.config import Config

DEFAULT_FILE = "plancheck-record.db"
PASSWORD_ENV = "PLANCHECK_RESULTS_PASSWORD"
MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0002"  # the newest migration: a record already there opens without loading Alembic (tests/test_record_schema.py keeps it true)


def results_url(config: Config) -> str:
    """``[results] url``, else the SQLite file next to plancheck.toml (the working folder when there is none)."""
    if config.results_url:
        return config.results_url
    folder = config.path.parent if config.path else Path.cwd()
    return f"sqlite:///{(folder / DEFAULT_FILE).resolve()}"


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine on ``url``; a password for a server comes from ``PLANCHECK_RESULTS_PASSWORD``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("[results] url is not a database URL", fix="e.g. sqlite:///plancheck-record.db or postgresql+psycopg://user@host/plancheck") from None
    password = os.environ.get(PASSWORD_ENV)
    if password and parsed.username and parsed.password is None:
        parsed = parsed.set(password=password)
    engine = create_engine(parsed, future=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic migrations shipped in plancheck.record.migrations."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def open_record(url: str) -> Engine:
    """The results database at ``url``, created or migrated to the newest schema."""
    engine = make_engine(url)
    try:
        if _revision(engine) != HEAD:
            upgrade(engine)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise ConnectionFailed(f"cannot open the results database ({exc.orig})", where=where, fix="check [results] url and that the server is running") from None
    return engine


def _revision(engine: Engine) -> str | None:
    """The record's schema revision, None when it has none yet."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as c:
        return c.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends without error and rolls back otherwise."""
    with sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        yield s
