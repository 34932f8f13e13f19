"""Connecting to MOSAIQ read-only: password from the environment or keyring, time-outs,
SELECT only, and a count of SQL round trips."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Select

from plancheck.errors import ConnectionFailed

PASSWORD_ENV = "PLANCHECK_MOSAIQ_PASSWORD"
KEYRING_SERVICE = "plancheck-mosaiq"


class ReadOnlyViolation(ConnectionFailed):
    """Something other than a SELECT was about to be sent to MOSAIQ."""


def _password(url: URL) -> str | None:
    if url.password:
        return None  # given in the URL by the caller (never by plancheck.toml, which refuses it)
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, url.username or "")
    except Exception:  # noqa: BLE001 - no keyring backend on this machine is not an error
        return None


def _refuse_writes(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if head not in ("SELECT", "WITH"):
        raise ReadOnlyViolation(f"refused to send {head or 'an empty statement'} to MOSAIQ: plancheck only reads (SELECT)")


class Mosaiq:
    """A read-only connection to one MOSAIQ database; ``round_trips`` counts queries sent."""

    def __init__(self, url: str | URL | Engine, timeout_s: int = 30) -> None:
        self.round_trips = 0
        self.engine = url if isinstance(url, Engine) else self._engine(url, timeout_s)
        self.where = self.engine.url.render_as_string(hide_password=True)
        event.listen(self.engine, "before_cursor_execute", _refuse_writes)
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.round_trips += 1

    @staticmethod
    def _engine(raw: str | URL, timeout_s: int) -> Engine:
        try:
            url = make_url(raw)
        except ArgumentError:
            raise ConnectionFailed(f"not a database URL: {str(raw)!r}", fix="use mssql+pymssql://USER@HOST:1433/MOSAIQ or sqlite:///path/mosaiq.db") from None
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "")
            if not path.is_file():
                raise ConnectionFailed(f"SQLite database {path} not found", fix="check --mosaiq-url / [mosaiq] url, or run `plancheck demo`")
            uri = f"file:{path.resolve()}?mode=ro"
            return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout_s))
        if url.get_backend_name() == "mssql":
            password = _password(url)
            if password is not None:
                url = url.set(password=password)
            args = {"timeout": timeout_s, "login_timeout": timeout_s} if url.get_driver_name() == "pymssql" else {}
            return create_engine(url, connect_args=args, pool_pre_ping=True)
        raise ConnectionFailed(f"unsupported database {url.get_backend_name()!r}", fix="MOSAIQ is SQL Server (mssql+pymssql://...); the demo uses sqlite:///...")

    def rows(self, stmt: Select) -> list[dict[str, Any]]:
        """Run one SELECT and return its rows as dicts (one round trip)."""
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]
        except ReadOnlyViolation:
            raise
        except DBAPIError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__
            raise ConnectionFailed(
                f"MOSAIQ query failed ({reason[:200]})",
                where=self.where,
                fix="check the server name, port 1433, the login (DOMAIN\\user for Windows accounts) and that the password is set in PLANCHECK_MOSAIQ_PASSWORD or the keyring",
            ) from None
        except SQLAlchemyError as exc:
            raise ConnectionFailed(f"MOSAIQ query failed ({exc.__class__.__name__})", where=self.where) from None


_OPEN: dict[str, Mosaiq] = {}


def open_mosaiq(url: str | Engine, timeout_s: int = 30) -> Mosaiq:
    """One Mosaiq per URL in a process (the engine pools connections)."""
    if isinstance(url, Engine):
        return Mosaiq(url, timeout_s)
    if url not in _OPEN:
        _OPEN[url] = Mosaiq(url, timeout_s)
    return _OPEN[url]
