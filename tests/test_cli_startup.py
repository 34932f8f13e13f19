"""`plancheck --help` starts at once: the command line imports no numerical, DICOM, plotting or PDF library."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "pydicom", "matplotlib", "fpdf")


HELP_MACHINERY = ("markdown_it", "rich.markdown", "typer.rich_utils")  # rich-formatted help: 0.15 s before a word is printed


def _loaded_after(code: str, *, full: bool = False) -> set[str]:
    names = "sys.modules" if full else "{m.split('.')[0] for m in sys.modules}"
    probe = f"import sys\n{code}\nprint('MODULES:', ' '.join(sorted({names})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES:"))
    return set(line.split()[1:])


def test_cli_main_imports_no_heavy_module() -> None:
    loaded = _loaded_after("import plancheck.cli.main")
    assert not loaded & set(HEAVY), f"plancheck.cli.main imports {sorted(loaded & set(HEAVY))}"


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["deliveries", "--help"], ["simulate", "--help"]])
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    code = f"import sys\nsys.argv = ['plancheck', *{argv!r}]\nfrom plancheck.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
    loaded = _loaded_after(code, full=True)
    heavy = {m for m in loaded if m.split(".")[0] in HEAVY} | (loaded & set(HELP_MACHINERY))
    assert not heavy, f"plancheck {' '.join(argv)} imports {sorted(heavy)}"


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["rules", "list", "--help"]])
def test_help_is_plain_click_text(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "plancheck", *argv], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("Usage: ") and "Options:" in done.stdout
    assert not set("╭╮╰╯│─") & set(done.stdout), "rich-boxed help"  # the box-drawing frame of typer's rich help


def test_probe_sees_a_heavy_import() -> None:
    """The probe itself can fail: the reports do load fpdf."""
    assert "fpdf" in _loaded_after("import plancheck.report.pdf")


def test_loading_pauses_the_collector_then_freezes_what_was_loaded() -> None:
    """`plancheck check` reads its sources with the cyclic collector paused; afterwards it runs again as before,
    and what the imports made is frozen (never walked again). Checked in a new process: freezing is for good."""
    code = (
        "import gc\nfrom plancheck.cli.common import loading\n"
        "with loading():\n    during = gc.isenabled()\n    import sqlalchemy\n"
        "after, frozen = gc.isenabled(), gc.get_freeze_count()\n"
        "gc.disable()\nwith loading():\n    pass\n"
        "print('STATE:', during, after, frozen > 10_000, gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "STATE: False True True False" in done.stdout  # a collector paused by someone else stays paused
