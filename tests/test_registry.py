"""The source registry: every source declared once, every list of sources derived from it."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import plancheck
from plancheck import registry
from plancheck.checks import scope
from plancheck.collector import readers
from plancheck.config import _FOLDER_KEYS
from plancheck.table import SOURCES, Param, ParamTable, SchemaError
from tests.package_source import parsed_modules

ROOT = Path(plancheck.__file__).parent
NAMES = set(registry.NAMES)


@pytest.mark.parametrize("source", [s for s in registry.SOURCES if s.reader], ids=lambda s: s.name)
def test_every_registered_reader_is_importable_and_reads(source: registry.Source) -> None:
    module = importlib.import_module(source.reader)
    assert callable(module.read) and list(inspect.signature(module.read).parameters) == ["request"]
    assert registry.reader(source.name) is module.read


@pytest.mark.parametrize("source", [s for s in registry.SOURCES if s.delivery_loader], ids=lambda s: s.name)
def test_every_delivery_loader_is_a_function_of_deliveries(source: registry.Source) -> None:
    assert callable(registry.delivery_loader(source.name))


def test_the_lists_of_sources_derive_from_the_registry() -> None:
    assert SOURCES == registry.NAMES and len(set(SOURCES)) == len(SOURCES)
    assert sorted(scope.PRIORITY) == sorted(SOURCES) and scope.PRIORITY[0] == "mosaiq"
    assert set(scope.PLAN_SOURCES) == {s.name for s in registry.SOURCES if s.holds_plan}
    assert list(readers()) == [n for n in scope.PRIORITY if registry.BY_NAME[n].reader]
    assert set(registry.FOLDER_KEYS) <= set(_FOLDER_KEYS)
    assert registry.TIMED_SOURCES == ("rtplan", "monaco_tel", "mosaiq")
    assert all(registry.label(n) and registry.label(n) != n for n in SOURCES)


def test_an_unregistered_source_cannot_enter_the_table() -> None:
    with pytest.raises(SchemaError, match="'fax' is not one of"):
        ParamTable().add(Param("beam", "1", "mu", 100.0, "MU", "fax", "page 1"))


TABLE_CALLS = {"Param", "select", "value", "items", "beams", "deliveries_of", "timing_rows"}


def _literal_sources(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants used as a source name of the table: ``Param(..., "x", ...)``,
    ``table.select(source="x")``, ``SOURCE = "x"``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in TABLE_CALLS:
                found += [(k.value.lineno, k.value.value) for k in node.keywords if k.arg in ("source", "basis") and isinstance(k.value, ast.Constant)]
            if name == "Param" and len(node.args) > 5 and isinstance(node.args[5], ast.Constant):
                found.append((node.lineno, node.args[5].value))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
            isinstance(t, ast.Name) and t.id == "SOURCE" for t in node.targets
        ):
            found.append((node.lineno, node.value.value))
    return [(line, v) for line, v in found if isinstance(v, str) and v not in ("", "*")]


def _source_lists(tree: ast.AST) -> list[int]:
    """Lines of tuples or lists of two or more string constants, all of them source names."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) >= 2
        and all(isinstance(e, ast.Constant) and e.value in NAMES for e in node.elts)
    ]


def test_no_module_names_an_unregistered_source_or_repeats_a_list_of_sources() -> None:
    unknown, lists = [], []
    for path, tree in parsed_modules():
        where = path.relative_to(ROOT.parent)
        unknown += [f"{where}:{line}: {value!r}" for line, value in _literal_sources(tree) if value not in NAMES]
        if path != ROOT / "registry.py":
            lists += [f"{where}:{line}" for line in _source_lists(tree)]
    assert not unknown, "sources not in plancheck.registry:\n" + "\n".join(unknown)
    assert not lists, "lists of sources outside plancheck.registry:\n" + "\n".join(lists)


def test_the_scans_find_what_they_look_for() -> None:
    planted = ast.parse('t.select(source="fax")\nSOURCE = "telex"\nORDER = ("mosaiq", "rtplan")\nParam("beam", "1", "mu", 1.0, "MU", "pigeon", "")\n')
    assert sorted(v for _, v in _literal_sources(planted)) == ["fax", "pigeon", "telex"]
    assert _source_lists(planted) == [3]


def test_every_registered_folder_key_is_read_from_plancheck_toml(tmp_path: Path) -> None:
    from plancheck.config import load_config

    lines = "\n".join(f'{key} = "{key}-here"' for key in registry.FOLDER_KEYS)
    (tmp_path / "plancheck.toml").write_text(f"[folders]\n{lines}\n", encoding="utf-8")
    config = load_config(tmp_path / "plancheck.toml")
    assert {key: config.folders[key] for key in registry.FOLDER_KEYS} == {key: tmp_path / f"{key}-here" for key in registry.FOLDER_KEYS}
