"""What a rule expression sees: names resolved against the collected table.

A bare name is a parameter (from the most authoritative source that holds it,
in :data:`PRIORITY` order) or a rule-set variable; ``rtplan.mu`` names the
source. Beam parameters resolve for the beam being checked, delivery and task
parameters for the record being checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from plancheck.registry import PLAN_SOURCES, PRIORITY  # which source speaks first: plancheck.registry
from plancheck.rules.expr import ExprError, MissingValue, PURE_FUNCTIONS
from plancheck.table import Param, ParamTable
from plancheck.vocabulary import SCOPES_OF, VOCABULARY

__all__ = ["PLAN_SOURCES", "PRIORITY", "TableScope", "first_by_priority", "plan_beams", "treatment_beams"]


def _typed(row: Param) -> Any:
    if VOCABULARY[row.param].value_type == "date" and isinstance(row.value, str) and row.value:
        try:
            return dt.datetime.fromisoformat(row.value)
        except ValueError:
            raise ExprError(f"{row.source} {row.provenance}: {row.param} {row.value!r} is not an ISO date") from None
    return row.value


def first_by_priority(rows: list[Param]) -> Param | None:
    ranked = sorted(rows, key=lambda r: PRIORITY.index(r.source) if r.source in PRIORITY else len(PRIORITY))
    return ranked[0] if ranked else None


def plan_beams(table: ParamTable) -> tuple[str, list[str]]:
    """(source, beam labels) of the first plan source that lists beams, set-up fields included."""
    for source in PLAN_SOURCES:
        beams = table.beams(source)
        if beams:
            return source, beams
    return "", []


def treatment_beams(table: ParamTable) -> list[str]:
    """Treatment (not set-up) beam labels of the first plan source that lists beams."""
    source, beams = plan_beams(table)
    return [b for b in beams if table.value("setup_field", source=source, beam=b, scope="beam") is not True]


@dataclass
class TableScope:
    """Name resolution for one evaluation (the patient, one beam, or one record)."""

    table: ParamTable
    vars: dict[str, Any]
    today: dt.datetime
    beam: str = ""
    item: str = ""
    item_scope: str = ""
    _cache: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    def _rows(self, name: str, source: str | None) -> list[Param]:
        scopes = SCOPES_OF[name]
        rows: list[Param] = []
        if self.item_scope in scopes:
            rows = self.table.select(param=name, scope=self.item_scope, item=self.item, source=source)
        if not rows and "beam" in scopes and self.beam:
            rows = self.table.select(param=name, scope="beam", beam=self.beam, source=source)
        for scope in ("prescription", "patient", "document"):
            if not rows and scope in scopes:
                rows = self.table.select(param=name, scope=scope, source=source)
        return rows

    def lookup(self, name: str, source: str | None = None) -> Any:
        if source is None and name == "beam":
            return self.beam
        if source is None and name == "item":
            return self.item
        if source is None and name in self.vars:
            return self.vars[name]
        if name not in VOCABULARY:
            raise ExprError(f"unknown name {name!r}: neither a parameter of the vocabulary nor a rule-set variable")
        key = (name, source)
        if key not in self._cache:
            row = first_by_priority(self._rows(name, source))
            if row is None or row.value is None:
                where = f"from {source}" if source else "from any source"
                if self.beam:
                    where += f" for beam {self.beam}"
                raise MissingValue(name, where)
            self._cache[key] = _typed(row)
        return self._cache[key]

    def present(self, name: str, source: str | None = None) -> bool:
        """Has a value here; outside a beam, a beam parameter is present when any beam has it."""
        if not self.beam and name in VOCABULARY and SCOPES_OF[name] == {"beam"}:
            return any(r.value is not None for r in self.table.select(param=name, scope="beam", source=source))
        try:
            self.lookup(name, source)
        except MissingValue:
            return False
        return True

    def _beam_values(self, name: str, source: str | None) -> list[Any]:
        """The param for each treatment beam, most authoritative source first."""
        values = []
        for beam in treatment_beams(self.table):
            row = first_by_priority(self.table.select(param=name, scope="beam", beam=beam, source=source))
            if row is None:
                raise MissingValue(name, f"for beam {beam}")
            values.append(_typed(row))
        return values

    def same(self, name: str, source: str | None) -> bool:
        """Every source gives one value of the param across all its beams, set-up fields included.

        Each source is judged on its own: an isocentre shifted on one beam of the RT Plan
        makes the RT Plan's fields disagree even where MOSAIQ, read first, agrees.
        """
        by_source: dict[str, set[Any]] = {}
        for r in self.table.select(param=name, scope="beam", source=source):
            if r.value is not None:
                by_source.setdefault(r.source, set()).add(_typed(r))
        if not by_source:
            raise MissingValue(name, "for any beam")
        return all(len(values) <= 1 for values in by_source.values())

    def call(self, name: str, args: list[Any]) -> Any:
        match name, args:
            case "present", [param] | [param, _]:
                return self.present(str(param), args[1] if len(args) > 1 else None)
            case "value", [param] | [param, _]:
                return self.lookup(str(param), args[1] if len(args) > 1 else None)
            case "same", [param] | [param, _]:
                return self.same(str(param), args[1] if len(args) > 1 else None)
            case "any_beam", [param, wanted]:
                return any(v == wanted for v in self._beam_values(str(param), None))
            case "all_beams", [param, wanted]:
                return all(v == wanted for v in self._beam_values(str(param), None))
            case "beams_with", [param]:
                return len({r.beam for r in self.table.select(param=str(param), scope="beam") if r.value is not None})
            case "count", [scope, param, wanted]:
                rows = self.table.select(scope=str(scope), param=str(param))
                return sum(1 for r in rows if r.value == wanted)
            case "today", []:
                return self.today
            case "days_since", [when]:
                return PURE_FUNCTIONS["days_between"](when, self.today)
            case "has_source", [source]:
                return source in self.table.sources
        raise ExprError(f"{name}() does not take {len(args)} argument(s)")
