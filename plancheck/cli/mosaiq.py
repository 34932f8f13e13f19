"""`plancheck mosaiq doctor [PATIENT]`: what this MOSAIQ has of what plancheck reads."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors
from plancheck.errors import ConfigError

if TYPE_CHECKING:
    from plancheck.sources.mosaiq.doctor import Diagnosis

app = typer.Typer(help="MOSAIQ: check what plancheck can read from your server.", no_args_is_help=True)


class Format(str, Enum):
    terminal = "terminal"
    json = "json"


def _print(found: Diagnosis, verbose: bool) -> None:
    out = console()
    out.print(f"MOSAIQ at {escape(found.where)} ({found.dialect}): {escape(found.version)}", highlight=False)
    grid = Table("table", "column", "found as", "if absent", title="tables and columns plancheck reads", title_justify="left")
    for c in found.columns:
        if verbose or not c["present"]:
            grid.add_row(c["table"], c["column"] or "(the table)", escape(c["server_name"]) or "[red]absent[/]", escape(c["disables"] or "(not needed)"))
    out.print(grid if grid.row_count else "")
    present = sum(c["present"] for c in found.columns)
    out.print(f"{present} columns present, {len(found.columns) - present} absent" + ("" if verbose else " (--all lists the present ones too)"))
    for line in found.fatal + found.absences:
        out.print(f"[{'red' if line in found.fatal else 'yellow'}]{escape(line)}[/]", highlight=False)
    if found.machines:
        head = ("machine", "Staff_ID", "Staff Type", "fields", "jaw convention", "from", "points IEC / distance")
        machines = Table(*head, title="machines", title_justify="left")
        for m in found.machines:
            points = f"{m.iec_points} / {m.distance_points}"
            machines.add_row(escape(m.name), str(m.staff_id), escape(m.staff_type), str(m.fields), m.convention, m.source, points)
        out.print(machines)
    for what, values in found.codes.items():
        out.print(f"{what}: " + ", ".join(f"{escape(v) or '(blank)'} x{n}" for v, n in values), highlight=False)
    if found.patient:
        queries = Table("query", "table", "rows", "ms", "unreadable rows", title="the patient's queries", title_justify="left")
        for q in found.patient:
            queries.add_row(escape(q["query"]), q["table"], str(q["rows"]), f"{q['ms']:.1f}", str(q["unreadable_rows"]))
        out.print(queries)


@app.command()
@reports_errors
def doctor(
    patient_id: str = typer.Argument(None, help="A patient ID (MOSAIQ IDA) to time the queries for."),
    config: Path = ConfigOption,
    mosaiq_url: str = typer.Option(None, "--mosaiq-url", help="Override [mosaiq] url, e.g. mssql+pymssql://user@host:1433/MOSAIQ."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal or json."),
    show_all: bool = typer.Option(False, "--all", help="List present columns too, not only absent ones."),
) -> None:
    """Connect read-only and show what plancheck can read: server and version, every table and column
    it uses (present / absent / what an absence disables), each machine's jaw convention, the clinic's
    Schedule activities and QCL task names in use, and for PATIENT the rows and time of each query.

    Exit 0 when plancheck can run its checks, 1 when something it needs is absent, 2 when MOSAIQ cannot be reached.

    Example: plancheck mosaiq doctor 015112 --config plancheck.toml
    """
    from plancheck.sources.mosaiq.connect import open_mosaiq  # sqlalchemy: only for this command
    from plancheck.sources.mosaiq.doctor import diagnose

    cfg = config_from(config, mosaiq_url)
    if not cfg.mosaiq_url:
        raise ConfigError("no MOSAIQ configured", fix="set [mosaiq] url in plancheck.toml or pass --mosaiq-url")
    found = diagnose(open_mosaiq(cfg.mosaiq_url, cfg.mosaiq_timeout_s), cfg.mosaiq, patient_id)
    if fmt is Format.json:
        typer.echo(json.dumps(found.to_dict(), indent=2, default=str))
    else:
        _print(found, show_all)
    raise typer.Exit(found.exit_code)
