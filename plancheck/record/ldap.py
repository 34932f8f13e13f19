"""Log-in against the hospital's LDAP directory or Active Directory (ldap3): a simple bind with the user's
own password, over ldaps:// or StartTLS, the certificate always verified.

The user name is data, never syntax: escaped as an RDN value in a DN template (RFC 4514), as an assertion
value in a search filter (RFC 4515), refused when it holds control characters or, for a UPN / DOMAIN\\name
template, another realm. An empty password is refused before the directory sees it (RFC 4513 5.1.2: a
name with no password is an *unauthenticated* bind that many servers accept). Settings: ldap_settings.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPStartTLSError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from plancheck.errors import ConfigError, ConnectionFailed
from plancheck.record.ldap_settings import PASSWORD_ENV, PLACEHOLDER, LdapSettings, normalise_dn

if TYPE_CHECKING:
    from plancheck.config import Config

log = logging.getLogger(__name__)
INVALID_CREDENTIALS = 49  # RFC 4511 resultCode: wrong password, unknown name, disabled or expired account (AD adds a sub-code)
_NAME_ATTRIBUTES = ("displayName", "cn")


@dataclass(frozen=True)
class DirectoryUser:
    """Who the directory says logged in: the entry's DN, its display name, its groups and the role they map to."""

    username: str
    dn: str
    display_name: str = ""
    groups: tuple[str, ...] = ()
    role: str | None = None  # the highest role [ldap.roles] gives any of the groups; None: no group maps


def bind(config: Config, username: str, password: str) -> bool:
    """Whether ``username`` binds to the directory of ``[ldap]`` with ``password``.

    Raises ConfigError when [ldap] is missing or the service account cannot search, ConnectionFailed when no
    server of ``url`` can be reached (or its certificate is not trusted)."""
    return login(config, username, password) is not None


def login(config: Config, username: str, password: str) -> DirectoryUser | None:
    """The directory's account of ``username`` when ``password`` binds it, else None (errors as :func:`bind`)."""
    settings = _settings(config)
    if not password or not _acceptable(username, settings):
        return None
    dn = bind_name(settings, username) if settings.user_dn else _search_dn(settings, username)
    if dn is None:
        return None
    conn = _open(settings, dn, password)
    try:
        if not _bind(conn, settings, as_service=False):
            return None
        with _talking(settings):
            return _who(conn, settings, username, dn)
    finally:
        conn.unbind()


def _settings(config: Config) -> LdapSettings:
    settings = getattr(config, "ldap", None)
    if settings is None:
        where = str(config.path) if config.path else "config"
        raise ConfigError("no [ldap] table: LDAP log-in is not configured", where=where,
                          fix="add [ldap] url and user_dn (see docs/record.md, LDAP / Active Directory)")
    return settings


def _acceptable(username: str, s: LdapSettings) -> bool:
    """A name that can only mean one account: no control characters (NUL ends a C string), no padding,
    and for a UPN or DOMAIN\\name template no second realm or domain of the user's choosing."""
    if not username or len(username) > 256 or username != username.strip() or any(ord(c) < 32 or ord(c) == 127 for c in username):
        return False
    return not (s.user_dn and not s.user_dn_is_dn and any(c in username for c in "@\\/"))


def bind_name(s: LdapSettings, username: str) -> str:
    """The name the user binds with: ``user_dn`` with the user name escaped as a DN value when it is a DN."""
    return s.user_dn.replace(PLACEHOLDER, escape_rdn(username) if s.user_dn_is_dn else username)


def _open(s: LdapSettings, who: str | None, password: str | None) -> Connection:
    """A connection to the first server of ``url`` that answers (StartTLS done when set); none: ConnectionFailed naming each."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(s.ca_file) if s.ca_file else None)
    reasons: list[str] = []
    for url in s.urls:
        server = Server(url, tls=tls, connect_timeout=s.timeout_s, get_info=NONE)
        conn = Connection(server, user=who, password=password, receive_timeout=s.timeout_s, raise_exceptions=False, auto_referrals=False)
        try:
            conn.open()
            if s.starttls and not conn.start_tls():
                refused = conn.result.get("description", "")
                raise ConnectionFailed(f"the LDAP server refused StartTLS ({refused})", where=url, fix="use an ldaps:// URL or enable TLS on the server")
            return conn
        except LDAPException as exc:
            reasons.append(f"{url}: {_reason(exc)}")
    fix = _CA_FIX if any("CERTIFICATE_VERIFY_FAILED" in r for r in reasons) else "check [ldap] url, the port, and that this machine can reach the directory"
    raise ConnectionFailed(f"cannot reach the LDAP server ({'; '.join(reasons)})", where="[ldap] url", fix=fix)


def _bind(conn: Connection, s: LdapSettings, *, as_service: bool) -> bool:
    """Bind on an open connection; a refused service account is a config error, a refused user False."""
    with _talking(s, str(conn.server.name)):
        bound = conn.bind()
    if bound:
        return True
    code, description = conn.result.get("result"), conn.result.get("description", "")
    if as_service:
        raise ConfigError(f"the service account [ldap] bind_dn could not bind ({description})", where=_where(s), fix=f"check bind_dn and {PASSWORD_ENV}")
    if code != INVALID_CREDENTIALS:
        log.warning("LDAP bind refused with %s (%s): %s", code, description, conn.result.get("message", ""))
    return False


def _search_dn(s: LdapSettings, username: str) -> str | None:
    """The DN of the one entry ``search_filter`` finds for ``username`` (service account, or anonymous); None otherwise."""
    password = os.environ.get(PASSWORD_ENV, "") if s.bind_dn else None
    if s.bind_dn and not password:
        raise ConfigError(f"[ldap] bind_dn is set but {PASSWORD_ENV} is not", where=_where(s), fix=f"set {PASSWORD_ENV} to the service account's password")
    conn = _open(s, s.bind_dn or None, password)
    try:
        _bind(conn, s, as_service=True)
        with _talking(s):
            entries = _search(conn, s.search_base, s.search_filter.replace(PLACEHOLDER, escape_filter_chars(username)), ())
    finally:
        conn.unbind()
    if len(entries) > 1:
        log.warning("[ldap] search_filter finds %d entries for one user name; refusing the log-in", len(entries))
    return entries[0][0] if len(entries) == 1 else None


def _search(conn: Connection, base: str, query: str, attributes: tuple[str, ...], scope: str = SUBTREE) -> list[tuple[str, dict[str, list[str]]]]:
    """(DN, attributes) of each entry found; a search the directory refuses finds nothing."""
    conn.search(base, query, search_scope=scope, attributes=list(attributes) or None, size_limit=100, time_limit=30)
    return [(str(e["dn"]), {k: [str(v) for v in (vals if isinstance(vals, list) else [vals])] for k, vals in e.get("attributes", {}).items()})
            for e in conn.response or [] if e.get("type") == "searchResEntry"]


def _who(conn: Connection, s: LdapSettings, username: str, dn: str) -> DirectoryUser:
    """The bound user's entry (its real DN when the bind name was a UPN), groups and role."""
    if s.user_dn and not s.user_dn_is_dn:
        found = _search(conn, s.search_base, s.search_filter.replace(PLACEHOLDER, escape_filter_chars(username)), _NAME_ATTRIBUTES) if s.search_base else []
        entry = found[0] if len(found) == 1 else (dn, {})
    else:
        own = _search(conn, dn, "(objectClass=*)", _NAME_ATTRIBUTES, BASE)
        entry = own[0] if own else (dn, {})
    dn, attributes = entry
    name = next((vals[0] for key in _NAME_ATTRIBUTES for vals in [attributes.get(key, [])] if vals), "")
    groups = tuple(g for g, _ in _search(conn, s.group_base, s.group_filter.replace("{dn}", escape_filter_chars(dn)), ())) if s.group_base else ()
    return DirectoryUser(username=username, dn=dn, display_name=name, groups=groups, role=_role(s, groups))


def _role(s: LdapSettings, groups: tuple[str, ...]) -> str | None:
    from plancheck.record.models import ROLES

    mapped = [s.roles[g] for g in map(normalise_dn, groups) if g in s.roles]
    return max(mapped, key=ROLES.index) if mapped else None


def _where(s: LdapSettings) -> str:
    return "[ldap] url " + ", ".join(s.urls)


@contextmanager
def _talking(s: LdapSettings, where: str = "") -> Iterator[None]:
    """ldap3's network errors as one line: which server, why, what to check."""
    where = where or _where(s)
    try:
        yield
    except LDAPStartTLSError as exc:
        raise ConnectionFailed(f"StartTLS failed ({_reason(exc)})", where=where, fix=_CA_FIX) from None
    except LDAPException as exc:
        raise ConnectionFailed(f"no LDAP answer ({_reason(exc)})", where=where, fix=f"check [ldap] url ({_PORTS}) and the directory's log") from None
    except (KeyError, IndexError, ValueError):  # ldap3 fails this way decoding an answer that is not LDAP (e.g. a web server on that port)
        raise ConnectionFailed("the answer is not LDAP", where=where, fix=f"check the port in [ldap] url ({_PORTS})") from None


def _reason(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    while text.startswith(("('", '("')) and text.endswith(("',)", '",)')):
        text = text[2:-3]
    return text.replace("socket connection error while opening: ", "")


_PORTS = "the usual ports: 389 for ldap://, 636 for ldaps://"
_CA_FIX = "set [ldap] ca_file to the CA that signed the directory's certificate"
