"""The web app's settings: ``[web]`` in plancheck.toml, with safe defaults (loopback, no SSO header, Lax cookies).

``secret_key`` signs the session cookie. It comes from ``PLANCHECK_WEB_SECRET``, else from a key file
next to plancheck.toml (made once, readable by its owner only); it is never written into plancheck.toml.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plancheck.config import Config
from plancheck.errors import ConfigError

SECRET_ENV = "PLANCHECK_WEB_SECRET"
KEY_FILE = "plancheck-web.key"
SAME_SITE = ("lax", "strict")


@dataclass(frozen=True)
class WebSettings:
    secret_key: str
    cookie_secure: bool = False  # set behind HTTPS: the browser then sends the cookie over HTTPS only
    same_site: str = "lax"  # lax | strict
    session_hours: float = 8.0
    sso_header: str = ""  # e.g. X-Remote-User: the user a trusted reverse proxy authenticated (off when empty)
    sso_trusted: tuple[str, ...] = ("127.0.0.1",)  # the proxy addresses whose SSO header is believed

    @property
    def max_age_s(self) -> int:
        return int(self.session_hours * 3600)


def _secret(config: Config) -> str:
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    folder = config.path.parent if config.path else Path.cwd()
    key = folder / KEY_FILE
    if not key.exists():
        key.touch(mode=0o600)
        key.write_text(secrets.token_urlsafe(32), encoding="utf-8")
    text = key.read_text(encoding="utf-8").strip()
    if len(text) < 16:
        raise ConfigError("the web session key is too short", where=str(key), fix=f"delete it (a new one is made) or set {SECRET_ENV}")
    return text


def web_settings(config: Config, **overrides: Any) -> WebSettings:
    """``[web]`` of ``config`` (cookie_secure, same_site, session_hours, sso_header, sso_trusted), then ``overrides``."""
    section = dict(config.extra.get("web") or {})
    section.update(overrides)
    where = f"{config.path or 'plancheck.toml'} [web]"
    same_site = str(section.get("same_site", "lax")).lower()
    if same_site not in SAME_SITE:
        raise ConfigError(f"same_site = {same_site!r} is not one of {', '.join(SAME_SITE)}", where=where, fix='use "lax" or "strict"')
    trusted = section.get("sso_trusted", ["127.0.0.1"])
    if isinstance(trusted, str):
        trusted = [trusted]
    return WebSettings(
        secret_key=str(section.get("secret_key") or _secret(config)),
        cookie_secure=bool(section.get("cookie_secure", False)),
        same_site=same_site,
        session_hours=float(section.get("session_hours", 8.0)),
        sso_header=str(section.get("sso_header", "")),
        sso_trusted=tuple(str(t) for t in trusted),
    )
