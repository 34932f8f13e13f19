"""Registered explicit-check kinds beyond plain expressions (e.g. ``delivery.gamma``).

Each kind is a function ``(check, context) -> list[CheckResult]`` and the ``with:``
keys it accepts, each with the kind of value it takes (so a rule file that
misspells one is rejected when it loads). The table is explicit (no registration
as a side effect of import): add a kind here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plancheck.checks.context import CheckContext
from plancheck.checks.delivery_gamma import ACCEPTS as GAMMA_ACCEPTS
from plancheck.checks.delivery_gamma import run_gamma_check
from plancheck.checks.results import CheckResult
from plancheck.rules.model import RuleCheck

KindFunction = Callable[[RuleCheck, CheckContext], list[CheckResult]]


@dataclass(frozen=True)
class CheckKind:
    """A registered kind: what runs it, and its ``with:`` keys (key -> source | bool | positive | percent | count)."""

    run: KindFunction
    accepts: Mapping[str, str]

    def __call__(self, check: RuleCheck, ctx: CheckContext) -> list[CheckResult]:
        return self.run(check, ctx)


KINDS: dict[str, CheckKind] = {
    "delivery.gamma": CheckKind(run_gamma_check, GAMMA_ACCEPTS),
}
