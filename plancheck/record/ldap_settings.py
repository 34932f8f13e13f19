"""``[ldap]`` in plancheck.toml: where the hospital's directory is and how a user name becomes a bind.

Two ways to find the account: ``user_dn``, a template bound to directly (``uid={username},ou=people,dc=...``,
or Active Directory's ``{username}@EXAMPLE.ORG``), or ``search_base`` + ``search_filter``, searched first
(by the service account ``bind_dn``, whose password comes from ``PLANCHECK_LDAP_PASSWORD``, never the file).
Read here and checked where it enters: each error names the key. The log-in itself is plancheck.record.ldap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plancheck.configvalues import Where, number, table, text
from plancheck.errors import ConfigError

PASSWORD_ENV = "PLANCHECK_LDAP_PASSWORD"  # the service account's password (bind_dn)
PLACEHOLDER = "{username}"
_KEYS = ("url", "user_dn", "search_base", "search_filter", "bind_dn", "starttls", "ca_file", "timeout_s", "group_base", "group_filter", "roles")
_LABEL = "[ldap] "


@dataclass(frozen=True)
class LdapSettings:
    urls: tuple[str, ...]  # tried in order: ldap://host[:port] or ldaps://host[:port]
    user_dn: str = ""  # bind name template with {username}: a DN, a UPN (name@REALM) or DOMAIN\name
    search_base: str = ""  # where to search the user's entry (before the bind, or after it to learn the DN)
    search_filter: str = "(uid={username})"
    bind_dn: str = ""  # the service account that searches; empty: search anonymously (or as the user, with user_dn)
    starttls: bool = False  # upgrade an ldap:// connection before the password is sent
    ca_file: Path | None = None  # the CA that signed the directory's certificate (default: the system's)
    timeout_s: int = 10  # seconds, to connect and for each answer
    group_base: str = ""  # where the groups are (needed by roles)
    group_filter: str = "(member={dn})"  # a group the user belongs to; {dn} is the user's DN
    roles: dict[str, str] = field(default_factory=dict)  # group DN (normalised) -> plancheck role

    @property
    def user_dn_is_dn(self) -> bool:
        """Whether ``user_dn`` is a distinguished name (``uid={username},...``) rather than a UPN or DOMAIN\\name."""
        head = self.user_dn.split(PLACEHOLDER)[0]
        return "=" in head


def normalise_dn(dn: str) -> str:
    """A DN compared as the directory compares it for these purposes: case and spaces around separators ignored."""
    parts = (part.split("=", 1) for part in re.split(r"(?<!\\),", dn))
    return ",".join("=".join(p.strip() for p in part) for part in parts).lower()


def ldap_settings(data: dict[str, Any], at: Where, base: Path) -> LdapSettings | None:
    """The ``[ldap]`` table of plancheck.toml (``data`` is the whole file); None when there is none."""
    if "ldap" not in data:
        return None
    section = table(data, "ldap", at)
    _no_secrets_or_typos(section, at)
    settings = LdapSettings(
        urls=_urls(section, at),
        user_dn=text(section, "user_dn", "", at, _LABEL).strip(),
        search_base=text(section, "search_base", "", at, _LABEL).strip(),
        search_filter=_filter(section, "search_filter", PLACEHOLDER, "(uid={username})", at),
        bind_dn=text(section, "bind_dn", "", at, _LABEL).strip(),
        starttls=_flag(section, "starttls", at),
        ca_file=_ca_file(section, at, base),
        timeout_s=int(number(section, "timeout_s", 10, at, _LABEL, low=0, high=300, integer=True)),
        group_base=text(section, "group_base", "", at, _LABEL).strip(),
        group_filter=_filter(section, "group_filter", "{dn}", "(member={dn})", at),
        roles=_roles(section, at),
    )
    _consistent(settings, at)
    return settings


def _header(at: Where, name: str = "ldap") -> str:
    """The file and line of the table header ``[name]`` (Where.of finds ``key =`` lines only)."""
    found = re.search(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*\]", at.text, re.MULTILINE) if at.text else None
    base = str(at.path) if at.path else "config"
    return f"{base}:{at.text.count(chr(10), 0, found.start()) + 1}" if found else base


def _no_secrets_or_typos(section: dict[str, Any], at: Where) -> None:
    secret = next((key for key in section if "password" in key.lower()), None)
    if secret:
        raise ConfigError("[ldap] must not hold a password", where=at.of(secret), fix=f"set {PASSWORD_ENV} for the service account bind_dn")
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(f"[ldap] has unknown key(s) {', '.join(unknown)}", where=at.of(unknown[0]), fix=f"use {', '.join(_KEYS)}")


def _urls(section: dict[str, Any], at: Where) -> tuple[str, ...]:
    value = section.get("url", "")
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls) or not any(u.strip() for u in urls):
        raise ConfigError(f"[ldap] url must be a URL in quotes or a list of them, not {value!r}", where=at.of("url") if "url" in section else _header(at),
                          fix='e.g. url = "ldaps://dc1.example.org"')
    for url in urls:
        if not url.strip().lower().startswith(("ldap://", "ldaps://")):
            raise ConfigError(f"[ldap] url {url!r} is not an ldap:// or ldaps:// URL", where=at.of("url"), fix='e.g. url = "ldaps://dc1.example.org"')
    return tuple(u.strip() for u in urls)


def _filter(section: dict[str, Any], key: str, placeholder: str, default: str, at: Where) -> str:
    value = text(section, key, default, at, _LABEL).strip()
    if not (value.startswith("(") and value.endswith(")") and placeholder in value):
        raise ConfigError(f"[ldap] {key} {value!r} must be an LDAP filter in parentheses naming {placeholder}", where=at.of(key),
                          fix=f'e.g. {key} = "{default}"')
    return value


def _flag(section: dict[str, Any], key: str, at: Where) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"[ldap] {key} must be true or false, not {value!r}", where=at.of(key))
    return value


def _ca_file(section: dict[str, Any], at: Where, base: Path) -> Path | None:
    name = text(section, "ca_file", "", at, _LABEL).strip()
    if not name:
        return None
    path = Path(name).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ConfigError(f"[ldap] ca_file {path} is not a file", where=at.of("ca_file"),
                          fix="name the PEM file of the CA that signed the directory's certificate")
    return path


def _roles(section: dict[str, Any], at: Where) -> dict[str, str]:
    roles = table(section, "roles", at)
    if not roles:
        return {}
    from plancheck.record.models import ROLES

    for group, role in roles.items():
        if role not in ROLES:
            raise ConfigError(f"[ldap.roles] {group!r} maps to {role!r}, not a role", where=at.of(group), fix=f"use one of {', '.join(ROLES)}")
    return {normalise_dn(group): role for group, role in roles.items()}


def _consistent(s: LdapSettings, at: Where) -> None:
    """The keys that only make sense together."""
    if not s.user_dn and not s.search_base:
        raise ConfigError("[ldap] needs user_dn (a bind template) or search_base (to search the user first)", where=_header(at),
                          fix='e.g. user_dn = "uid={username},ou=people,dc=example,dc=org" or user_dn = "{username}@EXAMPLE.ORG"')
    if s.user_dn and s.user_dn.count(PLACEHOLDER) != 1:
        raise ConfigError(f"[ldap] user_dn {s.user_dn!r} must name {PLACEHOLDER} once", where=at.of("user_dn"), fix='e.g. user_dn = "{username}@EXAMPLE.ORG"')
    if s.starttls and any(u.lower().startswith("ldaps://") for u in s.urls):
        raise ConfigError("[ldap] starttls is for ldap:// URLs; an ldaps:// URL is encrypted already", where=at.of("starttls"), fix="remove starttls or use ldap://")
    if s.roles and not s.group_base:
        raise ConfigError("[ldap.roles] needs [ldap] group_base, where the groups are", where=_header(at, "ldap.roles"),
                          fix='e.g. group_base = "ou=groups,dc=example,dc=org"')
    if s.roles and s.user_dn and not s.user_dn_is_dn and not s.search_base:
        raise ConfigError("[ldap.roles] with a user_dn that is not a DN needs search_base, to find the user's DN for the group search",
                          where=at.of("user_dn"), fix='e.g. search_base = "dc=example,dc=org" and search_filter = "(userPrincipalName={username}@EXAMPLE.ORG)"')
