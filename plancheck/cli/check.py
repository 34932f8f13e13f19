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

from rich.markup import escape

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


def store_in_record(runs: list[CheckRun], cfg: Config, as_of: dt.datetime, out_dir: Path) -> list[str]:
    """Store each run in the record (unchanged patients add nothing); one line per run saying where."""
    import getpass

    from plancheck.record.db import open_record, results_url, session
    from plancheck.record.store import store_run

    if not cfg.results_url and cfg.path is None:
        return ["not stored in the record: no plancheck.toml (--config) and no [results] url"]
    engine = open_record(results_url(cfg))
    lines = []
    with session(engine) as s:
        for run in runs:
            stored, new = store_run(s, run, as_of=as_of.astimezone(), created_by=getpass.getuser(), report_dir=str(out_dir))
            said = "stored as run" if new else "unchanged since run"
            lines.append(f"{run.patient_id}: {said} {stored.id}; next: plancheck review {stored.id}")
    return lines


def _check_one(patient_id: str, plan: str | None, kind: Kind, cfg: Config, rules: str | None, fmt: Format, out: Path | None,
               today: dt.datetime | None, verbose: bool) -> CheckRun:
    from rich.console import Console
    from rich.progress import Progress

    from plancheck.api import check_table
    from plancheck.paths import path_in

    table = collect_patient(patient_id, plan, cfg)
    writes = fmt == Format.terminal or out is not None
    out_dir = out or cfg.output_dir
    with Progress(console=Console(stderr=True), transient=True, disable=fmt == Format.json) as bar:
        task = bar.add_task("checking", total=None)

        def progress(check_id: str, total: int) -> None:
            bar.update(task, total=total, advance=1, description=f"check {check_id}")

        run = check_table(table, patient_id=patient_id, kind=kind.value, config=cfg, rules=rules, today=today,
                          figure_dir=path_in(out_dir, patient_id, "figures") if writes else None, progress=progress)
    paths = write_reports(run, cfg, out_dir) if writes else {}
    if fmt == Format.terminal:
        from plancheck.report import render_terminal
        from plancheck.report.terminal import data

        screen = console()
        render_terminal(run, screen, verbose=verbose)
        screen.print(data("reports: " + ", ".join(str(p) for p in paths.values())), highlight=False, soft_wrap=True)
    return run


@reports_errors
def check(
    patient_ids: list[str] = typer.Argument(..., help="Patient ID(s) as MOSAIQ shows them (IDA), e.g. 015112 00017R."),
    plan: str = typer.Option(None, "--plan", "-p", help="Plan / site name (one patient only); default: the current approved prescription."),
    kind: Kind = typer.Option(Kind.initial, "--kind", "-k", help="initial (before first treatment), weekly, or final (end of course)."),
    config: Path = ConfigOption,
    mosaiq_url: str = typer.Option(None, "--mosaiq-url", help="Override [mosaiq] url, e.g. sqlite:///mosaiq.db or mssql+pymssql://user@host:1433/MOSAIQ."),
    rules: str = typer.Option(None, "--rules", help="Rule set to use; default: chosen from the plan (see `plancheck rules list`)."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal: summary, reports written; json: the CheckRun (a list for several patients) on stdout only."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the HTML/JSON/PDF reports (default: [folders] output)."),
    today: str = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD), for reproducible runs."),
    record: bool = typer.Option(True, "--record/--no-record", help="Store each run in the results database ([results] url; default: next to plancheck.toml)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every delivery and task record, and log what each source read."),
) -> None:
    """Check patients' plans and charts across every configured source, and store each run in the record.

    Exit code: 0 when every automatic check passes, 1 when any fails or errors,
    2 on a usage, configuration or connection error (an unknown patient or --plan included);
    with several patients, the highest. One patient's error never stops the others.

    Example: plancheck check 015112 00017R --kind weekly --config plancheck-demo/plancheck.toml
    """
    import json

    from plancheck.cli.common import err
    from plancheck.errors import PlancheckError

    setup_logging(verbose)
    cfg = config_from(config, mosaiq_url)
    if plan and len(patient_ids) > 1:
        raise typer.BadParameter("--plan names one patient's plan; give one patient ID with it")
    as_of = parse_today(today)
    runs, codes = [], []
    for patient_id in patient_ids:
        try:
            runs.append(_check_one(patient_id, plan, kind, cfg, rules, fmt, out, as_of, verbose))
            codes.append(runs[-1].exit_code)
        except PlancheckError as exc:
            if len(patient_ids) == 1:
                raise
            err.print(f"[bold red]error:[/] {escape(patient_id)}: {escape(exc.message)}", highlight=False, soft_wrap=True)
            codes.append(exc.exit_code)
    if fmt == Format.json:
        typer.echo(runs[0].to_json() if len(patient_ids) == 1 else json.dumps([r.to_dict() for r in runs], indent=2, default=str))
    if record and runs:
        said = err if fmt == Format.json else console()  # stdout stays JSON alone
        for line in store_in_record(runs, cfg, as_of or dt.datetime.now().replace(microsecond=0), out or cfg.output_dir):
            said.print(escape(line), highlight=False, soft_wrap=True)
    raise typer.Exit(max(codes))
