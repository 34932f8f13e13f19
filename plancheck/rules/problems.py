"""Every problem in a rule file, collected: a person fixes them all in one pass, not one per run."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from plancheck.errors import RuleError


class RuleProblems(RuleError):
    """One or more rule-file problems; the message is the first, the list holds them all."""

    def __init__(self, problems: list[RuleError]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.what, where=first.where, fix=first.fix)

    @property
    def message(self) -> str:
        text = super().message
        more = len(getattr(self, "problems", ())) - 1
        return f"{text} (and {more} more problem(s): `plancheck rules validate` lists them all)" if more > 0 else text


class Problems:
    """Collects RuleErrors (each once, in the order found) and raises them together."""

    def __init__(self) -> None:
        self.items: list[RuleError] = []

    def add(self, what: str, where: str, fix: str = "") -> None:
        if not any((p.what, p.where) == (what, where) for p in self.items):
            self.items.append(RuleError(what, where=where, fix=fix))

    def extend(self, errors: Iterable[RuleError]) -> None:
        for e in errors:
            self.add(e.what, e.where, e.fix)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise RuleProblems(sorted(self.items, key=_file_order))


def _file_order(error: RuleError) -> tuple[str, int]:
    """File, then line: a person reads the problems top to bottom."""
    path, _, line = error.where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (error.where, 0)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    near = difflib.get_close_matches(str(word), sorted(known), n=1)
    return f"did you mean {near[0]!r}?" if near else ""


def finite_number(value: Any) -> float | None:
    """The value as a float when it is a real, finite number written as a number (not text, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
