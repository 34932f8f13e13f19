"""`plancheck stats`: what the record teaches (findings per check and month, checks that never fire, sign-off times)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, err, parse_date, reports_errors
from plancheck.cli.mosaiq import Format


@reports_errors
def stats(
    since: str = typer.Option(None, "--since", help="First day of the period, YYYY-MM-DD (00:00 UTC); default: the whole record."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal, or json (the statistics as data on stdout)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder to write stats.html (each table with its figure) and stats.json into."),
    config: Path = ConfigOption,
) -> None:
    """What the record teaches: findings per check and per month with their dispositions (many false
    alarms: the rule to tune), checks that never fire, runs per kind and the time from run to sign-off.

    Example: plancheck stats --since 2026-10-01 --out stats --config plancheck-demo/plancheck.toml
    """
    from plancheck.record.db import open_record, results_url, session
    from plancheck.record.stats import compute, tables

    start = parse_date(since, "--since")
    engine = open_record(results_url(config_from(config)))
    with session(engine) as s:
        found = compute(s, start)
    if out is not None:
        from plancheck.record.stats_html import write_html

        page = write_html(found, out)
        (out / "stats.json").write_text(json.dumps(found.to_dict(), indent=2), encoding="utf-8")
        err.print(f"wrote {escape(str(page))} and stats.json", highlight=False, soft_wrap=True)
    if fmt is Format.json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    screen = console()
    for table in tables(found):
        grid = Table(*table.header, title=table.title, title_justify="left")
        for row in table.rows:
            grid.add_row(*(escape(cell) for cell in row))
        screen.print(grid if table.rows else f"{table.title}: none in this period", highlight=False)
