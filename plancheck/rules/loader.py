"""Load, validate and resolve rule files: inheritance by ``extends:``, clinic overlays, selection.

A rule file holds one rule set. A set named like a shipped one in a clinic
folder is layered over it (its checks replace those with the same id, its
vars and tolerances are merged, ``remove:`` drops inherited checks). A bad
rule file is an error that names file and line; it is never skipped. Every
problem found is reported, not only the first (:class:`RuleProblems`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from plancheck.errors import RuleError
from plancheck.rules.model import RuleSet
from plancheck.rules.names import check_names
from plancheck.rules.parse import at, expression, parse_check, parse_manual, parse_tolerances, parse_vars, unknown_keys
from plancheck.rules.problems import Problems, RuleProblems, did_you_mean
from plancheck.yamlfile import LineDict, LineList, YamlError, load_yaml_file

SET_KEYS = {"name", "extends", "description", "match", "vars", "tolerances", "checks", "manual", "remove"}
MAX_RULE_FILE_BYTES = 256 * 1024  # the shipped general.yaml is 8 kB

__all__ = ["RuleLibrary", "RuleProblems", "read_rule_file", "shipped_dir"]


def shipped_dir() -> Path:
    return Path(str(resources.files("plancheck.rules")))


def read_rule_file(path: Path, max_bytes: int = MAX_RULE_FILE_BYTES) -> LineDict:
    """Parse one YAML rule (or fault) file with line numbers; RuleError names file and line."""
    try:
        data = load_yaml_file(path, max_bytes)
    except YamlError as exc:
        raise RuleError(str(exc), where=f"{path}:{exc.line}", fix=exc.fix) from None
    except (OSError, ValueError) as exc:
        raise RuleError(f"cannot read ({getattr(exc, 'strerror', None) or exc})", where=str(path)) from None
    if not isinstance(data, LineDict):
        raise RuleError("a rule file must be a mapping with at least `name:`", where=f"{path}:1")
    return data


def _rule_files(folder: Path) -> list[Path]:
    try:
        if not folder.is_dir():
            raise RuleError("rule folder not found", where=str(folder), fix="check [rules] dirs in plancheck.toml")
        return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise RuleError(f"cannot read the rule folder ({reason})", where=str(folder)[:200], fix="check [rules] dirs in plancheck.toml") from None


def _check_type_settings(registered: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Mapping[str, str] | None]:
    """Registered check types and the ``with:`` keys each accepts (None: not declared, not checked)."""
    if registered is None:
        from plancheck.checks.check_types import CHECK_TYPES

        registered = CHECK_TYPES
    if isinstance(registered, Mapping):
        return {name: getattr(check_type, "accepts", None) for name, check_type in registered.items()}
    return dict.fromkeys(registered)


class RuleLibrary:
    """All rule sets from the shipped folder and the clinic folders, resolved on demand.

    ``strict`` (the default) raises the problems of unreadable files at once; with
    ``strict=False`` they wait for :meth:`validate`, which reports every problem of every set.
    """

    def __init__(self, clinic_dirs: Iterable[Path] = (), registered: Iterable[str] | Mapping[str, Any] | None = None, *, strict: bool = True) -> None:
        self.check_types = _check_type_settings(registered)
        self.registered = tuple(self.check_types)
        self.raw: dict[str, list[tuple[Path, LineDict]]] = {}
        self.file_problems = Problems()
        for folder in (shipped_dir(), *clinic_dirs):
            try:
                paths = _rule_files(Path(folder))
            except RuleError as exc:
                self.file_problems.extend([exc])
                continue
            for path in paths:
                self._read(path)
        self._resolved: dict[str, tuple[RuleSet, list[RuleError]]] = {}
        if strict:
            self.file_problems.raise_if_any()

    def _read(self, path: Path) -> None:
        try:
            data = read_rule_file(path)
        except RuleError as exc:
            self.file_problems.extend([exc])
            return
        unknown_keys(data, SET_KEYS, path, "rule set", self.file_problems)
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            self.file_problems.add("rule set has no `name:`", at(path, data.line))
            return
        self.raw.setdefault(data["name"], []).append((path, data))

    @property
    def names(self) -> list[str]:
        return sorted(self.raw)

    def get(self, name: str) -> RuleSet:
        """The resolved set; RuleProblems lists every problem in it and its parents."""
        if name not in self.raw:
            raise RuleError(f"no rule set named {name!r}", fix=f"{did_you_mean(name, self.raw)} known: {', '.join(self.names)}".strip())
        problems = Problems()
        rs = self._resolve(name, (), problems)
        problems.raise_if_any()
        return rs

    def _parent(self, name: str, chain: tuple[str, ...], problems: Problems) -> RuleSet | None:
        layers = self.raw[name]
        declared = [(p, d) for p, d in layers if "extends" in d]
        if not declared:
            return None
        path, data = declared[-1]
        extends, where = data["extends"], at(path, data.line_of("extends"))
        if not isinstance(extends, str) or extends not in self.raw:
            problems.add(f"extends: no rule set named {extends!r}", where, did_you_mean(str(extends), self.raw) or f"known: {', '.join(self.names)}")
            return None
        if extends in (*chain, name):
            problems.add(f"rule sets extend each other in a circle: {' -> '.join((*chain, name, extends))}", where)
            return None
        return self._resolve(extends, (*chain, name), problems)

    def _resolve(self, name: str, chain: tuple[str, ...], problems: Problems) -> RuleSet:
        if name in self._resolved:
            rs, found = self._resolved[name]
            problems.extend(found)
            return rs
        own = Problems()
        parent = self._parent(name, chain, own)
        layers = self.raw[name]
        rs = RuleSet(
            name=name,
            extends=parent.name if parent else None,
            checks=dict(parent.checks) if parent else {},
            manual=dict(parent.manual) if parent else {},
            tolerances=dict(parent.tolerances) if parent else {},
            vars=dict(parent.vars) if parent else {},
            match=parent.match if parent else None,
            match_origin=parent.match_origin if parent else "",
            lineage=(name, *(parent.lineage if parent else ())),
            files=tuple(str(p) for p, _ in layers) + (parent.files if parent else ()),
        )
        for path, data in layers:
            self._apply_layer(rs, path, data, own)
        check_names(rs, rs.match_origin, own)
        self._resolved[name] = (rs, list(own.items))
        problems.extend(own.items)
        return rs

    def _apply_layer(self, rs: RuleSet, path: Path, data: LineDict, problems: Problems) -> None:
        rs.description = str(data.get("description", rs.description))
        if "match" in data:
            rs.match = expression(data["match"], at(path, data.line_of("match")), "match", problems)
            rs.match_origin = at(path, data.line_of("match"))
        self._remove(rs, path, data, problems)
        rs.vars.update(parse_vars(data.get("vars"), path, data.line_of("vars"), problems))
        rs.tolerances.update(parse_tolerances(data.get("tolerances"), path, data.line_of("tolerances"), problems))
        seen: dict[str, int] = {}
        for line, node in _entries(data, "checks", path, problems):
            check = parse_check(node, path, line, self.check_types, problems)
            if check is None:
                continue
            if check.id in seen:
                problems.add(f"check {check.id} is declared twice in this file (first on line {seen[check.id]})", at(path, line))
            seen[check.id] = line
            rs.checks[check.id] = check
        for line, node in _entries(data, "manual", path, problems):
            item = parse_manual(node, path, line, problems)
            if item is not None:
                rs.manual[item.id] = item

    @staticmethod
    def _remove(rs: RuleSet, path: Path, data: LineDict, problems: Problems) -> None:
        for line, item in _entries(data, "remove", path, problems):
            if not isinstance(item, str):
                problems.add("remove: each entry must be a check or manual item id", at(path, line))
            elif item not in rs.checks and item not in rs.manual:
                problems.add(f"remove: no inherited check or manual item {item!r}", at(path, line), did_you_mean(str(item), [*rs.checks, *rs.manual]))
            rs.checks.pop(item, None)
            rs.manual.pop(item, None)

    def validate(self) -> list[RuleSet]:
        """Resolve every set; RuleProblems lists every problem of every file and set."""
        problems = Problems()
        problems.extend(self.file_problems.items)
        sets = [self._resolve(name, (), problems) for name in self.names]
        problems.raise_if_any()
        return sets


def _entries(data: LineDict, key: str, path: Path, problems: Problems) -> list[tuple[int, Any]]:
    """(line, entry) for each entry of a list under ``key`` (a problem when it is not a list)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, LineList):
        problems.add(f"`{key}:` must be a list", at(path, data.line_of(key)))
        return []
    return [(value.line_of(i), node) for i, node in enumerate(value)]
