"""Registered explicit-check kinds beyond plain expressions (e.g. ``delivery.gamma``).

Each kind is a function ``(check, context) -> list[CheckResult]``. The table is
explicit (no registration as a side effect of import): add a kind here.
"""

from __future__ import annotations

from typing import Callable

from plancheck.checks.context import CheckContext
from plancheck.checks.delivery_gamma import run_gamma_check
from plancheck.checks.results import CheckResult
from plancheck.rules.model import RuleCheck

KindFunction = Callable[[RuleCheck, CheckContext], list[CheckResult]]

KINDS: dict[str, KindFunction] = {
    "delivery.gamma": run_gamma_check,
}
