"""`plancheck check PATIENT`: collect, check, print a summary, write HTML, JSON and PDF reports.

Only typer is imported at start-up: the collector, the checks and the reports (numpy, pandas,
pydicom, matplotlib, fpdf) load inside the command, so `plancheck --help` starts at once; the
PDF writers load in a worker process while the sources are read (plancheck.report.worker).
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors, setup_logging
from plancheck.cli.lookup import collect_patient

if TYPE_CHECKING:
    from plancheck.checks.results import CheckRun
    from plancheck.config import Config
    from plancheck.report.worker import PdfWorker


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


def write_reports(run: CheckRun, cfg: Config, out_dir: Path, pdf_worker: PdfWorker | None = None) -> dict[str, Path]:
    """The HTML, JSON and PDF of ``run`` under ``out_dir``, and the eSCAN PDF when an eSCAN folder is configured.

    With a ``pdf_worker`` (started before the sources were read) the two PDFs are written by it, from the
    saved JSON, while this process writes the HTML; without one, or when it cannot, they are written here.
    """
    from plancheck.report import report_paths, write_html, write_json

    paths = report_paths(run, out_dir)
    escan = (cfg.escan_dir, escan_name(cfg)) if cfg.escan_dir is not None else None
    written = {"json": write_json(run, paths["json"])}  # first: the data is kept whatever happens
    if pdf_worker is not None:
        pdf_worker.send(written["json"], paths["pdf"], escan)
    written["html"] = write_html(run, paths["html"])
    pdfs = pdf_worker.answer() if pdf_worker is not None else None
    return {**written, **(pdfs if pdfs is not None else write_pdfs(run, paths["pdf"], escan))}


def write_pdfs(run: CheckRun, pdf: Path, escan: tuple[Path, str] | None) -> dict[str, Path]:
    """The chart-check PDF, and the eSCAN PDF of the run's comparison pages (none when it made none)."""
    from plancheck.report import write_pdf
    from plancheck.report.escan import write_escan_pdf

    paths = {"pdf": write_pdf(run, pdf)}
    page = write_escan_pdf(run, *escan) if escan is not None else None
    return {**paths, "escan": page} if page is not None else paths


def escan_name(cfg: Config) -> str:
    from plancheck.report.escan import DEFAULT_NAME

    return str(cfg.extra.get("escan", {}).get("file_name", DEFAULT_NAME))


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
    from plancheck.report.worker import PdfWorker

    setup_logging(verbose)
    cfg = config_from(config, mosaiq_url)
    writes = fmt == Format.terminal or out is not None
    with PdfWorker() if writes else nullcontext() as pdf_worker:  # loads the PDF writers on another core while sources are read
        table = collect_patient(patient_id, plan, cfg)
        out_dir = out or cfg.output_dir
        with Progress(console=Console(stderr=True), transient=True, disable=fmt == Format.json) as bar:
            task = bar.add_task("checking", total=None)

            def progress(check_id: str, total: int) -> None:
                bar.update(task, total=total, advance=1, description=f"check {check_id}")

            run = check_table(table, patient_id=patient_id, kind=kind.value, config=cfg, rules=rules, today=parse_today(today),
                              figure_dir=path_in(out_dir, patient_id, "figures") if writes else None, progress=progress)
        paths = write_reports(run, cfg, out_dir, pdf_worker) if writes else {}
    if fmt == Format.json:
        typer.echo(run.to_json())
    else:
        from plancheck.report import render_terminal
        from plancheck.report.terminal import data

        screen = console()
        render_terminal(run, screen, verbose=verbose)
        screen.print(data("reports: " + ", ".join(str(p) for p in paths.values())), highlight=False, soft_wrap=True)
    raise typer.Exit(run.exit_code)
