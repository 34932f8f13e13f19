"""`plancheck baseline`: keep the collected table as read today; after an upgrade, show what reads differently."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from plancheck.version import __version__
from plancheck.cli.common import ConfigOption, config_from, console, reports_errors
from plancheck.cli.lookup import collect_patient

app = typer.Typer(help="Readout baselines: catch readout changes after an upgrade.\n\nExample: plancheck baseline save 015112 --dir baselines/", no_args_is_help=True)
out = console()
DirOption = typer.Option(..., "--dir", "-d", help="Folder holding the baselines.")


@app.command()
@reports_errors
def save(patient_id: str = typer.Argument(...), folder: Path = DirOption, plan: str = typer.Option(None, "--plan"), config: Path = ConfigOption) -> None:
    """Save the patient's collected table as this version of plancheck reads it."""
    from plancheck.simulate.baseline import save_baseline

    path = save_baseline(collect_patient(patient_id, plan, config_from(config)), folder, patient_id, __version__)
    out.print(f"saved {path}", highlight=False)


@app.command()
@reports_errors
def compare(patient_id: str = typer.Argument(...), folder: Path = DirOption, plan: str = typer.Option(None, "--plan"), config: Path = ConfigOption) -> None:
    """Show every value that reads differently from the saved baseline (exit 1 if any)."""
    from plancheck.simulate.baseline import compare_baseline

    version, diffs = compare_baseline(collect_patient(patient_id, plan, config_from(config)), folder, patient_id)
    for d in diffs:
        source, scope, beam, item, param = d.key
        where = " ".join(x for x in (source, scope, beam, item) if x)
        out.print(f"{d.what:8} {escape(where)} {param}: {escape(repr(d.before))} -> {escape(repr(d.after))}", highlight=False)
    out.print(f"{len(diffs)} difference(s) against the baseline saved by plancheck {version} (now {__version__})")
    raise typer.Exit(1 if diffs else 0)
