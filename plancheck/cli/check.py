"""`plancheck check PATIENT`: collect, check, print a summary, write HTML, JSON and PDF reports.

Only typer is imported at start-up: the collector, the checks and the reports (numpy, pandas,
pydicom, matplotlib, fpdf) load inside the command, so `plancheck --help` starts at once; the
report writers load in a worker process while the sources are read, and write every file but
the JSON while this process shows the run and stores it (plancheck.report.worker).
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from rich.markup import escape

from plancheck.cli.common import ConfigOption, config_from, console, loading, reports_errors, setup_logging
from plancheck.cli.lookup import collect_patient
from plancheck.errors import PlancheckError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from plancheck.checks.results import CheckRun
    from plancheck.config import Config
    from plancheck.report.worker import ReportWorker


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


def start_reports(run: CheckRun, cfg: Config, out_dir: Path, worker: ReportWorker | None = None) -> Callable[[], dict[str, Path]]:
    """Save ``run`` as JSON under ``out_dir`` (first: the data is kept whatever happens) and ask ``worker`` for the
    HTML, the PDF and, when an eSCAN folder is configured, the eSCAN PDF; returns the call that waits for them.

    Without a worker, or when it cannot, that call writes them in this process.
    """
    from plancheck.report import report_paths, write_files, write_json

    paths = report_paths(run, out_dir)
    escan = (cfg.escan_dir, escan_name(cfg)) if cfg.escan_dir is not None else None
    saved = write_json(run, paths["json"])
    if worker is not None:
        worker.send(saved, paths["html"], paths["pdf"], escan)

    def finish() -> dict[str, Path]:
        written = worker.answer() if worker is not None else None
        return {"json": saved, **(written if written is not None else write_files(run, paths["html"], paths["pdf"], escan))}

    return finish


def write_reports(run: CheckRun, cfg: Config, out_dir: Path) -> dict[str, Path]:
    """The JSON, HTML and PDF of ``run`` under ``out_dir``, and the eSCAN PDF when an eSCAN folder is configured."""
    return start_reports(run, cfg, out_dir)()


def escan_name(cfg: Config) -> str:
    from plancheck.report.escan import DEFAULT_NAME

    return str(cfg.extra.get("escan", {}).get("file_name", DEFAULT_NAME))


class Record:
    """The results database, opened when the first run is stored; one line per run saying where it went.
    The first error (a database that cannot be opened) is kept, and raised once every patient is checked."""

    def __init__(self, cfg: Config, as_of: dt.datetime | None, out: Path | None) -> None:
        self.cfg, self.as_of, self.out = cfg, as_of, out
        self.engine: Engine | None = None
        self.lines: list[str] = []
        self.error: PlancheckError | None = None

    def store(self, run: CheckRun) -> None:
        if self.error is not None:
            return
        if not self.cfg.results_url and self.cfg.path is None:
            self.lines = ["not stored in the record: no plancheck.toml (--config) and no [results] url"]
            return
        import getpass

        from plancheck.record.db import open_record, results_url, session
        from plancheck.record.store import store_run

        as_of = (self.as_of or dt.datetime.now().replace(microsecond=0)).astimezone()
        try:
            self.engine = self.engine or open_record(results_url(self.cfg))
            with session(self.engine) as s:
                stored, new = store_run(s, run, as_of=as_of, created_by=getpass.getuser(), report_dir=str(self.out or self.cfg.output_dir))
                said = "stored as run" if new else "unchanged since run"
                self.lines.append(f"{run.patient_id}: {said} {stored.id}; next: plancheck review {stored.id}")
        except PlancheckError as exc:
            self.error = exc

    def close(self) -> None:
        """Close the record's connections (a PostgreSQL server then sees the client leave, not a dropped socket)."""
        if self.engine is not None:
            self.engine.dispose()


def _check_one(patient_id: str, plan: str | None, kind: Kind, cfg: Config, rules: str | None, fmt: Format, out: Path | None,
               today: dt.datetime | None, verbose: bool, record: Record | None) -> CheckRun:
    """Collect, check, show, store; the report files are written meanwhile by the worker (loaded on the other core while the sources were read)."""
    from rich.console import Console
    from rich.progress import Progress

    from plancheck.api import check_table
    from plancheck.paths import path_in
    from plancheck.report.worker import ReportWorker

    writes = fmt == Format.terminal or out is not None
    with ReportWorker(pages=kind is not Kind.initial) if writes else nullcontext() as worker:
        with loading():
            table = collect_patient(patient_id, plan, cfg)
        out_dir = out or cfg.output_dir
        with Progress(console=Console(stderr=True), transient=True, disable=fmt == Format.json) as bar:
            task = bar.add_task("checking", total=None)

            def progress(check_id: str, total: int) -> None:
                bar.update(task, total=total, advance=1, description=f"check {check_id}")

            run = check_table(table, patient_id=patient_id, kind=kind.value, config=cfg, rules=rules, today=today,
                              figure_dir=path_in(out_dir, patient_id, "figures") if writes else None, progress=progress)
        finish = start_reports(run, cfg, out_dir, worker) if writes else dict
        if fmt == Format.terminal:
            from plancheck.report import render_terminal

            render_terminal(run, console(), verbose=verbose)
        if record is not None:
            record.store(run)
        paths = finish()
    if fmt == Format.terminal:
        from plancheck.report.terminal import data

        console().print(data("reports: " + ", ".join(str(p) for p in paths.values())), highlight=False, soft_wrap=True)
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

    setup_logging(verbose)
    cfg = config_from(config, mosaiq_url)
    if plan and len(patient_ids) > 1:
        raise typer.BadParameter("--plan names one patient's plan; give one patient ID with it")
    as_of = parse_today(today)
    runs, codes = [], []
    stored = Record(cfg, as_of, out) if record else None
    for patient_id in patient_ids:
        try:
            runs.append(_check_one(patient_id, plan, kind, cfg, rules, fmt, out, as_of, verbose, stored))
            codes.append(runs[-1].exit_code)
        except PlancheckError as exc:
            if len(patient_ids) == 1:
                raise
            err.print(f"[bold red]error:[/] {escape(patient_id)}: {escape(exc.message)}", highlight=False, soft_wrap=True)
            codes.append(exc.exit_code)
    if fmt == Format.json:
        typer.echo(runs[0].to_json() if len(patient_ids) == 1 else json.dumps([r.to_dict() for r in runs], indent=2, default=str))
    if stored is not None:
        stored.close()
        if stored.error is not None:
            raise stored.error
        said = err if fmt == Format.json else console()  # stdout stays JSON alone
        for line in stored.lines:
            said.print(escape(line), highlight=False, soft_wrap=True)
    raise typer.Exit(max(codes))
