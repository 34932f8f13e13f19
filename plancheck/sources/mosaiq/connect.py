"""Connecting to MOSAIQ read-only: password from the environment or keyring, time-outs,
every statement through the read-only guard, SQLite opened read-only, passwords never shown.

Three kinds of failure are told apart: MOSAIQ cannot be reached (ConnectionFailed, with
the network and login advice), the schema lacks something (SourceError naming it: see
:mod:`discovery`), and a row that cannot be read (named by table, key and column in the
run's warnings, the other rows read).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeEngine

from plancheck.errors import ConnectionFailed, SourceError
from plancheck.sources.mosaiq.discovery import Discovered, discover
from plancheck.sources.mosaiq.guard import UnsafeStatement, check_read_only, redact_url
from plancheck.sources.mosaiq.values import read_value

PASSWORD_ENV = "PLANCHECK_MOSAIQ_PASSWORD"
KEYRING_SERVICE = "plancheck-mosaiq"
NETWORK_FIX = (
    "check the server name, port 1433, the login (DOMAIN\\user for Windows accounts) and that the password is set in "
    "PLANCHECK_MOSAIQ_PASSWORD or the keyring"
)


class ReadOnlyViolation(ConnectionFailed):
    """Something other than a single read was about to be sent to MOSAIQ."""


@dataclass(frozen=True)
class Query:
    """One SELECT with what is needed to read its rows: the declared type of each label,
    and the table and key columns that name a row in a message."""

    stmt: Select[Any]
    table: str
    key: tuple[str, ...]
    types: dict[str, TypeEngine[Any] | None]


def _password(url: URL) -> str | None:
    if url.password:
        return None  # given in the URL by the caller (never by plancheck.toml, which refuses it)
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, url.username or "")
    except Exception:
        return None


def _refuse_writes(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    try:
        check_read_only(statement)
    except UnsafeStatement as exc:
        raise ReadOnlyViolation(f"refused to send {exc} to MOSAIQ: plancheck only reads (one SELECT at a time)") from None


def sqlite_read_only_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only; the path is percent-encoded, so ``#``, ``?``
    or ``%`` in it cannot end the path or add parameters."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _engine(raw: str | URL, timeout_s: int) -> Engine:
    try:
        url = make_url(raw)
    except ArgumentError:
        fix = "use mssql+pymssql://USER@HOST:1433/MOSAIQ or sqlite:///path/mosaiq.db"
        raise ConnectionFailed(f"not a database URL: {redact_url(str(raw))!r}", fix=fix) from None
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.is_file():
            raise ConnectionFailed(f"SQLite database {path} not found", fix="check --mosaiq-url / [mosaiq] url, or run `plancheck demo`")
        uri = sqlite_read_only_uri(path)
        return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout_s, check_same_thread=False))
    if url.get_backend_name() == "mssql":
        password = _password(url)
        if password is not None:
            url = url.set(password=password)
        args = {"timeout": timeout_s, "login_timeout": timeout_s} if url.get_driver_name() == "pymssql" else {}
        return create_engine(url, connect_args=args, pool_pre_ping=True)
    raise ConnectionFailed(f"unsupported database {url.get_backend_name()!r}", fix="MOSAIQ is SQL Server (mssql+pymssql://...); the demo uses sqlite:///...")


def _reason(exc: DBAPIError) -> str:
    """The driver's reason in one line: pymssql gives ``(20009, b"DB-Lib error message 20009, severity 9:\\nUnable to connect: ...")``."""
    if exc.orig is None:
        return exc.__class__.__name__
    args: tuple[Any, ...] = getattr(exc.orig, "args", ())
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    if len(args) == 2 and isinstance(args[1], bytes):
        lines = [line.strip() for line in args[1].decode("utf-8", "replace").splitlines()]
        said = "; ".join(line for line in lines if line and not line.startswith("DB-Lib error message"))
        return (said or f"error {args[0]}")[:200]
    return (str(exc.orig).splitlines() or [exc.__class__.__name__])[0][:200]


class Mosaiq:
    """A read-only connection to one MOSAIQ database; ``round_trips`` counts the reads sent."""

    def __init__(self, url: str | URL | Engine, timeout_s: int = 30) -> None:
        self.round_trips = 0
        self.engine = url if isinstance(url, Engine) else _engine(url, timeout_s)
        self.where = redact_url(self.engine.url.render_as_string(hide_password=True))
        if isinstance(url, str) and self.engine.url.get_backend_name() == "sqlite" and self.engine.url.database is None:
            self.where = redact_url(url)  # the file, not the creator's in-memory placeholder
        if not event.contains(self.engine, "before_cursor_execute", _refuse_writes):
            event.listen(self.engine, "before_cursor_execute", _refuse_writes)

    @property
    def schema(self) -> Discovered:
        """What this MOSAIQ has of the tables and columns plancheck reads (learned once per engine)."""
        try:
            return discover(self.engine)
        except ReadOnlyViolation:
            raise
        except DBAPIError as exc:
            if exc.connection_invalidated or "connect" in _reason(exc).lower():
                raise ConnectionFailed(f"cannot reach MOSAIQ ({redact_url(_reason(exc))})", where=self.where, fix=NETWORK_FIX) from None
            fix = "the login needs read access to the schema (db_datareader)"
            raise SourceError(f"cannot read MOSAIQ's list of tables ({redact_url(_reason(exc))})", where=self.where, fix=fix) from None

    def _execute(self, stmt: Any) -> list[dict[str, Any]]:
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise ConnectionFailed(f"cannot reach MOSAIQ ({redact_url(_reason(exc))})", where=self.where, fix=NETWORK_FIX) from None
        with conn:
            self.round_trips += 1
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def read(self, query: Query) -> tuple[list[dict[str, Any]], list[str]]:
        """Run one query; rows with each value read as its column declares, and a line for each
        row that could not be read (named by table, key and column: the other rows are kept)."""
        try:
            raw = self._execute(query.stmt)
        except (ReadOnlyViolation, ConnectionFailed):
            raise
        except DBAPIError as exc:
            what = f"MOSAIQ query on {query.table} failed ({redact_url(_reason(exc))})"
            raise SourceError(what, where=self.where, fix="run `plancheck mosaiq doctor`") from None
        except SQLAlchemyError as exc:
            raise SourceError(f"MOSAIQ query on {query.table} failed ({exc.__class__.__name__})", where=self.where) from None
        rows, problems = [], []
        for row in raw:
            try:
                rows.append({k: _cell(v, k, query.types.get(k)) for k, v in row.items()})
            except ValueError as exc:
                key = " ".join(f"{k}={row.get(k)}" for k in query.key)
                problems.append(f"{query.table} {key}: {exc}; the row is left out")
        return rows, problems

    def rows(self, query: Query) -> list[dict[str, Any]]:
        """``read`` for callers that have no warnings to add to: a bad row is a SourceError."""
        rows, problems = self.read(query)
        if problems:
            raise SourceError(problems[0], where=self.where)
        return rows

    def server_version(self) -> str:
        """The server's own version line (SQL Server's @@VERSION, SQLite's sqlite_version())."""
        sql = "SELECT @@VERSION" if self.engine.dialect.name == "mssql" else "SELECT sqlite_version()"
        row = self._execute(text(sql))[0]
        return " ".join(str(next(iter(row.values()))).split())


def _cell(value: Any, column: str, type_: TypeEngine[Any] | None) -> Any:
    try:
        return read_value(value, type_)
    except ValueError as exc:
        raise ValueError(f"column {column}: cannot read {str(value)[:40]!r} ({exc})") from None


_OPEN: dict[str, Mosaiq] = {}


def open_mosaiq(url: str | Engine, timeout_s: int = 30) -> Mosaiq:
    """One Mosaiq per URL in a process (the engine pools connections; the schema is learned once)."""
    if isinstance(url, Engine):
        return Mosaiq(url, timeout_s)
    if url not in _OPEN:
        _OPEN[url] = Mosaiq(url, timeout_s)
    return _OPEN[url]
