"""The safe expression evaluator: what it allows, what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from plancheck.rules.expr import ExprError, MissingValue, compile_expression


class DictScope:
    def __init__(self, values: dict, by_source: dict | None = None) -> None:
        self.values, self.by_source = values, by_source or {}

    def lookup(self, name: str, source: str | None = None):
        table = self.by_source.get(source, {}) if source else self.values
        if name not in table:
            raise MissingValue(name)
        return table[name]

    def call(self, name: str, args: list):
        if name == "today":
            return dt.datetime(2026, 11, 20)
        raise ExprError(name)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mu_min <= mu <= mu_max", True),
        ("energy == '6x'", True),  # text equality ignores case
        ("energy in ['6X', '10X'] and not qa", True),
        ("abs(mu - 100) < 0.5", False),
        ("matches(label, '[A-Z][0-9]+')", True),
        ("rtplan.mu * 2 == 200", True),
        ("due >= today()", False),
        ("1 if qa else 2", 2),
    ],
)
def test_evaluates(text: str, expected: object) -> None:
    scope = DictScope(
        {"mu": 101, "mu_min": 2, "mu_max": 999, "energy": "6X", "qa": False, "label": "G090", "due": dt.datetime(2026, 11, 19)},
        {"rtplan": {"mu": 100}},
    )
    assert compile_expression(text, ("rtplan", "mosaiq")).evaluate(scope) == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "mu.__class__",
        "(lambda: 1)()",
        "[x for x in mu]",
        "mu[0]",
        "open('/etc/passwd')",
        "unknown_source.mu",
        "mu = 3",
    ],
)
def test_refuses(text: str) -> None:
    with pytest.raises(ExprError):
        compile_expression(text, ("rtplan", "mosaiq"))


def test_missing_value_is_named() -> None:
    with pytest.raises(MissingValue, match="ssd_mm"):
        compile_expression("ssd_mm > 900").evaluate(DictScope({}))


def test_names_are_collected() -> None:
    assert compile_expression("mu > 2 and rtplan.energy == '6X'", ("rtplan",)).names == {"mu", "energy"}
