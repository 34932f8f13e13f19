"""A safe evaluator for the expressions in rule files (never Python's ``eval``).

An expression is parsed with :mod:`ast` and only a small whitelist of node
types is accepted: literals, names, ``source.param`` look-ups, comparisons,
``and``/``or``/``not``, arithmetic, ``x if c else y``, lists, and calls of the
functions named in :data:`FUNCTIONS`. Anything else is refused when the rule
file is loaded, so a bad expression is an error naming file and line, not a
surprise at check time.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Callable


class ExprError(ValueError):
    """An expression that is not allowed or cannot be evaluated."""


class MissingValue(ExprError):
    """A name the expression needs has no value in the collected table."""

    def __init__(self, name: str, where: str = "") -> None:
        self.name = name
        super().__init__(f"no value for {name}{' ' + where if where else ''}")


class Scope(Protocol):
    """What an expression sees: names resolve through it."""

    def lookup(self, name: str, source: str | None = None) -> Any: ...

    def call(self, name: str, args: list[Any]) -> Any: ...


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}


def _to_date(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ExprError(f"{value!r} is not a date") from None


def _matches(text: Any, pattern: str) -> bool:
    return re.fullmatch(pattern, "" if text is None else str(text)) is not None


# Pure functions: they see only their arguments. Functions that need the collected
# table (present, same, any_beam, count, today, ...) are provided by the Scope.
PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "len": len,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "matches": _matches,
    "date": _to_date,
    "days_between": lambda a, b: (_to_date(b) - _to_date(a)).total_seconds() / 86400.0,
    "percent_diff": lambda a, b: 100.0 * (float(a) - float(b)) / float(b),
}
SCOPE_FUNCTIONS = ("present", "value", "same", "any_beam", "all_beams", "beams_with", "count", "today", "days_since", "has_source")
FUNCTIONS = tuple(PURE_FUNCTIONS) + SCOPE_FUNCTIONS


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; ``names`` are the parameters it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, scope: Scope) -> Any:
        return _eval(self.tree.body, scope)


MAX_CHARS = 1000  # a rule expression is a line or two; longer is not hand-written
MAX_DEPTH = 40  # nesting of the parsed expression (keeps evaluation far from Python's recursion limit)


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _parse(text: str) -> ast.Expression:
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression is {len(text)} characters long; at most {MAX_CHARS}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"not a valid expression{column}: {text[:80]!r}") from None
    except (ValueError, RecursionError, MemoryError):  # a NUL byte; nesting beyond the parser's limits
        raise ExprError("not a valid expression (a NUL character, or nested too deeply)") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExprError(f"expression nested more than {MAX_DEPTH} levels deep")
    return tree


def compile_expression(text: str, known_sources: tuple[str, ...] = ()) -> Expression:
    """Parse and validate; ExprError says what is not allowed and where in the text."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("expression is empty")
    tree = _parse(text.strip())
    names: set[str] = set()
    for node in ast.walk(tree):
        _validate(node, known_sources, names)
    qualifiers = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return Expression(text.strip(), tree, frozenset(names - qualifiers))


_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Compare, ast.Name, ast.Load, ast.Constant, ast.Attribute, ast.Call,
    ast.List, ast.Tuple, ast.IfExp,
    *_BINOPS, *_CMPOPS,
)


def _validate(node: ast.AST, known_sources: tuple[str, ...], names: set[str]) -> None:
    if not isinstance(node, _ALLOWED):
        raise ExprError(f"{type(node).__name__} is not allowed in rule expressions (column {getattr(node, 'col_offset', 0) + 1})")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = ast.unparse(node.func)
            raise ExprError(f"unknown function {shown!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ExprError(f"{node.func.id}(): keyword arguments are not allowed")
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name) or (known_sources and node.value.id not in known_sources):
            raise ExprError(f"{ast.unparse(node)!r}: use source.param with a source among {', '.join(known_sources)}")
        names.add(node.attr)
    if isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id not in ("true", "false", "none"):
        names.add(node.id)


def _eval(node: ast.AST, scope: Scope) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id="true"):
            return True
        case ast.Name(id="false"):
            return False
        case ast.Name(id="none"):
            return None
        case ast.Name(id=name):
            return scope.lookup(name)
        case ast.Attribute(value=ast.Name(id=source), attr=name):
            return scope.lookup(name, source)
        case ast.BoolOp(op=ast.And(), values=values):
            result: Any = True
            for v in values:
                result = _eval(v, scope)
                if not result:
                    return result
            return result
        case ast.BoolOp(op=ast.Or(), values=values):
            result = False
            for v in values:
                result = _eval(v, scope)
                if result:
                    return result
            return result
        case ast.UnaryOp(op=unary, operand=operand):
            return _UNARY[type(unary)](_eval(operand, scope))
        case ast.BinOp(left=left, op=binary, right=right):
            return _BINOPS[type(binary)](_eval(left, scope), _eval(right, scope))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, scope)
            for cmp, comp in zip(ops, comparators, strict=False):
                other = _eval(comp, scope)
                if not _compare(cmp, current, other):
                    return False
                current = other
            return True
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body, scope) if _eval(test, scope) else _eval(orelse, scope)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, scope) for e in elts]
        case ast.Call(func=ast.Name(id=name), args=args):
            values = [_eval(a, scope) for a in args]
            if name in PURE_FUNCTIONS:
                try:
                    return PURE_FUNCTIONS[name](*values)
                except (TypeError, ValueError, ZeroDivisionError) as exc:
                    raise ExprError(f"{name}(): {exc}") from None
            return scope.call(name, values)
    raise ExprError(f"cannot evaluate {ast.unparse(node)!r}")


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    if (isinstance(a, (dt.date, dt.datetime)) or isinstance(b, (dt.date, dt.datetime))) and a is not None and b is not None and not isinstance(op, (ast.In, ast.NotIn)):
        a, b = _to_date(a), _to_date(b)
    if isinstance(a, str) and isinstance(b, str) and isinstance(op, (ast.Eq, ast.NotEq)):
        a, b = a.strip().upper(), b.strip().upper()
    try:
        return bool(_CMPOPS[type(op)](a, b))
    except TypeError:
        raise ExprError(f"cannot compare {a!r} with {b!r}") from None
