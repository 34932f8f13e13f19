"""Rule sets as data: explicit checks, manual items, tolerances and variables per treatment type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plancheck.rules.expr import Expression

CHECK_KINDS = ("initial", "weekly", "final")
FOR_EACH = ("beam", "treatment_beam", "delivery", "task", "document")
BEAM_EACH = ("beam", "treatment_beam")  # per-beam checks: in a composite, each runs on its own modality's beams


@dataclass(frozen=True)
class Tolerance:
    tolerance: float
    action: float


@dataclass(frozen=True)
class RuleCheck:
    """One explicit automatic check declared in a rule file."""

    id: str
    name: str
    kinds: tuple[str, ...]
    type: str = "expression"  # or a registered kind such as delivery.gamma
    expect: Expression | None = None
    when: Expression | None = None
    for_each: str | None = None
    level: str = "fail"  # what a false expectation means: fail or warn
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # `with:` for registered kinds
    reference: str = ""  # TG-275 / MPPG item or clinic reference
    origin: str = ""  # file:line where it was declared
    origins: dict[str, str] = field(default_factory=dict)  # file:line of each key (expect, when, message, ...)


@dataclass(frozen=True)
class ManualItem:
    id: str
    text: str
    kinds: tuple[str, ...]
    origin: str = ""


@dataclass(frozen=True)
class RulePart:
    """The rule set that checks the beams of some modalities, within a composite."""

    modalities: frozenset[str]
    rule_set: RuleSet


@dataclass
class RuleSet:
    """A resolved rule set: its own declarations merged over those of its parents."""

    name: str
    description: str = ""
    extends: str | None = None
    match: Expression | None = None
    checks: dict[str, RuleCheck] = field(default_factory=dict)
    manual: dict[str, ManualItem] = field(default_factory=dict)
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    lineage: tuple[str, ...] = ()  # this set first, then its ancestors
    files: tuple[str, ...] = ()
    match_origin: str = ""  # file:line of the `match:` in force
    # a composite (a plan with beams of several modalities): plan-level checks above, per-beam checks per part
    parts: tuple[RulePart, ...] = ()
    unsupported: tuple[str, ...] = ()  # modalities of this plan no rule set fits

    def checks_for(self, kind: str) -> list[RuleCheck]:
        return [c for c in self.checks.values() if kind in c.kinds]

    def manual_for(self, kind: str) -> list[ManualItem]:
        return [m for m in self.manual.values() if kind in m.kinds]
