"""`plancheck deliveries PATIENT`: every recorded delivery and what it was matched to."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors
from plancheck.collector import collect
from plancheck.delivery.matching import match_in_table

STYLE = {"matched": "green", "unmatched": "red", "ambiguous": "yellow"}


@reports_errors
def deliveries(
    patient_id: str = typer.Argument(..., help="Patient ID (MOSAIQ IDA)."),
    plan: str = typer.Option(None, "--plan", "-p", help="Plan / site name."),
    reference: str = typer.Option("monaco_tel", "--reference", help="Plan source to match against: monaco_tel, rtplan or mosaiq."),
    config: Path = ConfigOption,
) -> None:
    """List the patient's recorded (iCOM) deliveries with the plan beam and MOSAIQ record each matches.

    Matching uses the patient ID, the field ID or beam description, MU and gantry range, and for
    the MOSAIQ record the machine and a 30-minute window. Unmatched and ambiguous deliveries are
    listed with the reason: nothing is guessed.

    Example: plancheck deliveries 015112 --config plancheck-demo/plancheck.toml
    """
    table = collect(patient_id, plan, config_from(config))
    matches = match_in_table(table, patient_id, reference, "icom")
    out = console()
    grid = Table("delivered", "field", "machine", "MU", "match", "plan beam", "MOSAIQ record", "notes", title=f"deliveries of {escape(patient_id)}", title_justify="left")
    grid.columns[0].no_wrap = True
    for m in matches:
        r = m.recording
        grid.add_row(f"{r.start:%Y-%m-%d %H:%M}", escape(r.field_id), escape(r.machine), f"{r.delivery.total_mu:.1f}",
                     f"[{STYLE[m.status]}]{m.status}[/]", m.beam or "-", m.record or "-", escape("; ".join(m.reasons)))
    out.print(grid)
    counts = {s: sum(m.status == s for m in matches) for s in STYLE}
    out.print(f"{len(matches)} deliveries: {counts['matched']} matched, {counts['unmatched']} unmatched, {counts['ambiguous']} ambiguous")
    raise typer.Exit(0 if counts["matched"] == len(matches) else 1)
