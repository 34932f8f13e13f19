"""`plancheck --help` starts at once: the command line imports no numerical, DICOM, plotting or PDF library."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "pydicom", "matplotlib", "fpdf")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('MODULES:', ' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES:"))
    return set(line.split()[1:])


def test_cli_main_imports_no_heavy_module() -> None:
    loaded = _loaded_after("import plancheck.cli.main")
    assert not loaded & set(HEAVY), f"plancheck.cli.main imports {sorted(loaded & set(HEAVY))}"


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["deliveries", "--help"], ["simulate", "--help"]])
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    code = f"import sys\nsys.argv = ['plancheck', *{argv!r}]\nfrom plancheck.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), f"plancheck {' '.join(argv)} imports {sorted(loaded & set(HEAVY))}"


def test_probe_sees_a_heavy_import() -> None:
    """The probe itself can fail: the reports do load fpdf."""
    assert "fpdf" in _loaded_after("import plancheck.report")
