"""One rule file's declarations into the model: checks, manual items, tolerances and variables.

Each function records what is wrong in a :class:`Problems` (file and line, and the fix)
and goes on, so one run names every problem of a file. Numbers are validated where
they enter: a tolerance, action level or variable must be a finite number, a
tolerance no larger than its action level.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plancheck.rules.expr import ExprError, Expression, compile_expression
from plancheck.rules.model import CHECK_KINDS, FOR_EACH, ManualItem, RuleCheck, Tolerance
from plancheck.rules.problems import Problems, did_you_mean, finite_number
from plancheck.table import SOURCES
from plancheck.vocabulary import VOCABULARY
from plancheck.yamlfile import LineDict

CHECK_KEYS = {"id", "name", "kinds", "type", "expect", "when", "for_each", "level", "message", "with", "reference"}
MANUAL_KEYS = {"id", "text", "kinds", "reference"}
# value types of `with:` a registered check type may declare
WITH_VALUES = {
    "source": "a source name",
    "bool": "true or false",
    "positive": "a number above 0",
    "percent": "a number from 0 to 100",
    "count": "a whole number of at least 1",
}


def at(path: Path, line: int) -> str:
    return f"{path}:{line}"


def unknown_keys(node: LineDict, allowed: set[str], path: Path, what: str, problems: Problems) -> None:
    for key in node:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed) or f"allowed: {', '.join(sorted(allowed))}"
            problems.add(f"{what} has unknown key {key!r}", at(path, node.line_of(key)), hint)


def expression(text: Any, where: str, field: str, problems: Problems) -> Expression | None:
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        problems.add(f"{field}: must be an expression written as text", where)
        return None
    try:
        return compile_expression(str(text), SOURCES)
    except ExprError as exc:
        problems.add(f"{field}: {exc}", where)
        return None


def kinds_of(value: Any, where: str, problems: Problems) -> tuple[str, ...]:
    if value is None:
        return CHECK_KINDS
    kinds = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else None
    if kinds is None or not all(isinstance(k, str) for k in kinds):
        problems.add("kinds must be a list of check kinds", where, f"use {', '.join(CHECK_KINDS)}")
        return CHECK_KINDS
    bad = [k for k in kinds if k not in CHECK_KINDS]
    if bad:
        problems.add(f"unknown check kind(s) {bad}", where, f"use {', '.join(CHECK_KINDS)}")
    return tuple(k for k in kinds if k in CHECK_KINDS)


def _with_value(kind: str, value: Any) -> bool:
    number = finite_number(value)
    match kind:
        case "source":
            return value in SOURCES
        case "bool":
            return isinstance(value, bool)
        case "positive":
            return number is not None and number > 0
        case "percent":
            return number is not None and 0 <= number <= 100
        case "count":
            return number is not None and number >= 1 and float(number).is_integer()
    return True


def with_params(node: Any, ctype: str, check_types: Mapping[str, Mapping[str, str] | None], path: Path, line: int, label: str, problems: Problems) -> dict[str, Any]:
    """The ``with:`` mapping of a registered check type, each key and value checked against what the type declares."""
    if node is None:
        return {}
    if not isinstance(node, LineDict):
        problems.add(f"{label}: `with:` must be a mapping of settings", at(path, line))
        return {}
    if ctype == "expression":
        problems.add(f"{label}: `with:` is only for a registered type (e.g. delivery.gamma)", at(path, line))
        return {}
    accepts = check_types.get(ctype)
    for key, value in node.items():
        where = at(path, node.line_of(key))
        if accepts is None:  # a check type that declares nothing: nothing to check against
            break
        if key not in accepts:
            hint = did_you_mean(str(key), accepts) or f"accepted: {', '.join(sorted(accepts))}"
            problems.add(f"{label}: `with:` key {key!r} is not a setting of this check type", where, hint)
        elif not _with_value(accepts[key], value):
            shown = ", ".join(SOURCES) if accepts[key] == "source" else WITH_VALUES[accepts[key]]
            problems.add(f"{label}: `with: {key}` is {value!r}; it must be {WITH_VALUES[accepts[key]]}", where, f"use {shown}")
    return dict(node)


def _check_fields(node: LineDict, path: Path, cid: str, check_types: Mapping[str, Mapping[str, str] | None], problems: Problems) -> tuple[str, str | None, str]:
    where = at(path, node.line)
    ctype = node.get("type", "expression")
    if ctype != "expression" and ctype not in check_types:
        hint = did_you_mean(str(ctype), check_types) or f"known: expression, {', '.join(sorted(check_types))}"
        problems.add(f"check {cid}: unknown type {ctype!r}", at(path, node.line_of("type")), hint)
    if ctype == "expression" and "expect" not in node:
        problems.add(f"check {cid}: an expression check needs `expect:`", where)
    for_each = node.get("for_each")
    if for_each is not None and for_each not in FOR_EACH:
        problems.add(f"check {cid}: for_each {for_each!r} is not one of {', '.join(FOR_EACH)}", at(path, node.line_of("for_each")))
        for_each = None
    level = node.get("level", "fail")
    if level not in ("fail", "warn"):
        problems.add(f"check {cid}: level must be fail or warn", at(path, node.line_of("level")))
    for key in ("name", "message", "reference"):
        if key in node and not isinstance(node[key], (str, int, float)):
            problems.add(f"check {cid}: {key} must be text", at(path, node.line_of(key)))
    return str(ctype), for_each, str(level)


def parse_check(node: Any, path: Path, line: int, check_types: Mapping[str, Mapping[str, str] | None], problems: Problems) -> RuleCheck | None:
    if not isinstance(node, LineDict):
        problems.add("each entry of `checks:` must be a mapping with id and expect (or type)", at(path, line))
        return None
    unknown_keys(node, CHECK_KEYS, path, "check", problems)
    if not isinstance(node.get("id"), str) or not node["id"].strip():
        problems.add("check has no `id:` (a name such as beam.mu_range)", at(path, node.line))
        return None
    cid = node["id"]
    ctype, for_each, level = _check_fields(node, path, cid, check_types, problems)
    exprs = {k: expression(node[k], at(path, node.line_of(k)), f"check {cid} {k}", problems) if k in node else None for k in ("expect", "when")}
    return RuleCheck(
        id=cid,
        name=str(node.get("name", cid)),
        kinds=kinds_of(node.get("kinds"), at(path, node.line_of("kinds")), problems),
        type=ctype,
        expect=exprs["expect"],
        when=exprs["when"],
        for_each=for_each,
        level=level,
        message=str(node.get("message", "")),
        params=with_params(node.get("with"), ctype, check_types, path, node.line_of("with"), f"check {cid}", problems),
        reference=str(node.get("reference", "")),
        origin=at(path, node.line),
        origins={str(k): at(path, node.line_of(k)) for k in node},
    )


def parse_manual(node: Any, path: Path, line: int, problems: Problems) -> ManualItem | None:
    if not isinstance(node, LineDict) or not isinstance(node.get("id"), str) or "text" not in node:
        problems.add("each entry of `manual:` needs id and text", at(path, getattr(node, "line", line)))
        return None
    unknown_keys(node, MANUAL_KEYS, path, "manual item", problems)
    return ManualItem(node["id"], str(node["text"]), kinds_of(node.get("kinds"), at(path, node.line_of("kinds")), problems), at(path, node.line))


def _level(value: Any, what: str, where: str, problems: Problems) -> float | None:
    number = finite_number(value)
    if number is None or number < 0:
        problems.add(f"{what} is {value!r}; it must be a finite number, 0 or more", where, "write a number such as 0.5 (not .nan, .inf or text)")
        return None
    return number


def parse_tolerance(param: Any, spec: Any, path: Path, line: int, problems: Problems) -> Tolerance | None:
    where = at(path, line)
    if param not in VOCABULARY:
        problems.add(f"tolerance for unknown parameter {param!r}", where, did_you_mean(str(param), VOCABULARY) or "see `plancheck rules params`")
        return None
    if VOCABULARY[param].value_type not in ("number", "angle"):
        problems.add(f"tolerance for {param}: a {VOCABULARY[param].value_type} parameter is compared exactly and takes no tolerance", where)
        return None
    if not isinstance(spec, LineDict):
        tol = _level(spec, f"tolerance for {param}", where, problems)
        return Tolerance(tol, tol) if tol is not None else None
    unknown_keys(spec, {"tolerance", "action"}, path, f"tolerance for {param}", problems)
    if "tolerance" not in spec:
        problems.add(f"tolerance for {param} must be a number or {{tolerance: x, action: y}}", where)
        return None
    tol = _level(spec["tolerance"], f"tolerance for {param}", at(path, spec.line_of("tolerance")), problems)
    action = _level(spec.get("action", spec["tolerance"]), f"action level for {param}", at(path, spec.line_of("action")), problems)
    if tol is None or action is None:
        return None
    if tol > action:
        problems.add(f"tolerance for {param} ({tol:g}) is above its action level ({action:g})", where, "the tolerance must not exceed the action level")
        return None
    return Tolerance(tol, action)


def mapping(node: Any, path: Path, line: int, shape: str, problems: Problems) -> LineDict:
    """The mapping under a key (empty when absent); a problem naming the expected ``shape`` when it is not one."""
    if node is None:
        return LineDict()
    if not isinstance(node, LineDict):
        problems.add(f"must be a mapping: {shape}", at(path, line))
        return LineDict()
    return node


def parse_tolerances(node: Any, path: Path, line: int, problems: Problems) -> dict[str, Tolerance]:
    node = mapping(node, path, line, "tolerances: {param: {tolerance: x, action: y}}", problems)
    out = {}
    for param, spec in node.items():
        tol = parse_tolerance(param, spec, path, node.line_of(param), problems)
        if tol is not None:
            out[str(param)] = tol
    return out


def parse_vars(node: Any, path: Path, line: int, problems: Problems) -> dict[str, Any]:
    """Rule-set variables: names that are not vocabulary parameters, numbers finite."""
    node = mapping(node, path, line, "vars: {name: value}", problems)
    out = {}
    for name, value in node.items():
        where = at(path, node.line_of(name))
        if not isinstance(name, str) or not name.isidentifier():
            problems.add(f"variable name {name!r} must be a plain name (letters, digits, _)", where)
        elif name in VOCABULARY:
            problems.add(f"variable {name!r} has the name of a vocabulary parameter", where, "choose another name: the variable would hide the parameter")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and finite_number(value) is None:
            problems.add(f"variable {name} is {value!r}; a number must be finite", where, "write a number such as 999 (not .nan or .inf)")
        elif isinstance(value, dict) or (isinstance(value, list) and not all(isinstance(v, str) or finite_number(v) is not None for v in value)):
            problems.add(f"variable {name} must be a number, text, or a list of them", where)
        else:
            out[name] = value
    return out
