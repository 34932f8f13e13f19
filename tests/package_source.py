"""plancheck's own source files, each parsed once per test session: what the tests that scan the package walk."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import plancheck

ROOT = Path(plancheck.__file__).parent


@functools.cache
def parsed_modules() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of the package with its syntax tree, in path order (walk the trees; never change them)."""
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(ROOT.rglob("*.py")))
