"""`plancheck batch --due`: run every due chart check of the worklist and store the runs in the record."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, err, reports_errors, setup_logging
from plancheck.cli.worklist import parse_day
from plancheck.errors import ConfigError

if TYPE_CHECKING:
    from plancheck.batch import BatchResult, Outcome

NOON = dt.time(12, 0)  # a past --date is checked as of its noon, the same every time (so a re-run is recognised)


def _result(o: Outcome) -> str:
    if o.error:
        return "[bold red]not checked[/]"
    counts = ", ".join(f"{n} {k}" for k, n in o.counts.items() if n and k in ("fail", "warn", "error"))
    return "[green]passed[/]" if o.passed else f"[red]{escape(counts) or 'failed'}[/]"


def summary(result: BatchResult) -> None:
    """One row per task; a failing patient with its one-line error."""
    out = console()
    grid = Table("patient", "prescription", "check", "result", "stored", "run", "s", title="batch", title_justify="left")
    for o in result.outcomes:
        stored = "" if o.error else "new" if o.new else "unchanged"
        grid.add_row(escape(o.task.patient_id or "(no ID)"), escape(o.task.prescription), o.task.kind, _result(o), stored,
                     "" if o.run_id is None else str(o.run_id), f"{o.seconds:.1f}")
    out.print(grid)
    for o in result.failed:
        out.print(f"[red]{escape(o.task.patient_id or '(no ID)')} {escape(o.task.prescription)}: {escape(o.error)}[/]", highlight=False, soft_wrap=True)
    new = sum(o.new for o in result.outcomes)
    connections = "not measured" if result.max_connections is None else str(result.max_connections)
    out.print(f"{len(result.outcomes)} checks in {result.seconds:.1f} s ({result.per_minute:.0f} per minute), {new} new run(s) stored, "
              f"{len(result.failed)} not checked; most MOSAIQ connections open at once: {connections}", highlight=False, soft_wrap=True)


@reports_errors
def batch(
    due: bool = typer.Option(False, "--due", help="Run every check the worklist says is due or overdue (required)."),
    date: str = typer.Option(None, "--date", "-d", help="The worklist's day (YYYY-MM-DD); default today. A past day is checked as of its noon."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default [batch] workers, else the machine's cores)."),
    scheduler: str = typer.Option(None, "--scheduler", help="A Dask scheduler address (tcp://host:8786): run the checks on that cluster."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the reports (default: [folders] output)."),
    no_reports: bool = typer.Option(False, "--no-reports", help="Store the runs only; write no HTML/JSON/PDF (faster)."),
    config: Path = ConfigOption,
    mosaiq_url: str = typer.Option(None, "--mosaiq-url", help="Override [mosaiq] url."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each source read."),
) -> None:
    """Run every due chart check (initial, weekly, final) and store each run in the record.

    At most [batch] mosaiq_connections (default 2) MOSAIQ connections are open at once, whatever
    the workers. Running it again stores nothing new for an unchanged patient. A patient that cannot
    be checked is named with its error; the others go on. Exit code: 0 when every due patient was
    checked (failing checks are findings, not errors), 1 when any could not be, 2 on a usage,
    configuration or connection error.

    Example: plancheck batch --due --config plancheck-demo/plancheck.toml
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from plancheck.batch import due_tasks, run_batch
    from plancheck.record.db import open_record, results_url
    from plancheck.record.worklist import due_checks

    if not due:
        raise ConfigError("say which checks to run", fix="plancheck batch --due (every due or overdue check of the worklist)")
    setup_logging(verbose)
    on = parse_day(date)
    cfg = config_from(config, mosaiq_url)
    engine = open_record(results_url(cfg))
    tasks = due_tasks(due_checks(cfg, engine, on))
    today = dt.datetime.now().replace(microsecond=0) if on == dt.date.today() else dt.datetime.combine(on, NOON)
    out_dir = None if no_reports else str(out or cfg.output_dir)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        track = bar.add_task(f"checking {len(tasks)} due patient(s)", total=len(tasks))

        def advance(o: Outcome) -> None:
            bar.update(track, advance=1, description=f"{o.task.patient_id} {o.task.kind}")

        result = run_batch(tasks, cfg, engine, today=today, out_dir=out_dir, workers=workers, scheduler=scheduler,
                           log_level=logging.INFO if verbose else logging.ERROR, progress=advance)
    if not tasks:
        console().print(f"no check due on {on.isoformat()}")
        return
    summary(result)
    raise typer.Exit(1 if result.failed else 0)
