"""A SQLite copy of the real MOSAIQ extract that pymedphys ships (its CSVs and types_map.toml),
built at test time from the installed package: plancheck never wrote these rows.

Only the tables the extract has are created (so Dose_Hst, Schedule and Object are absent,
as on that server's extract); binary columns are urlsafe base64 in the CSVs, datetimes
ISO text. ``rename`` gives another MOSAIQ "version": columns renamed or dropped.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pymedphys
import pytest
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Integer, LargeBinary, MetaData, SmallInteger, String, Table, create_engine, insert

DATA = Path(pymedphys.__file__).parent / "_mosaiq" / "mock" / "data"
TYPES: dict[str, Any] = {
    "int": Integer, "bigint": BigInteger, "smallint": SmallInteger, "tinyint": SmallInteger, "bit": Boolean, "float": Float,
    "decimal": Float, "varchar": String, "char": String, "datetime": DateTime, "binary": LargeBinary, "timestamp": LargeBinary,
}
csv.field_size_limit(1 << 24)


def _value(raw: str, sql_type: str) -> Any:
    if raw == "":
        return None
    if sql_type in ("int", "bigint", "smallint", "tinyint"):
        return int(float(raw))
    if sql_type == "bit":
        return raw == "True"
    if sql_type in ("float", "decimal"):
        return float(raw)
    if sql_type == "datetime":
        return dt.datetime.fromisoformat(raw)
    if sql_type in ("binary", "timestamp"):
        return base64.urlsafe_b64decode(raw)
    return raw


def types_map() -> dict[str, dict[str, str]]:
    return tomllib.loads((DATA / "types_map.toml").read_text(encoding="utf-8"))


def build_real_mosaiq(path: Path, rename: Callable[[str, str], str | None] = lambda table, column: column) -> str:
    """Write the extract to ``path`` (SQLite) and return its URL; ``rename(table, column)`` gives the
    column's name in the copy, or None to leave the column out."""
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    meta = MetaData()
    types = types_map()
    with engine.begin() as conn:
        for csv_path in sorted(DATA.glob("*.csv")):
            name = csv_path.stem
            with csv_path.open(newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                header = next(reader)[1:]  # the first column is pandas' index
                kept = [(i, c, new) for i, c in enumerate(header) if (new := rename(name, c)) is not None]
                table = Table(name, meta, *[Column(new, TYPES[types[name][c]]) for _, c, new in kept])
                table.create(conn)
                rows = [{new: _value(row[1:][i], types[name][c]) for i, c, new in kept} for row in reader]
            if rows:
                conn.execute(insert(table), rows)
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def real_mosaiq_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extract as built once per test session, shared: read it only (a test that changes it works on a copy)."""
    path = tmp_path_factory.mktemp("real-mosaiq") / "mosaiq.db"
    build_real_mosaiq(path)
    return path
