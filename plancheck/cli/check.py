"""`plancheck check PATIENT`: collect, check, print a summary, write HTML, JSON and PDF reports.

Only typer is imported at start-up: the collector, the checks and the reports (numpy, pandas,
pydicom, matplotlib, fpdf) load inside the command, so `plancheck --help` starts at once.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors, setup_logging
from plancheck.cli.lookup import collect_patient

if TYPE_CHECKING:
    from plancheck.checks.results import CheckRun
    from plancheck.config import Config


class Kind(str, Enum):
    initial = "initial"
    weekly = "weekly"
    final = "final"


class Format(str, Enum):
    terminal = "terminal"
    json = "json"


def parse_today(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def write_reports(run: CheckRun, cfg: Config, out_dir: Path) -> dict[str, Path]:
    """The HTML, JSON and PDF of ``run`` under ``out_dir``, and the eSCAN PDF when an eSCAN folder is configured."""
    from plancheck.report import write_all

    paths = write_all(run, out_dir)
    if cfg.escan_dir is not None:
        from plancheck.report.escan import DEFAULT_NAME, write_escan_pdf

        escan = write_escan_pdf(run, cfg.escan_dir, str(cfg.extra.get("escan", {}).get("file_name", DEFAULT_NAME)))
        if escan is not None:
            paths["escan"] = escan
    return paths


@reports_errors
def check(
    patient_id: str = typer.Argument(..., help="Patient ID as MOSAIQ shows it (IDA), e.g. 015112 or 00017R."),
    plan: str = typer.Option(None, "--plan", "-p", help="Plan / site name; default: the current approved prescription."),
    kind: Kind = typer.Option(Kind.initial, "--kind", "-k", help="initial (before first treatment), weekly, or final (end of course)."),
    config: Path = ConfigOption,
    mosaiq_url: str = typer.Option(None, "--mosaiq-url", help="Override [mosaiq] url, e.g. sqlite:///mosaiq.db or mssql+pymssql://user@host:1433/MOSAIQ."),
    rules: str = typer.Option(None, "--rules", help="Rule set to use; default: chosen from the plan (see `plancheck rules list`)."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal: summary, reports written; json: the CheckRun on stdout only."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the HTML/JSON/PDF reports (default: [folders] output)."),
    today: str = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD), for reproducible runs."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every delivery and task record, and log what each source read."),
) -> None:
    """Check one patient's plan and chart across every configured source.

    Exit code: 0 when every automatic check passes, 1 when any fails or errors,
    2 on a usage, configuration or connection error (an unknown patient or --plan included).

    Example: plancheck check 015112 --kind weekly --config plancheck-demo/plancheck.toml
    """
    from rich.console import Console
    from rich.progress import Progress

    from plancheck.api import check_table
    from plancheck.paths import path_in

    setup_logging(verbose)
    cfg = config_from(config, mosaiq_url)
    table = collect_patient(patient_id, plan, cfg)
    writes = fmt == Format.terminal or out is not None
    out_dir = out or cfg.output_dir
    with Progress(console=Console(stderr=True), transient=True, disable=fmt == Format.json) as bar:
        task = bar.add_task("checking", total=None)

        def progress(check_id: str, total: int) -> None:
            bar.update(task, total=total, advance=1, description=f"check {check_id}")

        run = check_table(table, patient_id=patient_id, kind=kind.value, config=cfg, rules=rules, today=parse_today(today),
                          figure_dir=path_in(out_dir, patient_id, "figures") if writes else None, progress=progress)
    paths = write_reports(run, cfg, out_dir) if writes else {}
    if fmt == Format.json:
        typer.echo(run.to_json())
    else:
        from plancheck.report import render_terminal
        from plancheck.report.terminal import data

        screen = console()
        render_terminal(run, screen, verbose=verbose)
        screen.print(data("reports: " + ", ".join(str(p) for p in paths.values())), highlight=False, soft_wrap=True)
    raise typer.Exit(run.exit_code)
