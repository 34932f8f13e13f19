"""Run every check a rule set declares for a check kind over a collected table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from plancheck.checks.context import CheckContext
from plancheck.checks.explicit import manual_result, run_check
from plancheck.checks.implicit import implicit_checks
from plancheck.checks.results import CheckResult, Status
from plancheck.config import Config
from plancheck.errors import RuleError
from plancheck.rules.expr import ExprError
from plancheck.rules.loader import RuleLibrary
from plancheck.rules.model import RuleSet
from plancheck.table import ParamTable


def source_error_results(table: ParamTable) -> list[CheckResult]:
    """A source that could not be read is itself a result: never silently missing."""
    return [
        CheckResult(id=f"source.{name}", name=f"{name} read", kind="explicit", status=Status.ERROR, message=message)
        for name, message in table.source_errors.items()
    ]


def run_checks(
    table: ParamTable, rule_set: RuleSet, kind: str, config: Config | None = None, today: dt.datetime | None = None,
    patient_id: str = "", figure_dir: Path | None = None, progress: Callable[[str, int], None] | None = None,
) -> list[CheckResult]:
    """Every check of ``kind``: source errors, implicit, explicit, manual; figures (if any) into ``figure_dir``."""
    ctx = CheckContext(table, rule_set, config or Config(), today or dt.datetime.now(), patient_id, figure_dir)
    results = source_error_results(table)
    results += implicit_checks(table, rule_set.tolerances)
    checks = rule_set.checks_for(kind)
    for check in checks:
        if progress:
            progress(check.id, len(checks))
        results += run_check(check, ctx)
    results += [manual_result(item) for item in rule_set.manual_for(kind)]
    return results


def select_rule_set(library: RuleLibrary, table: ParamTable, today: dt.datetime, name: str | None = None) -> RuleSet:
    """The named set, or the most specific set whose ``match:`` holds for this plan."""
    if name:
        return library.get(name)
    def applies(rs: RuleSet) -> bool:
        """A set applies where its own ``match:`` and every ancestor's hold (photon-3d only for photons)."""
        own = [library.get(name).match for name in rs.lineage]
        scope = CheckContext(table, rs, Config(), today).scope()
        try:
            return any(m is not None for m in own) and all(m is None or m.evaluate(scope) for m in own)
        except ExprError:
            return False

    scored = [(len(rs.lineage), rs) for rs in library.validate() if rs.match is not None and applies(rs)]
    if not scored:
        return library.get("general")
    depth = max(d for d, _ in scored)
    best = [rs for d, rs in scored if d == depth]
    if len(best) > 1:
        raise RuleError(
            f"more than one rule set fits this plan: {', '.join(rs.name for rs in best)}",
            fix="pass --rules NAME, or make their `match:` expressions exclusive",
        )
    return best[0]
