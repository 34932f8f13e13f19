"""Which of the tables and columns plancheck reads does this MOSAIQ have?

Learned once per engine with SQLAlchemy's inspector (INFORMATION_SCHEMA on SQL Server,
``PRAGMA table_xinfo`` on SQLite), matching names without regard to case as SQL
Server's default collation does. The result binds each present table and column under
the server's own spelling and under plancheck's name (the real MOSAIQ name in
:mod:`schema`), so queries select only what exists, and it names what is absent and what
that disables.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, MetaData, Table, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.types import NullType

from plancheck.sources.mosaiq.schema import ALTERNATIVES, REQUIRED, metadata


@dataclass(frozen=True)
class Absence:
    """One table or column plancheck reads that this MOSAIQ lacks."""

    table: str
    column: str | None
    disables: str  # REQUIRED: the MOSAIQ source cannot read without it

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}" if self.column else f"{self.table} table"

    @property
    def required(self) -> bool:
        return self.disables == REQUIRED

    @property
    def message(self) -> str:
        what = "the MOSAIQ source cannot read without it" if self.required else self.disables
        return f"MOSAIQ has no {self.name}: {what}"


@dataclass
class Discovered:
    """The tables and columns found (bound under plancheck's names) and what is absent."""

    dialect: str
    tables: dict[str, Table] = field(default_factory=dict)
    actual: dict[str, str] = field(default_factory=dict)  # plancheck's table name -> the server's
    absences: list[Absence] = field(default_factory=list)

    def has(self, table: str, column: str | None = None) -> bool:
        t = self.tables.get(table)
        return t is not None and (column is None or column in t.c)

    def table(self, table: str) -> Table:
        """The bound table; KeyError if absent (callers check ``has`` first)."""
        return self.tables[table]

    def first(self, table: str, *columns: str) -> str | None:
        """The first of ``columns`` that ``table`` has."""
        return next((c for c in columns if self.has(table, c)), None)

    @property
    def fatal(self) -> list[Absence]:
        return [a for a in self.absences if a.required]

    @property
    def warnings(self) -> list[str]:
        """One line per absence that disables something, for the run's warnings."""
        return [a.message for a in self.absences if a.disables and not a.required]


_CACHE: weakref.WeakKeyDictionary[Engine, Discovered] = weakref.WeakKeyDictionary()


def discover(engine: Engine) -> Discovered:
    """What ``engine``'s database has of plancheck's schema (cached per engine)."""
    if engine not in _CACHE:
        _CACHE[engine] = _discover(engine)
    return _CACHE[engine]


def forget(engine: Engine) -> None:
    """Drop the cached discovery (after a schema change, e.g. in tests)."""
    _CACHE.pop(engine, None)


def _discover(engine: Engine) -> Discovered:
    insp = inspect(engine)
    names = {n.lower(): n for n in [*insp.get_table_names(), *insp.get_view_names()]}
    found = Discovered(engine.dialect.name)
    bound = MetaData()
    for ref in metadata.sorted_tables:
        actual = names.get(ref.name.lower())
        if actual is None:
            found.absences.append(Absence(ref.name, None, str(ref.info["disables"])))
            continue
        columns = {c["name"].lower(): c["name"] for c in insp.get_columns(actual)}
        _bind(found, bound, ref, actual, columns)
    _check_alternatives(found)
    return found


def _bind(found: Discovered, bound: MetaData, ref: Table, actual: str, columns: dict[str, str]) -> None:
    present: list[Column[Any]] = []
    lacking: list[Absence] = []
    for col in ref.columns:
        name = columns.get(col.name.lower())
        if name is None:
            lacking.append(Absence(ref.name, col.name, str(col.info["disables"])))
        else:
            present.append(Column(name, NullType(), key=col.name))
    table_disables = str(ref.info["disables"])
    if any(a.required for a in lacking) and table_disables != REQUIRED:
        # an optional table without its keys is as good as absent: say which key is missing
        missing = ", ".join(str(a.column) for a in lacking if a.required)
        found.absences.append(Absence(ref.name, None, f"{table_disables} (it has no {missing})"))
        return
    found.absences += lacking
    found.tables[ref.name] = Table(actual, bound, *present)
    found.actual[ref.name] = actual


def _check_alternatives(found: Discovered) -> None:
    for (table, _), (columns, disables) in ALTERNATIVES.items():
        if found.has(table) and found.first(table, *columns) is None:
            found.absences.append(Absence(table, " / ".join(columns), disables))
