"""Values of plancheck.toml validated where they enter: tables are tables, numbers finite and in
range, lists are lists (a string is never split into characters). Each error names the file,
the line the key is written on (when it can be found) and what to write instead."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plancheck.errors import ConfigError


@dataclass(frozen=True)
class Where:
    """The config file and its text, to name the line a key is written on."""

    path: Path | None
    text: str = ""

    def of(self, key: str) -> str:
        name = str(self.path) if self.path else "config"
        if self.text:
            found = re.search(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=", self.text, re.MULTILINE)
            if found:
                return f"{name}:{self.text.count(chr(10), 0, found.start()) + 1}"
        return name


def decode_toml(data: bytes, path: Path) -> str:
    """The file's text; a byte that is not UTF-8 is named by its offset and line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}", where=f"{path}:{line}", fix="save the file as UTF-8") from None


def table(data: dict[str, Any], key: str, where: Where) -> dict[str, Any]:
    """``[key]`` as a table (empty when absent); ``key = "x"`` is an error."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a table ([{key}] with keys under it), not {type(value).__name__} {value!r}",
                          where=where.of(key), fix=f"write [{key}] on its own line")
    return value


def text(section: dict[str, Any], key: str, default: str, where: Where, label: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{label}{key} must be text in quotes, not {value!r}", where=where.of(key))
    return value


def number(section: dict[str, Any], key: str, default: float, where: Where, label: str, *, low: float, high: float, integer: bool = False) -> float:
    """A finite number within [low, high] (above 0 when low is 0); ``integer`` wants a whole number."""
    value = section.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if ok and (not isinstance(value, int) or abs(value) < 1e300) else math.nan
    in_range = math.isfinite(number) and (number > low if low == 0 else number >= low) and number <= high
    if not (in_range and (not integer or number.is_integer())):
        kind = "a whole number" if integer else "a number"
        bound = f"above 0 and at most {high:g}" if low == 0 else f"from {low:g} to {high:g}"
        raise ConfigError(f"{label}{key} is {value!r}; it must be {kind} {bound}", where=where.of(key))
    return number


def numbers(section: dict[str, Any], key: str, where: Where, label: str, *, high: float) -> tuple[float, ...]:
    """A list of finite numbers above 0 and at most ``high``; a string is an error, never split into characters."""
    value = section.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{label}{key} must be a list of numbers such as [600, 300], not {value!r}", where=where.of(key))
    return tuple(number({key: v}, key, 0, where, label, low=0, high=high) for v in value)


def texts(section: dict[str, Any], key: str, where: Where, label: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{label}{key} must be a list of paths in quotes, such as [\"clinic-rules\"], not {value!r}", where=where.of(key))
    return value


def tables(data: dict[str, Any], key: str, where: Where) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{key} must be written as [[{key}]] entries", where=where.of(key))
    return value
