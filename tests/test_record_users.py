"""Users: roles in order, argon2 hashes (never the password), one refusal for unknown user and wrong
password, disabled accounts, and LDAP accounts handed to plancheck.record.ldap.bind."""

from __future__ import annotations

import sys
import types

import pytest
from sqlalchemy import select

from plancheck.config import Config
from plancheck.record.db import open_record, session
from plancheck.record.errors import AuthenticationFailed, PermissionDenied, RecordUsageError
from plancheck.record.models import AuditEntry, User
from plancheck.record.users import add_user, authenticate, disable_user, get_user, list_users, require


def test_users_roles_hashes_and_refusals(results_url: str) -> None:
    engine = open_record(results_url)
    config = Config()
    with session(engine) as s:
        with pytest.raises(RecordUsageError, match="first user must be an admin"):
            add_user(s, "alice", role="physicist", password="alice-pass-1", actor=None)
        admin = add_user(s, "root", role="admin", password="root-pass-12", actor=None)
        with pytest.raises(PermissionDenied, match="only an admin"):
            add_user(s, "eve", role="admin", password="eve-pass-123", actor=None)
        alice = add_user(s, "alice", role="physicist", password="alice-pass-1", actor=admin)
        with pytest.raises(PermissionDenied, match="alice is a physicist; this needs a admin"):
            add_user(s, "bob", role="viewer", password="bob-pass-12", actor=alice)
        for bad, words in (({"role": "boss"}, "unknown role"), ({"password": "short"}, "at least 8"), ({"auth": "kerberos"}, "unknown auth")):
            with pytest.raises(RecordUsageError, match=words):
                add_user(s, "carol", **{"role": "viewer", "password": "carol-pass-1", **bad}, actor=admin)
        with pytest.raises(RecordUsageError, match="already exists"):
            add_user(s, "alice", role="viewer", password="alice-pass-2", actor=admin)
        assert alice.password_hash is not None and alice.password_hash.startswith("$argon2id$") and "alice-pass-1" not in alice.password_hash
    with session(engine) as s:
        assert authenticate(s, "alice", "alice-pass-1", config).username == "alice"
        messages = set()
        for name, password in (("alice", "wrong-password"), ("nobody", "alice-pass-1"), ("alice", "")):
            with pytest.raises(AuthenticationFailed) as caught:
                authenticate(s, name, password, config)
            messages.add(caught.value.message)
        assert messages == {"user name or password not accepted"}  # nothing tells an unknown name from a wrong password
        require(get_user(s, "alice"), "viewer")
        with pytest.raises(PermissionDenied):
            require(get_user(s, "alice"), "qa_lead")
        disable_user(s, "alice", actor=get_user(s, "root"))
        with pytest.raises(PermissionDenied, match="cannot disable their own"):
            disable_user(s, "root", actor=get_user(s, "root"))
    with session(engine) as s:
        with pytest.raises(AuthenticationFailed):
            authenticate(s, "alice", "alice-pass-1", config)
        with pytest.raises(PermissionDenied, match="alice is disabled"):
            require(get_user(s, "alice"), "viewer")
        assert [(u.username, u.active) for u in list_users(s)] == [("alice", False), ("root", True)]
        assert [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == ["user.add", "user.add", "user.disable"]
        assert not any("pass" in str(a.detail) for a in s.scalars(select(AuditEntry)))


def test_an_ldap_user_is_checked_by_a_directory_bind(results_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, str, str]] = []
    fake = types.ModuleType("plancheck.record.ldap")
    fake.bind = lambda config, username, password: calls.append((config, username, password)) or password == "directory-pass"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plancheck.record.ldap", fake)
    monkeypatch.setattr("plancheck.record.ldap", fake, raising=False)
    engine = open_record(results_url)
    config = Config()
    with session(engine) as s:
        admin = add_user(s, "root", role="admin", password="root-pass-12", actor=None)
        with pytest.raises(RecordUsageError, match="lives in the directory"):
            add_user(s, "dana", role="physicist", auth="ldap", password="x" * 12, actor=admin)
        dana = add_user(s, "dana", role="physicist", auth="ldap", actor=admin)
        assert dana.password_hash is None
    with session(engine) as s:
        assert authenticate(s, "dana", "directory-pass", config).username == "dana"
        with pytest.raises(AuthenticationFailed):
            authenticate(s, "dana", "wrong", config)
        assert calls == [(config, "dana", "directory-pass"), (config, "dana", "wrong")]
        assert s.scalars(select(User).where(User.username == "dana")).one().auth == "ldap"
