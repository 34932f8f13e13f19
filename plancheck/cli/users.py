"""`plancheck users add|list|disable`: the record's users and their roles (viewer < physicist < qa_lead < admin).

Adding or disabling a user is an admin's act and asks the admin's password; the record's first user is an
admin added without one. A local user's password is asked twice with a hidden prompt (or read from a pipe)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from plancheck.cli.common import console, reports_errors
from plancheck.cli.record_common import ConfigOption, Listing, UserOption, acting_user, emit_json, open_configured_record, read_password

app = typer.Typer(help="The record's users: add, list, disable.", no_args_is_help=True, rich_markup_mode=None)


class Role(str, Enum):  # plancheck.record.models.ROLES
    viewer = "viewer"
    physicist = "physicist"
    qa_lead = "qa_lead"
    admin = "admin"


class Auth(str, Enum):
    local = "local"
    ldap = "ldap"


@app.command("add")
@reports_errors
def add(
    username: str = typer.Argument(..., help="The new user's name (for LDAP: the directory's user name)."),
    role: Role = typer.Option(..., "--role", help="viewer, physicist, qa_lead or admin."),
    auth: Auth = typer.Option(Auth.local, "--auth", help="local (password hashed here with argon2) or ldap (checked by the directory)."),
    display_name: str = typer.Option("", "--display-name", help="The name printed on signed records."),
    user: str = UserOption,
    config: Path = ConfigOption,
) -> None:
    """Add a user (an admin's act; the first user of an empty record must be an admin)."""
    from plancheck.record.db import session
    from plancheck.record.users import add_user, authenticate, list_users

    cfg, engine = open_configured_record(config)
    with session(engine) as s:
        actor = None
        if list_users(s):
            me = acting_user(s, user)
            actor = authenticate(s, me.username, read_password(f"password for {me.username}"), cfg)
        password = read_password(f"password for the new user {username}", confirm=True, env=False) if auth == Auth.local else None
        added = add_user(s, username, role=role.value, password=password, auth=auth.value, display_name=display_name, actor=actor)
        typer.echo(f"added {added.username} ({added.role}, {added.auth})")


@app.command("list")
@reports_errors
def list_(fmt: Listing = typer.Option(Listing.terminal, "--format", "-f", help="terminal, or json."), config: Path = ConfigOption) -> None:
    """Every user with role, log-in kind and whether active (never a password hash)."""
    from rich.table import Table
    from rich.text import Text

    from plancheck.record.as_json import user_dict
    from plancheck.record.db import session
    from plancheck.record.users import list_users

    _cfg, engine = open_configured_record(config)
    with session(engine) as s:
        users = [user_dict(u) for u in list_users(s)]
    if fmt == Listing.json:
        emit_json(users)
        return
    table = Table("user", "name", "role", "auth", "active", "since", box=None)
    for u in users:
        table.add_row(*(Text(str(u[k] if k != "created" else (u[k] or "")[:10])) for k in ("username", "display_name", "role", "auth", "active", "created")))
    console().print(table)


@app.command("disable")
@reports_errors
def disable(username: str = typer.Argument(..., help="The user to disable."), user: str = UserOption, config: Path = ConfigOption) -> None:
    """Disable a user: no more log-in or signature; their earlier dispositions and signatures keep their name."""
    from plancheck.record.db import session
    from plancheck.record.users import authenticate, disable_user

    cfg, engine = open_configured_record(config)
    with session(engine) as s:
        me = acting_user(s, user)
        actor = authenticate(s, me.username, read_password(f"password for {me.username}"), cfg)
        disable_user(s, username, actor=actor)
        typer.echo(f"disabled {username}")
