"""Load, validate and resolve rule files: inheritance by ``extends:``, clinic overlays, selection.

A rule file holds one rule set. A set named like a shipped one in a clinic
folder is layered over it (its checks replace those with the same id, its
vars and tolerances are merged, ``remove:`` drops inherited checks). A bad
rule file is an error that names file and line; it is never skipped.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from plancheck.errors import RuleError
from plancheck.rules.expr import ExprError, compile_expression
from plancheck.rules.model import CHECK_KINDS, FOR_EACH, ManualItem, RuleCheck, RuleSet, Tolerance
from plancheck.table import SOURCES
from plancheck.vocabulary import VOCABULARY

LINE = "__line__"
SET_KEYS = {"name", "extends", "description", "match", "vars", "tolerances", "checks", "manual", "remove", LINE}
CHECK_KEYS = {"id", "name", "kinds", "type", "expect", "when", "for_each", "level", "message", "with", "reference", LINE}
MANUAL_KEYS = {"id", "text", "kinds", "reference", LINE}


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that records each mapping's line (1-based) under ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping


def shipped_dir() -> Path:
    return Path(str(resources.files("plancheck.rules")))


def read_rule_file(path: Path) -> dict[str, Any]:
    """Parse one YAML rule file, keeping line numbers; RuleError on bad YAML."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RuleError(f"not valid YAML: {exc.problem}", where=line, fix="check indentation and quoting on that line") from None
    except OSError as exc:
        raise RuleError(f"cannot read ({exc.strerror})", where=str(path)) from None
    if not isinstance(data, dict):
        raise RuleError("a rule file must be a mapping with at least `name:`", where=f"{path}:1")
    return data


def _at(path: Path, node: dict[str, Any] | None) -> str:
    return f"{path}:{node.get(LINE, 1) if isinstance(node, dict) else 1}"


def _kinds(value: Any, where: str) -> tuple[str, ...]:
    kinds = (value,) if isinstance(value, str) else tuple(value or CHECK_KINDS)
    bad = [k for k in kinds if k not in CHECK_KINDS]
    if bad:
        raise RuleError(f"unknown check kind(s) {bad}; use {', '.join(CHECK_KINDS)}", where=where)
    return kinds


def _expression(text: Any, where: str, field: str) -> Any:
    try:
        return compile_expression(str(text), SOURCES)
    except ExprError as exc:
        raise RuleError(f"{field}: {exc}", where=where) from None


def _unknown_keys(node: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    extra = sorted(set(node) - allowed)
    if extra:
        raise RuleError(f"{what} has unknown key(s) {', '.join(map(str, extra))}; allowed: {', '.join(sorted(allowed - {LINE}))}", where=where)


def parse_check(node: Any, path: Path, registered: Iterable[str]) -> RuleCheck:
    where = _at(path, node)
    if not isinstance(node, dict):
        raise RuleError("each entry of `checks:` must be a mapping with id and expect (or type)", where=where)
    _unknown_keys(node, CHECK_KEYS, where, "check")
    if "id" not in node:
        raise RuleError("check has no `id:`", where=where)
    ctype = node.get("type", "expression")
    if ctype != "expression" and ctype not in registered:
        raise RuleError(f"check {node['id']}: unknown type {ctype!r}; known: expression, {', '.join(sorted(registered))}", where=where)
    if ctype == "expression" and "expect" not in node:
        raise RuleError(f"check {node['id']}: an expression check needs `expect:`", where=where)
    for_each = node.get("for_each")
    if for_each is not None and for_each not in FOR_EACH:
        raise RuleError(f"check {node['id']}: for_each must be one of {', '.join(FOR_EACH)}", where=where)
    level = node.get("level", "fail")
    if level not in ("fail", "warn"):
        raise RuleError(f"check {node['id']}: level must be fail or warn", where=where)
    params = {k: v for k, v in (node.get("with") or {}).items() if k != LINE}
    return RuleCheck(
        id=str(node["id"]),
        name=str(node.get("name", node["id"])),
        kinds=_kinds(node.get("kinds"), where),
        type=ctype,
        expect=_expression(node["expect"], where, f"check {node['id']} expect") if "expect" in node else None,
        when=_expression(node["when"], where, f"check {node['id']} when") if "when" in node else None,
        for_each=for_each,
        level=level,
        message=str(node.get("message", "")),
        params=params,
        reference=str(node.get("reference", "")),
        origin=where,
    )


def parse_manual(node: Any, path: Path) -> ManualItem:
    where = _at(path, node)
    if not isinstance(node, dict) or "id" not in node or "text" not in node:
        raise RuleError("each entry of `manual:` needs id and text", where=where)
    _unknown_keys(node, MANUAL_KEYS, where, "manual item")
    return ManualItem(str(node["id"]), str(node["text"]), _kinds(node.get("kinds"), where), where)


def parse_tolerances(node: Any, path: Path) -> dict[str, Tolerance]:
    out: dict[str, Tolerance] = {}
    for param, spec in (node or {}).items():
        if param == LINE:
            continue
        where = _at(path, spec if isinstance(spec, dict) else node)
        if param not in VOCABULARY:
            raise RuleError(f"tolerance for unknown parameter {param!r}", where=where, fix="see `plancheck rules params` for the vocabulary")
        if isinstance(spec, (int, float)):
            out[param] = Tolerance(float(spec), float(spec))
        elif isinstance(spec, dict) and "tolerance" in spec:
            tol = float(spec["tolerance"])
            out[param] = Tolerance(tol, float(spec.get("action", tol)))
        else:
            raise RuleError(f"tolerance for {param} must be a number or {{tolerance: x, action: y}}", where=where)
    return out


class RuleLibrary:
    """All rule sets from the shipped folder and the clinic folders, resolved on demand."""

    def __init__(self, clinic_dirs: Iterable[Path] = (), registered: Iterable[str] | None = None) -> None:
        from plancheck.checks.kinds import KINDS

        self.registered = tuple(KINDS if registered is None else registered)
        self.raw: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
        for folder in (shipped_dir(), *clinic_dirs):
            folder = Path(folder)
            if not folder.is_dir():
                raise RuleError("rule folder not found", where=str(folder), fix="check [rules] dirs in plancheck.toml")
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                data = read_rule_file(path)
                _unknown_keys(data, SET_KEYS, _at(path, data), "rule set")
                if "name" not in data:
                    raise RuleError("rule set has no `name:`", where=_at(path, data))
                self.raw.setdefault(str(data["name"]), []).append((path, data))
        self._resolved: dict[str, RuleSet] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self.raw)

    def get(self, name: str, _chain: tuple[str, ...] = ()) -> RuleSet:
        if name in self._resolved:
            return self._resolved[name]
        if name not in self.raw:
            raise RuleError(f"no rule set named {name!r}", fix=f"known: {', '.join(self.names)}")
        if name in _chain:
            raise RuleError(f"rule sets extend each other in a circle: {' -> '.join(_chain + (name,))}", where=str(self.raw[name][0][0]))
        layers = self.raw[name]
        extends = next((d.get("extends") for _, d in reversed(layers) if d.get("extends")), None)
        parent = self.get(str(extends), _chain + (name,)) if extends else None
        rs = RuleSet(
            name=name,
            extends=str(extends) if extends else None,
            checks=dict(parent.checks) if parent else {},
            manual=dict(parent.manual) if parent else {},
            tolerances=dict(parent.tolerances) if parent else {},
            vars=dict(parent.vars) if parent else {},
            match=parent.match if parent else None,
            lineage=(name, *(parent.lineage if parent else ())),
            files=tuple(str(p) for p, _ in layers) + (parent.files if parent else ()),
        )
        for path, data in layers:
            self._apply_layer(rs, path, data)
        self._resolved[name] = rs
        return rs

    def _apply_layer(self, rs: RuleSet, path: Path, data: dict[str, Any]) -> None:
        rs.description = str(data.get("description", rs.description))
        if "match" in data:
            rs.match = _expression(data["match"], _at(path, data), "match")
        for item in data.get("remove") or []:
            if item not in rs.checks and item not in rs.manual:
                raise RuleError(f"remove: no inherited check or manual item {item!r}", where=_at(path, data))
            rs.checks.pop(item, None)
            rs.manual.pop(item, None)
        rs.vars.update({k: v for k, v in (data.get("vars") or {}).items() if k != LINE})
        rs.tolerances.update(parse_tolerances(data.get("tolerances"), path))
        for node in data.get("checks") or []:
            check = parse_check(node, path, self.registered)
            rs.checks[check.id] = check
        for node in data.get("manual") or []:
            item = parse_manual(node, path)
            rs.manual[item.id] = item

    def validate(self) -> list[RuleSet]:
        """Resolve every set (raising RuleError on the first problem)."""
        return [self.get(name) for name in self.names]

