"""``plancheck report``: show or re-draw a saved run (the .json `plancheck check` writes), no re-check."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from plancheck.errors import PlancheckError

app = typer.Typer(
    help=(
        "Show or re-draw a saved check run as terminal text, HTML, PDF or JSON.\n\n"
        "Reports are views of the saved run: nothing is read from MOSAIQ again and no check "
        "is re-run.\n\n"
        "Example: plancheck report show results/PC-0042/20240501_140309_initial.json"
    ),
    no_args_is_help=True,
)

RUN_ARG = typer.Argument(..., exists=True, readable=True, help="A run saved by `plancheck check` (.json), or a patient's results folder (its newest run).")


def _newest(path: Path) -> Path:
    """``path`` itself, or in a folder the newest saved run (names begin with the run's time)."""
    if not path.is_dir():
        return path
    runs = sorted(path.glob("*.json"))
    if not runs:
        _fail(PlancheckError("no saved run (.json) in this folder", where=str(path), fix="name a .json written by `plancheck check`"))
    return runs[-1]


@app.command()
def show(run_file: Path = RUN_ARG, verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list delivery records, QCL tasks and every cross-source comparison.")) -> None:
    """Print a saved run in the terminal.

    Example: plancheck report show results/PC-0042/20240501_140309_initial.json --verbose

    (or: plancheck report show results/PC-0042/ for the newest run)
    """
    from plancheck.report import load_run, render_terminal

    try:
        run = load_run(_newest(run_file))
    except PlancheckError as exc:
        _fail(exc)
    render_terminal(run, verbose=verbose)
    raise typer.Exit(run.exit_code)


@app.command()
def write(
    run_file: Path = RUN_ARG,
    fmt: str = typer.Option("all", "--format", "-f", help="One of terminal, html, pdf, json, or all (HTML, JSON and PDF)."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write; with --format all, the folder to file the run under <patient>/<time>_<kind>.*"),
) -> None:
    """Write a saved run as HTML, PDF, JSON or plain text.

    Example: plancheck report write run.json --format pdf --out chart-check.pdf
    """
    from plancheck.report import load_run, render, write_all

    try:
        run = load_run(_newest(run_file))
        paths = list(write_all(run, out).values()) if fmt.lower() == "all" else [render(run, fmt, out)]
    except PlancheckError as exc:
        _fail(exc)
    for path in paths:
        typer.echo(str(path))


def _fail(exc: PlancheckError) -> NoReturn:
    Console(stderr=True).print(Text.assemble(("error: ", "bold red"), exc.message), highlight=False)
    raise typer.Exit(exc.exit_code)
