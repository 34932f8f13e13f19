"""The fault catalogue: each fault declared once, with the checks that must catch it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from plancheck.errors import RuleError
from plancheck.rules.loader import LINE, read_rule_file
from plancheck.rules.model import CHECK_KINDS
from plancheck.simulate.mutations import OPERATIONS, Target
from plancheck.vocabulary import VOCABULARY

FAULT_KEYS = {"id", "description", "kind", "changes", "expect", LINE}
TARGET_KEYS = {"op", "source", "param", "beam", "item", "amount", LINE}


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


def _target(node: dict, where: str) -> Target:
    extra = set(node) - TARGET_KEYS
    if extra or node.get("op") not in OPERATIONS:
        raise RuleError(f"change needs op among {', '.join(OPERATIONS)} and only {', '.join(sorted(TARGET_KEYS - {LINE}))}", where=where)
    if node.get("param") and node["param"] not in VOCABULARY:
        raise RuleError(f"unknown parameter {node['param']!r}", where=where)
    return Target(**{k: v for k, v in node.items() if k != LINE})


def load_catalogue(path: Path | None = None) -> list[Fault]:
    """Read and validate a fault catalogue; RuleError names file and line."""
    path = path or default_catalogue_path()
    data = read_rule_file(path)
    faults, seen = [], set()
    for node in data.get("faults") or []:
        where = f"{path}:{node.get(LINE, 1)}"
        if set(node) - FAULT_KEYS or not {"id", "changes", "expect"} <= set(node):
            raise RuleError(f"a fault needs id, changes and expect (and only {', '.join(sorted(FAULT_KEYS - {LINE}))})", where=where)
        if node["id"] in seen:
            raise RuleError(f"fault {node['id']} declared twice", where=where)
        seen.add(node["id"])
        kind = node.get("kind", "initial")
        if kind not in CHECK_KINDS:
            raise RuleError(f"fault {node['id']}: kind must be one of {', '.join(CHECK_KINDS)}", where=where)
        faults.append(
            Fault(
                id=str(node["id"]),
                description=str(node.get("description", node["id"])),
                kind=kind,
                changes=tuple(_target(c, f"{path}:{c.get(LINE, node.get(LINE, 1))}") for c in node["changes"]),
                expect=tuple(str(e) for e in node["expect"]),
                origin=where,
            )
        )
    return faults
