"""Every name a resolved rule set uses must exist: a typo is an error when the file loads,
never an ``error: unknown name`` on every run, nor a ``match:`` that silently never holds.

Checked against the vocabulary, the set's own (and inherited) ``vars``, and the known
functions: bare names and ``source.param`` in ``expect``, ``when`` and ``match``, the
parameter and source names written as text inside ``present('...')``, ``same('...')``,
``count(...)`` and the like, the number of arguments of each function, the patterns of
``matches()``, and the ``{placeholders}`` of messages.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from plancheck.rules.expr import FUNCTIONS, Expression
from plancheck.rules.model import RuleSet
from plancheck.rules.problems import Problems, did_you_mean
from plancheck.table import SOURCES
from plancheck.vocabulary import SCOPES, VOCABULARY

PLACEHOLDER = re.compile(r"\{(\w+)\}")
BUILTIN_NAMES = ("beam", "item", "true", "false", "none")
# function: (fewest, most) arguments; None = no upper bound
ARITY: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1), "min": (1, None), "max": (1, None), "round": (1, 2), "len": (1, 1), "lower": (1, 1), "upper": (1, 1),
    "matches": (2, 2), "date": (1, 1), "days_between": (2, 2), "percent_diff": (2, 2), "present": (1, 2), "value": (1, 2),
    "same": (1, 2), "any_beam": (2, 2), "beams_with": (1, 1), "all_beams": (2, 2), "count": (3, 3), "today": (0, 0), "days_since": (1, 1), "has_source": (1, 1),
}
# which literal arguments name what: function -> {argument index: "param" | "source" | "scope" | "pattern"}
LITERAL_ARGS: dict[str, dict[int, str]] = {
    "present": {0: "param", 1: "source"}, "value": {0: "param", 1: "source"}, "same": {0: "param", 1: "source"},
    "any_beam": {0: "param"}, "all_beams": {0: "param"}, "beams_with": {0: "param"}, "count": {0: "scope", 1: "param"}, "has_source": {0: "source"},
    "matches": {1: "pattern"},
}
assert set(ARITY) == set(FUNCTIONS), "every function needs its arity"


def _literal_problem(role: str, value: str) -> str:
    """What is wrong with a literal argument naming a parameter, source, scope or pattern ('' when nothing)."""
    if role == "param" and value not in VOCABULARY:
        return f"{value!r} is not a parameter of the vocabulary; {did_you_mean(value, VOCABULARY) or 'see `plancheck rules params`'}"
    if role == "source" and value not in SOURCES and value != "*":
        return f"{value!r} is not a source ({', '.join(SOURCES)})"
    if role == "scope" and value not in SCOPES:
        return f"{value!r} is not a scope ({', '.join(SCOPES)})"
    if role == "pattern":
        try:
            re.compile(value)
        except re.error as exc:
            return f"pattern {value!r} is not a valid regular expression ({exc})"
    return ""


def call_problems(expr: Expression) -> list[str]:
    """Arity and literal-argument problems of every function call in the expression."""
    out = []
    for node in ast.walk(expr.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ARITY):
            continue
        name, n = node.func.id, len(node.args)
        low, high = ARITY[name]
        if n < low or (high is not None and n > high):
            wanted = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            out.append(f"{name}() takes {wanted} argument(s), given {n}")
        for index, role in LITERAL_ARGS.get(name, {}).items():
            arg = node.args[index] if index < n else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (problem := _literal_problem(role, arg.value)):
                out.append(f"{name}(): {problem}")
    return out


def unknown_names(names: Any, known_vars: dict[str, Any]) -> list[str]:
    """Names that are neither parameters, variables, functions nor built-ins, each with a suggestion."""
    known = set(VOCABULARY) | set(known_vars)
    out = []
    for name in sorted(names):
        if name in known or name in FUNCTIONS or name in BUILTIN_NAMES:
            continue
        hint = did_you_mean(name, known)
        out.append(f"unknown name {name!r}: not a parameter of the vocabulary nor a variable of this rule set" + (f"; {hint}" if hint else ""))
    return out


def check_expression(expr: Expression | None, label: str, where: str, known_vars: dict[str, Any], problems: Problems) -> None:
    if expr is None:
        return
    for problem in unknown_names(expr.names, known_vars) + call_problems(expr):
        problems.add(f"{label}: {problem}", where, "see `plancheck rules params` for the names")


def check_names(rs: RuleSet, match_where: str, problems: Problems) -> None:
    """Every name used by a resolved set's checks, messages and match exists."""
    check_expression(rs.match, f"rule set {rs.name} match", match_where, rs.vars, problems)
    for check in rs.checks.values():
        where = {key: check.origins.get(key, check.origin) for key in ("expect", "when", "message")}
        check_expression(check.expect, f"check {check.id} expect", where["expect"], rs.vars, problems)
        check_expression(check.when, f"check {check.id} when", where["when"], rs.vars, problems)
        placeholders = set(PLACEHOLDER.findall(check.message))
        for problem in unknown_names(placeholders, rs.vars):
            problems.add(f"check {check.id} message {{placeholder}}: {problem}", where["message"])
