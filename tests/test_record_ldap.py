"""LDAP log-in (plancheck.record.ldap) against a real OpenLDAP server: Debian's slapd, started by
`.ci/ldap` (``export PLANCHECK_TEST_LDAP_URL=$(.ci/ldap)``; .ci/run does it). Its users, passwords and
groups are the ones `.ci/ldap` loads. Without the server these tests skip locally and fail in CI."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plancheck.config import Config, config_from_dict, load_config
from plancheck.errors import ConfigError, ConnectionFailed
from plancheck.record.ldap import bind, bind_name, login
from plancheck.record.ldap_settings import PASSWORD_ENV
from tests.servers import server_url

URL_ENV = "PLANCHECK_TEST_LDAP_URL"
PEOPLE = "ou=people,dc=example,dc=org"
GROUPS = "ou=groups,dc=example,dc=org"
SERVICE = "cn=plancheck-svc,ou=services,dc=example,dc=org"
PASSWORDS = {"alice": "alice-pw-1", "bob": "bob-pw-1", "carol": "carol-pw-1", "smith,j": "smith-pw-1"}  # as .ci/ldap loads them
INJECTIONS = ("*", "al*", "alice)(uid=*", "*)(|(uid=*", "alice\x00", "\x00", "alice)", "(uid=alice)", "alice,ou=people,dc=example,dc=org")


@pytest.fixture(scope="session")
def ldap_url() -> str:
    return server_url(URL_ENV, "LDAP", "ldap")


@pytest.fixture(scope="session")
def ca_dir() -> Path:
    """Where .ci/ldap keeps the test CA (ca.pem) and the ldaps:// URL (ldaps.url)."""
    return Path(os.environ.get("PLANCHECK_TEST_LDAP_DIR", "/tmp/plancheck-ldap"))


def config(url: Any, **ldap: Any) -> Config:
    return config_from_dict({"ldap": {"url": url, "timeout_s": 5} | ldap})


def dn_config(url: str | list[str], **more: Any) -> Config:
    return config(url, user_dn=f"uid={{username}},{PEOPLE}", **more)


def search_config(url: str, **more: Any) -> Config:
    return config(url, search_base="dc=example,dc=org", search_filter="(&(objectClass=inetOrgPerson)(uid={username}))", bind_dn=SERVICE, **more)


@pytest.fixture
def service_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "svc-pw-1")


def test_right_password_binds_wrong_one_and_unknown_user_do_not(ldap_url: str) -> None:
    cfg = dn_config(ldap_url)
    assert all(bind(cfg, user, password) for user, password in PASSWORDS.items())  # "smith,j": the comma escaped in the DN
    assert not bind(cfg, "alice", "alice-pw-2")
    assert not bind(cfg, "alice", PASSWORDS["bob"])
    assert not bind(cfg, "nobody", "alice-pw-1")
    assert not bind(cfg, "alice", "")  # an unauthenticated bind (RFC 4513 5.1.2) is never a log-in


@pytest.mark.parametrize("username", INJECTIONS)
def test_injections_never_bind(ldap_url: str, service_password: None, username: str) -> None:
    for cfg in (dn_config(ldap_url), search_config(ldap_url)):
        assert not any(bind(cfg, username, password) for password in PASSWORDS.values())


def test_search_then_bind_finds_the_dn_with_the_service_account(ldap_url: str, service_password: None) -> None:
    cfg = search_config(ldap_url)
    who = login(cfg, "smith,j", "smith-pw-1")
    assert who is not None and who.dn.lower() in (rf"uid=smith\,j,{PEOPLE}", rf"uid=smith\2cj,{PEOPLE}")
    assert who.display_name == "Jo Smith"
    assert bind(cfg, "carol", "carol-pw-1") and not bind(cfg, "carol", "alice-pw-1") and not bind(cfg, "nobody", "carol-pw-1")


def test_service_account_problems_are_config_errors(ldap_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        bind(search_config(ldap_url), "alice", "alice-pw-1")
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(ConfigError, match="bind_dn could not bind"):
        bind(search_config(ldap_url), "alice", "alice-pw-1")


def test_groups_map_to_the_highest_role(ldap_url: str) -> None:
    roles = {f"cn=physicists,{GROUPS}": "physicist", f"CN=QA-Leads, {GROUPS.upper()}": "qa_lead"}  # DNs compared case-blind
    cfg = dn_config(ldap_url, group_base=GROUPS, roles=roles)
    found = {user: login(cfg, user, password) for user, password in PASSWORDS.items()}
    assert {user: who.role for user, who in found.items() if who} == {"alice": "physicist", "bob": "qa_lead", "carol": None, "smith,j": None}
    assert sorted(found["bob"].groups) == [f"cn=physicists,{GROUPS}", f"cn=qa-leads,{GROUPS}"]  # type: ignore[union-attr]


def test_self_search_after_bind_finds_the_entry(ldap_url: str) -> None:
    """user_dn + search_base: bind first, then the user reads its own entry (as with an AD UPN bind)."""
    cfg = dn_config(ldap_url, search_base="dc=example,dc=org", group_base=GROUPS, roles={f"cn=qa-leads,{GROUPS}": "qa_lead"})
    who = login(cfg, "bob", "bob-pw-1")
    assert who is not None and (who.dn, who.display_name, who.role) == (f"uid=bob,{PEOPLE}", "Bob Lead", "qa_lead")


def test_tls_with_the_ca_file(ldap_url: str, ca_dir: Path) -> None:
    ca = str(ca_dir / "ca.pem")
    ldaps = (ca_dir / "ldaps.url").read_text().strip()
    assert bind(dn_config(ldap_url, starttls=True, ca_file=ca), "alice", "alice-pw-1")
    assert bind(dn_config(ldaps, ca_file=ca), "alice", "alice-pw-1")
    assert not bind(dn_config(ldaps, ca_file=ca), "alice", "wrong")
    with pytest.raises(ConnectionFailed, match="ca_file"):  # the certificate is always verified: without the CA, no log-in
        bind(dn_config(ldaps), "alice", "alice-pw-1")


def test_a_second_url_is_tried_when_the_first_is_down(ldap_url: str) -> None:
    assert bind(dn_config([f"ldap://127.0.0.1:{_closed_port()}", ldap_url]), "alice", "alice-pw-1")


def test_a_upn_template_against_a_directory_without_upns_is_a_refusal(ldap_url: str) -> None:
    assert not bind(config(ldap_url, user_dn="{username}@EXAMPLE.ORG"), "alice", "alice-pw-1")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_is_one_clear_line() -> None:
    port = _closed_port()
    with pytest.raises(ConnectionFailed) as caught:
        bind(dn_config(f"ldap://127.0.0.1:{port}"), "alice", "alice-pw-1")
    message = caught.value.message
    assert "\n" not in message and f"ldap://127.0.0.1:{port}" in message and "refused" in message.lower() and "[ldap] url" in message


@pytest.fixture
def web_server() -> Iterator[int]:
    """A server that answers every connection in HTTP: the wrong port in [ldap] url."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            with peer:
                peer.recv(4096)
                peer.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()


def test_a_server_that_is_not_ldap_is_one_clear_line(web_server: int) -> None:
    with pytest.raises(ConnectionFailed) as caught:
        bind(dn_config(f"ldap://127.0.0.1:{web_server}", timeout_s=2), "alice", "alice-pw-1")
    message = caught.value.message
    assert "\n" not in message and f"ldap://127.0.0.1:{web_server}" in message and "port" in message


def test_bind_names_escape_dn_values_and_keep_upns() -> None:
    dn = dn_config("ldap://h").ldap
    upn = config("ldap://h", user_dn="{username}@EXAMPLE.ORG").ldap
    assert dn is not None and upn is not None
    assert bind_name(dn, "smith,j") == rf"uid=smith\,j,{PEOPLE}"
    assert bind_name(dn, "a+b=c") == rf"uid=a\+b\=c,{PEOPLE}"
    assert bind_name(upn, "alice") == "alice@EXAMPLE.ORG"
    assert not bind(config("ldap://127.0.0.1:1", user_dn="{username}@EXAMPLE.ORG"), "alice@OTHER.ORG", "pw")  # refused before any connection


def test_no_ldap_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"no \[ldap\] table"):
        bind(Config(), "alice", "pw")


@pytest.mark.parametrize(("toml", "key", "says"), [
    ('[ldap]\nuser_dn = "uid={username},dc=x"\n', "ldap", "url"),
    ('[ldap]\nurl = "http://dc1"\nuser_dn = "uid={username},dc=x"\n', "url", "not an ldap://"),
    ('[ldap]\nurl = "ldap://dc1"\n', "ldap", "needs user_dn"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "uid=alice,dc=x"\n', "user_dn", "{username}"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\nbind_password = "s3cret"\n', "bind_password", "must not hold a password"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\nuser_dn_template = "x"\n', "user_dn_template", "unknown key"),
    ('[ldap]\nurl = "ldaps://dc1"\nuser_dn = "{username}@X"\nstarttls = true\n', "starttls", "already"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\nstarttls = "yes"\n', "starttls", "true or false"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\nca_file = "missing-ca.pem"\n', "ca_file", "not a file"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\ntimeout_s = 0\n', "timeout_s", "whole number"),
    ('[ldap]\nurl = "ldap://dc1"\nsearch_base = "dc=x"\nsearch_filter = "uid={username}"\n', "search_filter", "parentheses"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "uid={username},dc=x"\n[ldap.roles]\n"cn=a,dc=x" = "physicist"\n', "roles", "group_base"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "uid={username},dc=x"\ngroup_base = "dc=x"\n[ldap.roles]\n"cn=a,dc=x" = "boss"\n', "cn=a,dc=x", "not a role"),
    ('[ldap]\nurl = "ldap://dc1"\nuser_dn = "{username}@X"\ngroup_base = "dc=x"\n[ldap.roles]\n"cn=a,dc=x" = "admin"\n', "user_dn", "needs search_base"),
])
def test_config_errors_name_the_key_and_line(tmp_path: Path, toml: str, key: str, says: str) -> None:
    path = tmp_path / "plancheck.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    line = next(i for i, text in enumerate(toml.splitlines(), 1) if text.startswith((key, f'"{key}"', f"[{key}]", f"[ldap.{key}]")))
    assert says in caught.value.message and f"{path}:{line}" in caught.value.message
    assert caught.value.exit_code == 2


def test_a_full_table_loads(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked until a connection is made")
    path = tmp_path / "plancheck.toml"
    path.write_text('[ldap]\nurl = ["ldaps://dc1.example.org", "ldaps://dc2.example.org"]\nuser_dn = "{username}@EXAMPLE.ORG"\n'
                    'search_base = "DC=example,DC=org"\nsearch_filter = "(userPrincipalName={username}@EXAMPLE.ORG)"\nca_file = "ca.pem"\n'
                    'group_base = "OU=Groups,DC=example,DC=org"\ngroup_filter = "(member:1.2.840.113556.1.4.1941:={dn})"\n'
                    '[ldap.roles]\n"CN=RT Physics,OU=Groups,DC=example,DC=org" = "physicist"\n')
    s = load_config(path).ldap
    assert s is not None
    assert s.urls == ("ldaps://dc1.example.org", "ldaps://dc2.example.org") and s.ca_file == tmp_path / "ca.pem" and not s.user_dn_is_dn
    assert s.roles == {"cn=rt physics,ou=groups,dc=example,dc=org": "physicist"} and s.timeout_s == 10
