"""The collected table: the single hand-over point between sources and checks.

Every value a check consumes is a row here (scope, beam, item, param, value,
unit, source, provenance); control-point data rides beside the rows as
``deliveries`` keyed by (source, beam). Because nothing else reaches the checks,
"simulate errors" can edit this table and re-run them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable, Iterator

from plancheck.registry import NAMES as SOURCES
from plancheck.vocabulary import SCOPES, SCOPES_OF, VOCABULARY

if TYPE_CHECKING:
    import pandas as pd

    from plancheck.delivery.model import Delivery
    from plancheck.delivery.recording import Recording

COLUMNS = ("scope", "beam", "item", "param", "value", "unit", "source", "provenance")

Value = str | float | int | bool | None

__all__ = ["COLUMNS", "SOURCES", "Param", "ParamTable", "SchemaError", "Value", "iso", "validate_row"]


class SchemaError(ValueError):
    """A row that does not fit the collected table's schema."""


@dataclass(frozen=True)
class Param:
    """One collected value.

    ``item`` tells apart several records in one scope (a delivery record, a QCL
    task); it is empty where the scope holds one record per beam.
    """

    scope: str
    beam: str
    param: str
    value: Value
    unit: str
    source: str
    provenance: str
    item: str = ""

    def key(self) -> tuple[str, str, str, str]:
        return (self.scope, self.beam, self.item, self.param)


def validate_row(row: Param) -> None:
    """Raise SchemaError naming what is wrong with ``row``."""
    where = f"{row.source} {row.provenance}".strip()
    if row.param not in VOCABULARY:
        raise SchemaError(f"{where}: parameter {row.param!r} is not in the vocabulary")
    if row.scope not in SCOPES:
        raise SchemaError(f"{where}: scope {row.scope!r} is not one of {', '.join(SCOPES)}")
    if row.scope not in SCOPES_OF[row.param]:
        raise SchemaError(f"{where}: parameter {row.param!r} does not belong to scope {row.scope!r}")
    if row.source not in SOURCES:
        raise SchemaError(f"{where}: source {row.source!r} is not one of {', '.join(SOURCES)}")
    if row.scope in ("beam",) and not row.beam:
        raise SchemaError(f"{where}: beam-scope parameter {row.param!r} has no beam label")
    value_type = VOCABULARY[row.param].value_type
    if row.value is not None:
        if value_type in ("number", "angle") and (
            isinstance(row.value, bool) or not isinstance(row.value, (int, float)) or not math.isfinite(row.value)
        ):
            raise SchemaError(f"{where}: {row.param} must be a finite number, got {row.value!r}")
        if value_type == "bool" and not isinstance(row.value, bool):
            raise SchemaError(f"{where}: {row.param} must be true or false, got {row.value!r}")
        if value_type in ("text", "date") and not isinstance(row.value, str):
            raise SchemaError(f"{where}: {row.param} must be text, got {row.value!r}")


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """Dates travel through the table as ISO 8601 text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


@dataclass
class ParamTable:
    """Rows of collected parameters, deliveries beside them, and per-source errors."""

    rows: list[Param] = field(default_factory=list)
    deliveries: dict[tuple[str, str], Delivery] = field(default_factory=dict)
    source_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # (source, recording): every recorded delivery (iCOM), with field ID, machine, times and control points
    recordings: list[tuple[str, Recording]] = field(default_factory=list)

    def add(self, *rows: Param) -> None:
        for row in rows:
            validate_row(row)
            self.rows.append(row)

    def extend(self, rows: Iterable[Param]) -> None:
        self.add(*rows)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def copy(self) -> ParamTable:
        return ParamTable(list(self.rows), dict(self.deliveries), dict(self.source_errors), list(self.warnings), list(self.recordings))

    # ---- queries -------------------------------------------------------
    def select(
        self,
        *,
        scope: str | None = None,
        beam: str | None = None,
        param: str | None = None,
        source: str | None = None,
        item: str | None = None,
    ) -> list[Param]:
        return [
            r
            for r in self.rows
            if (scope is None or r.scope == scope)
            and (beam is None or r.beam == beam)
            and (param is None or r.param == param)
            and (source is None or r.source == source)
            and (item is None or r.item == item)
        ]

    def value(self, param: str, *, source: str, beam: str = "", scope: str | None = None) -> Any:
        """The value of one param from one source, or None when absent."""
        rows = self.select(param=param, source=source, beam=beam, scope=scope)
        return rows[0].value if rows else None

    def deliveries_of(self, source: str) -> dict[str, Delivery]:
        """Control points per beam from one source."""
        return {beam: d for (src, beam), d in self.deliveries.items() if src == source}

    @property
    def sources(self) -> list[str]:
        present = {r.source for r in self.rows} | {s for s, _ in self.deliveries}
        return [s for s in SOURCES if s in present]

    def beams(self, source: str | None = None) -> list[str]:
        """Beam labels in first-seen order (treatment and set-up fields)."""
        seen: dict[str, None] = {}
        for r in self.rows:
            if r.scope == "beam" and (source is None or r.source == source):
                seen.setdefault(r.beam, None)
        return list(seen)

    def items(self, scope: str, source: str | None = None) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.rows:
            if r.scope == scope and (source is None or r.source == source):
                seen.setdefault(r.item, None)
        return list(seen)

    # ---- conversion ----------------------------------------------------
    @property
    def df(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows], columns=list(COLUMNS))

    def to_records(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> ParamTable:
        table = cls()
        table.extend(Param(**{k: rec.get(k, "") for k in COLUMNS}) for rec in records)
        return table
