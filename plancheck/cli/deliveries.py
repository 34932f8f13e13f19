"""`plancheck deliveries PATIENT`: every recorded delivery and what it was matched to."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors
from plancheck.cli.lookup import collect_patient
from plancheck.errors import ConfigError, SourceError

if TYPE_CHECKING:
    from rich.table import Table

    from plancheck.table import ParamTable

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

    Exit code: 0 when every delivery matched, 1 when one did not or none was recorded, 2 when the
    iCOM folder or the reference source cannot be read.

    Example: plancheck deliveries 015112 --config plancheck-demo/plancheck.toml
    """
    from rich.table import Table
    from rich.text import Text

    from plancheck.delivery.matching import match_in_table
    from plancheck.report.terminal import data

    cfg = config_from(config)
    if cfg.icom_dir is None:
        raise ConfigError("no iCOM folder configured, so there are no recorded deliveries to list",
                          fix="set [folders] icom in plancheck.toml to the listener's --dir")
    table = collect_patient(patient_id, plan, cfg)
    for source in ("icom", reference):
        if source in table.source_errors:
            raise SourceError(f"{source} could not be read, so deliveries cannot be listed: {table.source_errors[source]}")
    matches = match_in_table(table, patient_id, reference, "icom")
    out = console()
    grid = Table("delivered", "field", "machine", "MU", "match", "plan beam", "MOSAIQ record", "notes",
                 title=data(f"deliveries of {patient_id}"), title_justify="left")
    grid.columns[0].no_wrap = True
    for m in matches:
        r = m.recording
        grid.add_row(f"{r.start:%Y-%m-%d %H:%M}", data(r.field_id), data(r.machine), f"{r.delivery.total_mu:.1f}",
                     Text(m.status, style=STYLE[m.status]), data(m.beam or "-"), data(m.record or "-"), data("; ".join(m.reasons)))
    out.print(grid)
    if reference == "monaco_tel":
        out.print(_tel_beams(table))
    for warning in table.warnings:
        if warning.startswith(("icom:", f"{reference}:")):
            out.print(data(f"warning: {warning}", "yellow"))
    counts = {s: sum(m.status == s for m in matches) for s in STYLE}
    out.print(f"{len(matches)} deliveries: {counts['matched']} matched, {counts['unmatched']} unmatched, {counts['ambiguous']} ambiguous")
    raise typer.Exit(0 if matches and counts["matched"] == len(matches) else 1)


def _tel_beams(table: ParamTable) -> Table:
    """The tel.1's beams and the plan beam each was matched to, with the reason (docs/monaco.md)."""
    from rich.table import Table
    from rich.text import Text

    from plancheck.report.terminal import data
    from plancheck.sources.monaco.matching import notes_in

    grid = Table("tel.1 line", "control points", "MU", "match", "plan beam", "why", title="tel.1 beams", title_justify="left")
    for note in notes_in(table):
        plan_beam = note.label if note.status == "matched" else "-"
        status = Text(note.status, style=STYLE[note.status])
        grid.add_row(str(note.line), str(note.control_points), f"{note.mu:.1f}", status, data(plan_beam), data(note.reason))
    return grid
