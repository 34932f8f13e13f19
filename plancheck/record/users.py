"""The record's users: roles, local accounts (argon2 hashes) and directory accounts (LDAP / Active Directory).

A password is only ever passed through: hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended option) for a local account, or handed to the directory for an LDAP one; never stored in
clear, logged, or put in the audit log.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from plancheck.record.audit import audit
from plancheck.record.errors import AuthenticationFailed, PermissionDenied, RecordUsageError
from plancheck.record.models import ROLES, User

if TYPE_CHECKING:
    from plancheck.config import Config

AUTHS = ("local", "ldap")
MIN_PASSWORD_CHARS = 8
_hasher = PasswordHasher()
NOT_ACCEPTED = "user name or password not accepted"


def rank(role: str) -> int:
    """The role's place in viewer < physicist < qa_lead < admin."""
    if role not in ROLES:
        raise RecordUsageError(f"unknown role {role!r}", fix=f"use one of {', '.join(ROLES)}")
    return ROLES.index(role)


def require(user: User, role: str) -> None:
    """Refuse unless ``user`` is active and holds ``role`` or a higher one."""
    if not user.active:
        raise PermissionDenied(f"user {user.username} is disabled", fix="ask an admin to add the account again")
    if rank(user.role) < rank(role):
        raise PermissionDenied(f"user {user.username} is a {user.role}; this needs a {role} or higher", fix="ask an admin to change the role")


def find_user(s: Session, username: str) -> User | None:
    return s.scalars(select(User).where(User.username == username)).first()


def get_user(s: Session, username: str) -> User:
    """The user named ``username`` (active or not); a clear error when there is none."""
    user = find_user(s, username)
    if user is None:
        raise RecordUsageError(f"no user {username!r} in the record", fix="see `plancheck users list`; pass --user NAME")
    return user


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.username)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise RecordUsageError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def add_user(s: Session, username: str, *, role: str, password: str | None = None, auth: str = "local", display_name: str = "",
             actor: User | None) -> User:
    """Add a user. ``actor`` must be an admin; ``None`` only while the record has no users (the first admin)."""
    rank(role)
    if auth not in AUTHS:
        raise RecordUsageError(f"unknown auth {auth!r}", fix=f"use one of {', '.join(AUTHS)}")
    if actor is None:
        if list_users(s):
            raise PermissionDenied("only an admin may add users once the record has one", fix="pass --user ADMIN")
        if role != "admin":
            raise RecordUsageError("the record's first user must be an admin", fix="add it with --role admin")
    else:
        require(actor, "admin")
    if not username.strip() or username != username.strip():
        raise RecordUsageError(f"user name {username!r} is empty or has surrounding spaces")
    if find_user(s, username) is not None:
        raise RecordUsageError(f"user {username!r} already exists", fix="choose another name, or disable the old account")
    if auth == "local":
        if password is None:
            raise RecordUsageError(f"a local user needs a password: {username}")
        _check_password(password)
    elif password is not None:
        raise RecordUsageError("an LDAP user's password lives in the directory, not in the record")
    user = User(username=username, role=role, auth=auth, display_name=display_name,
                password_hash=_hasher.hash(password) if password is not None else None)
    s.add(user)
    s.flush()
    audit(s, actor.username if actor else username, "user.add", f"user {username}", role=role, auth=auth)
    return user


def disable_user(s: Session, username: str, *, actor: User) -> User:
    """Disable an account (users are never deleted: their dispositions and signatures keep naming them)."""
    require(actor, "admin")
    user = get_user(s, username)
    if user.id == actor.id:
        raise PermissionDenied("an admin cannot disable their own account", fix="ask another admin")
    user.active = False
    audit(s, actor.username, "user.disable", f"user {username}")
    return user


def authenticate(s: Session, username: str, password: str, config: Config) -> User:
    """The active user ``username`` when ``password`` is theirs (argon2 for local users, a directory bind for LDAP)."""
    user = find_user(s, username)
    if user is None or not user.active or not password:
        raise AuthenticationFailed(NOT_ACCEPTED)
    if user.auth == "ldap":
        ldap = importlib.import_module("plancheck.record.ldap")  # ldap3 loads only for a directory account

        if not ldap.bind(config, username, password):
            raise AuthenticationFailed(NOT_ACCEPTED)
        return user
    if not user.password_hash:
        raise AuthenticationFailed(NOT_ACCEPTED)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed(NOT_ACCEPTED) from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user
