"""Registered explicit-check types beyond plain expressions (e.g. ``delivery.gamma``).

Each check type is a function ``(check, context) -> list[CheckResult]`` and the ``with:``
keys it accepts, each with the value type it takes (so a rule file that
misspells one is rejected when it loads). A rule names its type with ``type:``.
The table is explicit (no registration as a side effect of import): add a check type here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plancheck.checks.context import CheckContext
from plancheck.checks.delivery_gamma import ACCEPTS as GAMMA_ACCEPTS
from plancheck.checks.delivery_gamma import run_gamma_check
from plancheck.checks.results import CheckResult
from plancheck.rules.model import RuleCheck

CheckFunction = Callable[[RuleCheck, CheckContext], list[CheckResult]]


@dataclass(frozen=True)
class CheckType:
    """A registered check type: what runs it, and its ``with:`` keys (key -> source | bool | positive | percent | count)."""

    run: CheckFunction
    accepts: Mapping[str, str]

    def __call__(self, check: RuleCheck, ctx: CheckContext) -> list[CheckResult]:
        return self.run(check, ctx)


CHECK_TYPES: dict[str, CheckType] = {
    "delivery.gamma": CheckType(run_gamma_check, GAMMA_ACCEPTS),
}
