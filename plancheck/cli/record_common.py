"""What the record's commands share: opening the record from plancheck.toml, who is acting, and the password.

Who: ``--user NAME``, by default the operating-system user (``getpass.getuser()``: $LOGNAME, $USER, ...).
The password (asked only where it counts: signing, managing users) is read with a hidden prompt on a
terminal, else as one line of standard input (a script's pipe); ``PLANCHECK_PASSWORD`` overrides both,
for automation only. A password is never an argument (``ps`` would show it) and never written anywhere.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from plancheck.cli.common import ConfigOption, config_from

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from plancheck.config import Config
    from plancheck.record.models import User

PASSWORD_ENV = "PLANCHECK_PASSWORD"
UserOption = typer.Option(None, "--user", "-u", help="Who is acting: a user of the record (default: the operating-system user).")
__all__ = ["ConfigOption", "Listing", "UserOption", "acting", "acting_user", "emit_json", "open_configured_record", "read_password", "username_or_os"]


class Listing(str, Enum):
    terminal = "terminal"
    json = "json"


def open_configured_record(config: Path | None) -> tuple[Config, Engine]:
    """plancheck.toml and its results database (migrated to the newest schema)."""
    from plancheck.record.db import open_record, results_url

    cfg = config_from(config)
    return cfg, open_record(results_url(cfg))


def username_or_os(username: str | None) -> str:
    return username or getpass.getuser()


def acting_user(s: Session, username: str | None) -> User:
    """The record's user named by ``--user``, else the operating-system user's account."""
    from plancheck.record.users import get_user

    return get_user(s, username_or_os(username))


def read_password(prompt: str, *, confirm: bool = False, env: bool = True) -> str:
    """A password from $PLANCHECK_PASSWORD (automation only, when ``env``), a hidden prompt, or one line of piped stdin."""
    from plancheck.record.errors import RecordUsageError

    if env and os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline()
    if not line:
        raise RecordUsageError(f"{prompt}: none given", fix="type it at the prompt on a terminal, or pipe it on standard input")
    return line.rstrip("\r\n")


@contextmanager
def acting(config: Path | None, username: str | None) -> Iterator[tuple[Config, Session, User]]:
    """plancheck.toml, a session on its record (committed when the block succeeds) and the acting user."""
    from plancheck.record.db import session

    cfg, engine = open_configured_record(config)
    with session(engine) as s:
        yield cfg, s, acting_user(s, username)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
