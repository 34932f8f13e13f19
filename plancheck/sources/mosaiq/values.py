"""MOSAIQ cell values to Python by the column's declared type, or ValueError saying why not.

Values are fetched untyped (SQL Server's driver and SQLite hand back different things:
Decimal or float, datetime or ISO text, bytes or memoryview) and read here, one cell at a
time, so that one unreadable cell loses its row only, never the query.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from sqlalchemy.types import Boolean, DateTime, Float, Integer, LargeBinary, TypeEngine


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        number = float(value.strip())
    else:
        raise ValueError(f"{value!r} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _integer(value: Any) -> int:
    number = _number(value)
    if number != int(number):
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.strip())
    raise ValueError(f"{value!r} is not a date and time")


def _bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ValueError(f"{type(value).__name__} is not binary data")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "1.0"):
        return True
    if text in ("0", "false", "0.0"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def read_value(value: Any, type_: TypeEngine[Any] | None) -> Any:
    """``value`` as the Python type that ``type_`` declares (None stays None); ValueError if it cannot be."""
    if value is None or type_ is None:
        return value
    if isinstance(type_, Boolean):
        return _boolean(value)
    if isinstance(type_, Integer):
        return _integer(value)
    if isinstance(type_, Float):
        return _number(value)
    if isinstance(type_, DateTime):
        return _datetime(value)
    if isinstance(type_, LargeBinary):
        return _bytes(value)
    return value if isinstance(value, str) else str(value)
