"""`plancheck simulate`: prove that the checks catch the errors they claim to catch."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.markup import escape

from plancheck.cli.check import Format, Kind, parse_today
from plancheck.cli.common import ConfigOption, config_from, config_path, console, reports_errors
from plancheck.cli.lookup import collect_patient

app = typer.Typer(
    help=(
        "Simulate errors: the check of the checks.\n\n"
        "Interactive: `simulate edit` writes the collected table as CSV files to edit, `simulate run` "
        "checks the edited table and shows what changed. Automatic: `simulate auto` applies every "
        "catalogued fault alone to a clean case and prints which checks catch it.\n\n"
        "Example: plancheck simulate auto 015112 --config plancheck-demo/plancheck.toml"
    ),
    no_args_is_help=True,
)
out = console()


@app.command()
@reports_errors
def edit(
    patient_id: str = typer.Argument(..., help="Patient ID (MOSAIQ IDA)."),
    folder: Path = typer.Option(..., "--dir", "-d", help="Folder to write the editable files to."),
    plan: str = typer.Option(None, "--plan", "-p", help="Plan / site name."),
    kind: Kind = typer.Option(Kind.initial, "--kind", "-k", help="Check kind `simulate run` will run."),
    rules: str = typer.Option(None, "--rules", help="Rule set (default: chosen from the plan)."),
    config: Path = ConfigOption,
    today: str = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD)."),
) -> None:
    """Write the patient's collected table to DIR as one CSV per source, with a README saying what to edit."""
    from plancheck.simulate.interactive import prepare

    paths = prepare(patient_id, folder, plan=plan, kind=kind.value, config_path=config_path(config), rules=rules,
            today=parse_today(today) or dt.datetime.now().replace(microsecond=0))
    out.print(f"wrote {', '.join(p.name for p in paths)} to {folder}; edit them, then run: plancheck simulate run {folder}", highlight=False)


@app.command()
@reports_errors
def run(folder: Path = typer.Argument(..., help="Folder written by `plancheck simulate edit`.")) -> None:
    """Run the checks on the edited table and show, check by check, what changed against the unedited run."""
    from plancheck.simulate.interactive import run_edited

    _before, after, changes = run_edited(folder)
    if not changes:
        out.print("no check changed: the edits were not caught by any check (or changed nothing)")
    for c in changes:
        colour = {"newly failing": "red", "newly passing": "green", "new warning": "yellow"}.get(c.label, "white")
        beam = f" beam {c.beam}" if c.beam else ""
        out.print(f"[{colour}]{c.label:14}[/] {c.id}{escape(beam)}: {c.before or '-'} -> {c.after or '-'}  {escape(c.message)}", highlight=False)
    out.print(f"{sum(c.label == 'newly failing' for c in changes)} newly failing, {sum(c.label == 'new warning' for c in changes)} new warnings, "
              f"{sum(c.label == 'newly passing' for c in changes)} newly passing; nothing was written to any source system")
    raise typer.Exit(after.exit_code)


@app.command()
@reports_errors
def auto(
    patient_id: str = typer.Argument(..., help="A patient whose case passes clean (e.g. the demo's 015112)."),
    plan: str = typer.Option(None, "--plan", "-p", help="Plan / site name."),
    config: Path = ConfigOption,
    faults: Path = typer.Option(None, "--faults", help="A fault catalogue YAML (default: the shipped one)."),
    only: str = typer.Option(None, "--only", help="Comma-separated fault ids to run."),
    kinds: list[Kind] = typer.Option([Kind.initial, Kind.weekly], "--kind", "-k",
            help="Fault kinds to run (repeat the option). final needs a completed course, e.g. the demo's 030405."),
    rules: str = typer.Option(None, "--rules", help="Rule set (default: chosen from the plan)."),
    fmt: Format = typer.Option(Format.terminal, "--format", "-f", help="terminal, or json (the matrix as data on stdout)."),
    html: Path = typer.Option(None, "--html", help="Write the matrix as HTML here (default: <output>/<patient>/detection_matrix.html)."),
    today: str = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD)."),
    accept_silent: bool = typer.Option(False, "--accept-silent", help="Exit 0 even when an expected check stays silent while others catch the fault."),
) -> None:
    """Apply each catalogued fault alone to a clean case and report the detection matrix.

    Exit 1 when a fault escapes every check, an expected check stays silent while others
    catch the fault (unless --accept-silent), or the clean case raises a false alarm.
    """
    from rich.console import Console
    from rich.progress import Progress

    from plancheck.api import rule_library
    from plancheck.checks.engine import select_rule_set
    from plancheck.report.matrix import render_matrix_terminal, write_matrix_html
    from plancheck.simulate.auto import run_matrix
    from plancheck.simulate.catalogue import known_check_ids, load_catalogue

    cfg = config_from(config)
    when = parse_today(today) or dt.datetime.now().replace(microsecond=0)
    table = collect_patient(patient_id, plan, cfg)
    library = rule_library(cfg)
    rule_set = select_rule_set(library, table, when, rules)
    catalogue = [f for f in load_catalogue(faults, known_check_ids(library)) if f.kind in {k.value for k in kinds}]
    if only:
        wanted = {x.strip() for x in only.split(",")}
        catalogue = [f for f in catalogue if f.id in wanted]
    with Progress(console=Console(stderr=True), transient=True, disable=fmt == Format.json) as progress:
        task = progress.add_task("injecting faults", total=len(catalogue))
        matrix = run_matrix(table, catalogue, rule_set, config=cfg, today=when, patient_id=patient_id,
                            progress=lambda f: progress.update(task, advance=1, description=f"fault {f.id}"))
    matrix.accept_silent = accept_silent
    html_path = write_matrix_html(matrix, html or cfg.output_dir / patient_id / "detection_matrix.html")
    if fmt == Format.json:
        typer.echo(json.dumps(matrix.to_dict(), indent=2))
    else:
        render_matrix_terminal(matrix, out)
        out.print(f"HTML: {html_path}", highlight=False)
    raise typer.Exit(matrix.exit_code)
