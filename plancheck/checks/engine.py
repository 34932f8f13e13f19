"""Run every check a rule set declares for a check kind over a collected table.

(``select_rule_set``, which chooses the set, lives in :mod:`plancheck.checks.selection`.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from collections.abc import Callable

from plancheck.checks.context import CheckContext
from plancheck.checks.explicit import manual_result, run_check
from plancheck.checks.implicit import implicit_checks
from plancheck.checks.results import CheckResult, Status
from plancheck.config import Config
from plancheck.checks.selection import part_filter, select_rule_set, unsupported_results
from plancheck.rules.model import BEAM_EACH, RuleSet
from plancheck.table import ParamTable


def source_error_results(table: ParamTable) -> list[CheckResult]:
    """A source that could not be read is itself a result: never silently missing."""
    return [
        CheckResult(id=f"source.{name}", name=f"{name} read", origin="explicit", status=Status.ERROR, message=message)
        for name, message in table.source_errors.items()
    ]


def run_checks(
    table: ParamTable, rule_set: RuleSet, kind: str, config: Config | None = None, today: dt.datetime | None = None,
    patient_id: str = "", figure_dir: Path | None = None, progress: Callable[[str, int], None] | None = None,
) -> list[CheckResult]:
    """Every check of ``kind``: source errors, implicit, explicit, manual; figures (if any) into ``figure_dir``.

    A composite set (beams of several modalities) runs its plan-level checks once and each
    part's per-beam checks on that part's beams; modalities no set fits are named as errors.
    """
    ctx = CheckContext(table, rule_set, config or Config(), today or dt.datetime.now(), patient_id, figure_dir)
    runs = [(check, ctx) for check in rule_set.checks_for(kind)]
    for index, part in enumerate(rule_set.parts):
        part_ctx = replace(ctx, rule_set=part.rule_set, beam_filter=part_filter(table, rule_set, index))
        runs += [(check, part_ctx) for check in part.rule_set.checks_for(kind) if check.for_each in BEAM_EACH]
    results = source_error_results(table) + unsupported_results(table, rule_set)
    results += implicit_checks(table, rule_set.tolerances)
    for check, check_ctx in runs:
        if progress:
            progress(check.id, len(runs))
        results += run_check(check, check_ctx)
    results += [manual_result(item) for item in rule_set.manual_for(kind)]
    return results


__all__ = ["run_checks", "select_rule_set", "source_error_results"]
