"""The Python API for notebooks: collect a patient's parameters, run the checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from collections.abc import Callable

from plancheck.checks.engine import run_checks, select_rule_set
from plancheck.checks.check_types import CHECK_TYPES
from plancheck.checks.results import CheckRun
from plancheck.collector import collect as _collect
from plancheck.config import Config, load_config
from plancheck.rules.loader import RuleLibrary
from plancheck.rules.model import CHECK_KINDS
from plancheck.errors import PlancheckError
from plancheck.table import ParamTable


def _config(config: Config | str | Path | None) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def rule_library(config: Config) -> RuleLibrary:
    return RuleLibrary(config.rule_dirs, registered=CHECK_TYPES)


def collect(patient_id: str, *, plan: str | None = None, config: Config | str | Path | None = None) -> ParamTable:
    """The collected table (``.df`` for pandas) of one patient's plan from every configured source."""
    return _collect(patient_id, plan, _config(config))


def check_table(
    table: ParamTable,
    *,
    patient_id: str,
    kind: str = "initial",
    config: Config | None = None,
    rules: str | None = None,
    today: dt.datetime | None = None,
    figure_dir: Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CheckRun:
    """Run the checks on an already collected (or edited) table; figures (gamma pages) go to ``figure_dir``."""
    from plancheck.version import __version__

    if kind not in CHECK_KINDS:
        raise PlancheckError(f"unknown check kind {kind!r}", fix=f"use one of {', '.join(CHECK_KINDS)}")
    config = config or Config()
    today = today or dt.datetime.now().replace(microsecond=0)
    rule_set = select_rule_set(rule_library(config), table, today, rules)
    results = run_checks(table, rule_set, kind, config, today, patient_id, figure_dir, progress)
    plan = next((r.value for r in table.select(param="plan_label")), "") or ""
    return CheckRun(patient_id, str(plan), kind, rule_set.name, table, results, version=__version__, warnings=list(table.warnings),
                    as_of=today.isoformat())


def check(
    patient_id: str,
    *,
    plan: str | None = None,
    kind: str = "initial",
    config: Config | str | Path | None = None,
    rules: str | None = None,
    today: dt.datetime | None = None,
) -> CheckRun:
    """Collect and check one patient: ``kind`` is initial, weekly or final."""
    cfg = _config(config)
    table = _collect(patient_id, plan, cfg)
    return check_table(table, patient_id=patient_id, kind=kind, config=cfg, rules=rules, today=today)
