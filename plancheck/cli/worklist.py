"""`plancheck worklist [--date D] [--format json]`: who is due which chart check today, and why."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, parse_date, reports_errors

if TYPE_CHECKING:
    from plancheck.record.worklist import DueCheck


class Format(str, Enum):
    terminal = "terminal"
    json = "json"


STYLE = {"overdue": "bold red", "due": "yellow", "upcoming": "green", "waiting": "dim"}


def parse_day(value: str | None) -> dt.date:
    """``--date`` (YYYY-MM-DD), else today's date here."""
    return parse_date(value, "--date") or dt.date.today()


def _state(line: DueCheck) -> str:
    if line.status == "overdue":
        return f"overdue {line.overdue_days} d"
    if line.status == "upcoming" and line.due_date:
        return f"upcoming {line.due_date.isoformat()}"
    return line.status


def _fractions(line: DueCheck) -> str:
    return f"{line.fractions_delivered}/{line.fractions_prescribed}" if line.fractions_prescribed else str(line.fractions_delivered)


SHORT = {"plancheck record": "record", "MOSAIQ QCL task": "QCL"}


def _last(line: DueCheck) -> str:
    return f"{line.last_check.date().isoformat()} {SHORT.get(line.last_check_source, line.last_check_source)}" if line.last_check else ""


def render(lines: list[DueCheck], missing: list[str], on: dt.date, batch: str) -> None:
    """The worklist as a table, overdue first, what MOSAIQ lacked, and the last batch's status."""
    out = console()
    due = sum(line.is_due for line in lines)
    grid = Table(title=f"worklist {on.isoformat()}: {due} due of {len(lines)} prescriptions", title_justify="left")
    for name in ("patient", "name", "prescription", "check", "state", "fx", "last check"):
        grid.add_column(name, no_wrap=name in ("patient", "check", "fx"))
    grid.add_column("why", ratio=1)
    for line in lines:
        why = "; ".join([line.reason, *line.notes])
        grid.add_row(escape(line.patient_id or "(no ID)"), escape(line.patient_name), escape(line.prescription), line.kind,
                     f"[{STYLE[line.status]}]{_state(line)}[/]", _fractions(line), escape(_last(line)), escape(why))
    out.print(grid if lines else f"nobody under treatment or about to start on {on.isoformat()}")
    for what in missing:
        out.print(f"[yellow]{escape(what)}[/]", highlight=False)
    out.print(escape(batch), highlight=False, soft_wrap=True)


@reports_errors
def worklist(
    date: str = typer.Option(None, "--date", "-d", help="The day to draw up the worklist for (YYYY-MM-DD); default today."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal: a table; json: {date, worklist: [...], missing: [...]}."),
    config: Path = ConfigOption,
    mosaiq_url: str = typer.Option(None, "--mosaiq-url", help="Override [mosaiq] url."),
) -> None:
    """Every patient under treatment or about to start, one line per prescription, with the check
    that is due (initial, weekly, final), why, and by how much it is overdue.

    MOSAIQ gives the courses (read-only, a handful of queries for the whole clinic); plancheck's
    record gives the last signed checks ([results] url), MOSAIQ's chart-check QCL task where the
    record has none. Exit code 0, or 2 on a configuration or connection error.

    Example: plancheck worklist --date 2026-11-20 --config plancheck-demo/plancheck.toml
    """
    from plancheck.batch import last_batch
    from plancheck.record.db import open_record, results_url
    from plancheck.record.worklist import worklist as draw_up

    on = parse_day(date)
    cfg = config_from(config, mosaiq_url)
    engine = open_record(results_url(cfg))
    lines, missing = draw_up(cfg, engine, on)
    batch = last_batch(engine)
    if fmt == Format.json:
        status = None if batch is None else {**asdict(batch), "finished": batch.finished.isoformat()}
        typer.echo(json.dumps({"date": on.isoformat(), "worklist": [line.to_dict() for line in lines], "missing": missing, "last_batch": status}, indent=2))
    else:
        render(lines, missing, on, batch.line() if batch else "no batch has run yet (plancheck batch --due)")
