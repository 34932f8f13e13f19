"""plancheck.toml: where MOSAIQ is, the folders, the machines and the rule folders.

Paths in the file are relative to the file. The MOSAIQ password is never in it:
it comes from the environment (``PLANCHECK_MOSAIQ_PASSWORD``) or the keyring.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plancheck.configvalues import Where, decode_toml, number, numbers, table, tables, text, texts
from plancheck.errors import ConfigError
from plancheck.record.settings import BatchSettings, WorklistSettings, batch_settings, worklist_settings
from plancheck.record.ldap_settings import LdapSettings, ldap_settings
from plancheck.registry import FOLDER_KEYS
from plancheck.sources.mosaiq.settings import MosaiqSettings, mosaiq_settings

DEFAULT_NAME = "plancheck.toml"


@dataclass(frozen=True)
class Machine:
    name: str
    type: str = "elekta"  # elekta | varian
    icom_ip: str = ""
    icom_port: int = 1706
    max_gantry_speed_dps: float = 6.0
    max_dose_rate_mu_min: float = 600.0
    dose_rate_steps: tuple[float, ...] = ()  # empty: factor-of-two steps below the maximum (Elekta)


@dataclass(frozen=True)
class Config:
    mosaiq_url: str = field(default="", repr=False)  # may hold a password given on the command line: see mosaiq_where
    mosaiq_timeout_s: int = 30
    mosaiq: MosaiqSettings = field(default_factory=MosaiqSettings)  # the clinic's MOSAIQ codes ([mosaiq] in plancheck.toml)
    dicom_dir: Path | None = None
    monaco_dir: Path | None = None
    icom_dir: Path | None = None
    trf_dir: Path | None = None
    pdf_dir: Path | None = None
    documents_dir: Path | None = None  # where MOSAIQ keeps the files its Object/ObjFilenames rows name
    escan_dir: Path | None = None
    results_url: str = field(default="", repr=False)  # [results] url: the chart-check record (plancheck.record.db)
    worklist: WorklistSettings = field(default_factory=WorklistSettings)  # [worklist]: when checks fall due
    batch: BatchSettings = field(default_factory=BatchSettings)  # [batch]: workers and MOSAIQ connections of `plancheck batch`
    ldap: LdapSettings | None = None  # [ldap]: log-in against the hospital's directory (plancheck.record.ldap)
    folders: dict[str, Path] = field(default_factory=dict)  # every [folders] entry, by key (a new source reads its own)
    output_dir: Path = Path("plancheck-results")
    rule_dirs: tuple[Path, ...] = ()
    machines: dict[str, Machine] = field(default_factory=dict)
    calc_algorithms: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mosaiq_where(self) -> str:
        """The MOSAIQ URL as it may be shown: any password removed."""
        from plancheck.sources.mosaiq.guard import redact_url

        return redact_url(self.mosaiq_url)

    def machine(self, name: str) -> Machine:
        return self.machines.get(name.upper(), Machine(name=name.upper()))


_FOLDER_KEYS = (*FOLDER_KEYS, "documents", "escan", "output")  # the sources' folders: plancheck.registry


ENV_VAR = "PLANCHECK_CONFIG"


def find_config() -> tuple[Path, str] | None:
    """The plancheck.toml to use when none is named, and where it was found: ``$PLANCHECK_CONFIG``, then ./plancheck.toml."""
    named = os.environ.get(ENV_VAR, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"{ENV_VAR} names {named}, which is not a file", fix=f"set {ENV_VAR} to the path of your plancheck.toml, or unset it")
        return path, ENV_VAR
    candidate = Path(DEFAULT_NAME)
    return (candidate, "working folder") if candidate.is_file() else None


def load_config(path: str | Path | None = None) -> Config:
    """Read plancheck.toml; no path: the one :func:`find_config` finds, or the defaults when there is none."""
    if path is None:
        found = find_config()
        if found is None:
            return Config()
        path = found[0]
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} not found", fix="pass --config with the path of your plancheck.toml, or run `plancheck demo` to make one")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read ({exc.strerror})", where=str(path)) from None
    content = decode_toml(raw, path)
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", where=str(path), fix="fix the line named") from None
    return config_from_dict(data, path, content)


def _machine(entry: dict[str, Any], at: Where) -> Machine:
    """One [[machines]] entry, every number finite and in range."""
    name = text(entry, "name", "", at, "[[machines]] ").strip().upper()
    if not name:
        raise ConfigError("a [[machines]] entry has no name", where=at.of("machines"), fix='add name = "AGILITY1"')
    label = f"[[machines]] {name}: "
    kind = text(entry, "type", "elekta", at, label).lower()
    max_rate = number(entry, "max_dose_rate_mu_min", 600.0, at, label, low=0, high=10000)
    return Machine(
        name=name,
        type=kind,
        icom_ip=text(entry, "icom_ip", "", at, label),
        icom_port=int(number(entry, "icom_port", 1706, at, label, low=1, high=65535, integer=True)),
        max_gantry_speed_dps=number(entry, "max_gantry_speed_dps", 6.0 if kind == "elekta" else 4.8, at, label, low=0, high=20),
        max_dose_rate_mu_min=max_rate,
        dose_rate_steps=numbers(entry, "dose_rate_steps", at, label, high=max_rate),
    )


def _results_url(url: str, base: Path) -> str:
    """A relative SQLite path in [results] url is relative to plancheck.toml, like the folders."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix):]).resolve())
    return url


def config_from_dict(data: dict[str, Any], path: Path | None = None, content: str = "") -> Config:
    base = path.parent if path else Path.cwd()
    at = Where(path, content)

    def folder(value: Any, key: str) -> Path:
        if not isinstance(value, str):
            raise ConfigError(f"[folders] {key} must be a path in quotes", where=at.of(key.split(".")[-1]))
        try:
            p = Path(value).expanduser()
        except RuntimeError:  # ~user that does not exist
            raise ConfigError(f"[folders] {key}: cannot expand {value!r}", where=at.of(key.split(".")[-1]), fix="write the full path") from None
        return p if p.is_absolute() else (base / p)

    mosaiq = table(data, "mosaiq", at)
    folders = table(data, "folders", at)
    where = str(path) if path else "config"
    unknown = set(folders) - set(_FOLDER_KEYS)
    if unknown:
        raise ConfigError(f"[folders] has unknown key(s) {', '.join(sorted(unknown))}", where=where, fix=f"use {', '.join(_FOLDER_KEYS)}")
    if "password" in mosaiq:
        raise ConfigError("[mosaiq] must not hold a password", where=where, fix="set PLANCHECK_MOSAIQ_PASSWORD or store it in the keyring (see README)")
    machines = {m.name: m for m in (_machine(entry, at) for entry in tables(data, "machines", at))}
    rules = table(data, "rules", at)
    checks = table(data, "checks", at)
    results = table(data, "results", at)
    if "password" in results:
        raise ConfigError("[results] must not hold a password", where=where, fix="set PLANCHECK_RESULTS_PASSWORD")
    known = {"mosaiq", "folders", "machines", "rules", "checks", "results", "worklist", "batch", "ldap"}
    return Config(
        mosaiq_url=text(mosaiq, "url", "", at, "[mosaiq] "),
        mosaiq_timeout_s=int(number(mosaiq, "timeout_s", 30, at, "[mosaiq] ", low=1, high=3600, integer=True)),
        mosaiq=mosaiq_settings(mosaiq, at),
        dicom_dir=folder(folders["dicom"], "dicom") if "dicom" in folders else None,
        monaco_dir=folder(folders["monaco"], "monaco") if "monaco" in folders else None,
        icom_dir=folder(folders["icom"], "icom") if "icom" in folders else None,
        trf_dir=folder(folders["trf"], "trf") if "trf" in folders else None,
        pdf_dir=folder(folders["pdf"], "pdf") if "pdf" in folders else None,
        documents_dir=folder(folders["documents"], "documents") if "documents" in folders else None,
        escan_dir=folder(folders["escan"], "escan") if "escan" in folders else None,
        results_url=_results_url(text(results, "url", "", at, "[results] "), base),
        worklist=worklist_settings(table(data, "worklist", at), at),
        batch=batch_settings(table(data, "batch", at), at),
        ldap=ldap_settings(data, at, base),
        folders={key: folder(value, key) for key, value in folders.items()},
        output_dir=folder(folders["output"], "output") if "output" in folders else base / "plancheck-results",
        rule_dirs=tuple(folder(p, "rules.dirs") for p in texts(rules, "dirs", at, "[rules] ")),
        machines=machines,
        calc_algorithms=dict(table(checks, "calc_algorithms", at)),
        path=path,
        extra={k: v for k, v in data.items() if k not in known},
    )
