"""The fault catalogue: each fault declared once, with the checks that must catch it.

The catalogue is validated when it loads, every problem at once with file and line:
each change's operation and its arguments (a number where the operation needs one,
a value that fits the parameter), and every expected check id must be a check the
rule sets (or the implicit cross-source comparison) can produce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from plancheck.rules.loader import RuleLibrary, read_rule_file
from plancheck.rules.model import CHECK_KINDS
from plancheck.rules.problems import Problems, did_you_mean, finite_number
from plancheck.simulate.mutations import OPERATIONS, Target
from plancheck.table import SOURCES
from plancheck.vocabulary import VOCABULARY
from plancheck.yamlfile import LineDict, LineList

FAULT_KEYS = {"id", "description", "kind", "changes", "expect"}
TARGET_KEYS = {"op", "source", "param", "beam", "item", "amount"}
NUMERIC = ("number", "angle")
# operation -> (parameter value types it works on, or None when it takes no parameter)
OP_PARAMS: dict[str, tuple[str, ...] | None] = {
    "set": ("number", "angle", "text", "bool", "date"), "scale": NUMERIC, "offset": NUMERIC, "offset_days": ("date",),
    "drop_beam": None, "add_beam": None, "shift_leaf_bank": None, "shift_leaf_pair": None, "drift_leaves": None, "short_mu": None,
}
assert set(OP_PARAMS) == set(OPERATIONS)


@dataclass(frozen=True)
class Fault:
    id: str
    description: str
    kind: str
    changes: tuple[Target, ...]
    expect: tuple[str, ...]
    origin: str


def default_catalogue_path() -> Path:
    return Path(str(resources.files("plancheck.simulate"))) / "faults.yaml"


def known_check_ids(library: RuleLibrary) -> set[str]:
    """Every check id a run can produce: the rule sets' checks and the implicit comparisons."""
    ids = {"implicit.beam_presence"} | {f"implicit.{name}" for name, spec in VOCABULARY.items() if spec.compare}
    for rs in library.validate():
        ids |= set(rs.checks)
    return ids


def _set_amount_problem(param: str, amount: Any) -> str:
    value_type = VOCABULARY[param].value_type
    if value_type in NUMERIC and finite_number(amount) is None:
        return f"amount {amount!r} must be a finite number for {param}"
    if value_type == "bool" and not isinstance(amount, bool):
        return f"amount {amount!r} must be true or false for {param}"
    if value_type == "date":
        try:
            dt.datetime.fromisoformat(str(amount))
        except ValueError:
            return f"amount {amount!r} must be an ISO date for {param}"
    if value_type == "text" and not isinstance(amount, (str, int, float)):
        return f"amount {amount!r} must be text for {param}"
    return ""


def _pair(amount: Any, first_max: int | None) -> bool:
    if not isinstance(amount, list) or len(amount) != 2 or finite_number(amount[1]) is None:
        return False
    index = finite_number(amount[0])
    return index is not None and index.is_integer() and index >= 0 and (first_max is None or index <= first_max)


def amount_problem(op: str, param: str, amount: Any) -> str:
    """What is wrong with a change's amount for its operation ('' when it fits)."""
    match op:
        case "set":
            return _set_amount_problem(param, amount) if param else "set needs a param"
        case "scale" | "short_mu":
            ok = finite_number(amount) is not None and float(amount) > 0
            return "" if ok else f"{op} needs a finite number above 0 as amount, got {amount!r}"
        case "offset" | "offset_days" | "drift_leaves":
            return "" if finite_number(amount) is not None else f"{op} needs a finite number as amount, got {amount!r}"
        case "shift_leaf_bank":
            return "" if _pair(amount, 1) else f"shift_leaf_bank needs amount [bank 0 or 1, mm], got {amount!r}"
        case "shift_leaf_pair":
            return "" if _pair(amount, None) else f"shift_leaf_pair needs amount [leaf pair index, mm], got {amount!r}"
        case "add_beam":
            return "" if amount is None or isinstance(amount, str) else f"add_beam takes a beam label as amount, got {amount!r}"
    return ""


def _target(node: Any, where: str, problems: Problems) -> Target | None:
    if not isinstance(node, LineDict):
        problems.add("each change must be a mapping {op, source, param, beam, item, amount}", where)
        return None
    extra = sorted(str(k) for k in set(node) - TARGET_KEYS)
    op, param, source = node.get("op"), node.get("param", ""), node.get("source", "*")
    if extra:
        problems.add(f"change has unknown key(s) {', '.join(extra)}", where, f"use {', '.join(sorted(TARGET_KEYS))}")
    if op not in OPERATIONS:
        problems.add(f"change: op {op!r} is not an operation", where, did_you_mean(str(op), OPERATIONS) or f"use {', '.join(OPERATIONS)}")
        return None
    if source != "*" and source not in SOURCES:
        problems.add(f"change: source {source!r} is not a source", where, f"use * or one of {', '.join(SOURCES)}")
    wanted = OP_PARAMS[op]
    if param and param not in VOCABULARY:
        problems.add(f"change: unknown parameter {param!r}", where, did_you_mean(str(param), VOCABULARY) or "see `plancheck rules params`")
        return None
    if wanted and not param:
        problems.add(f"change: {op} needs a param", where)
    elif wanted and VOCABULARY[param].value_type not in wanted:
        problems.add(f"change: {op} does not work on {param} (a {VOCABULARY[param].value_type} parameter)", where)
    elif problem := amount_problem(op, param, node.get("amount")):
        problems.add(f"change: {problem}", where)
    elif all(isinstance(node.get(k, ""), str) for k in ("beam", "item")):
        return Target(**{str(k): v for k, v in node.items() if k in TARGET_KEYS})
    else:
        problems.add("change: beam and item must be text (first, all, or a label)", where)
    return None


def _fault(node: Any, path: Path, line: int, known: Collection[str] | None, problems: Problems) -> Fault | None:
    where = f"{path}:{getattr(node, 'line', line)}"
    if not isinstance(node, LineDict) or set(node) - FAULT_KEYS or not {"id", "changes", "expect"} <= set(node):
        problems.add(f"a fault needs id, changes and expect (and only {', '.join(sorted(FAULT_KEYS))})", where)
        return None
    kind = node.get("kind", "initial")
    if kind not in CHECK_KINDS:
        problems.add(f"fault {node['id']}: kind must be one of {', '.join(CHECK_KINDS)}", where)
    changes, expect = node["changes"], node["expect"]
    if not isinstance(changes, LineList) or not changes or not isinstance(expect, LineList) or not expect:
        problems.add(f"fault {node['id']}: changes and expect must be non-empty lists", where)
        return None
    targets = [_target(c, f"{path}:{changes.line_of(i)}", problems) for i, c in enumerate(changes)]
    for i, check_id in enumerate(expect):
        if not isinstance(check_id, str) or (known is not None and check_id not in known):
            problems.add(f"fault {node['id']}: expects {check_id!r}, which no rule set or implicit comparison produces",
                         f"{path}:{expect.line_of(i)}", did_you_mean(str(check_id), known or ()))
    if any(t is None for t in targets):
        return None
    return Fault(str(node["id"]), str(node.get("description", node["id"])), str(kind), tuple(t for t in targets if t), tuple(map(str, expect)), where)


def load_catalogue(path: Path | None = None, known_checks: Collection[str] | None = None) -> list[Fault]:
    """Read and validate a fault catalogue; RuleProblems names every problem with file and line.

    ``known_checks``: the check ids expectations may name (default: the shipped rule sets').
    """
    path = path or default_catalogue_path()
    known = known_check_ids(RuleLibrary()) if known_checks is None else known_checks
    data = read_rule_file(path)
    problems = Problems()
    nodes = data.get("faults")
    if not isinstance(nodes, LineList):
        problems.add("a fault catalogue needs `faults:`, a list of faults", f"{path}:{data.line}")
        nodes = LineList()
    faults: list[Fault] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes):
        fid, line = str(node.get("id")) if isinstance(node, LineDict) else "", nodes.line_of(i)
        if fid in seen:
            problems.add(f"fault {fid} declared twice (first on line {seen[fid]})", f"{path}:{line}")
        seen.setdefault(fid, line)
        fault = _fault(node, path, line, known, problems)
        if fault is not None:
            faults.append(fault)
    problems.raise_if_any()
    return faults
