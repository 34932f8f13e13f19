"""`plancheck demo`: build the demo clinic and check a clean patient and one with planted errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from plancheck.demo.record import DemoRecord

from plancheck.cli.common import console, reports_errors


@reports_errors
def demo(
    out: Path = typer.Option(Path("plancheck-demo"), "--out", "-o", help="Folder for the demo clinic (rebuilt each time)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the closing summary, not the two reports."),
) -> None:
    """Build a demo clinic and check two patients: one clean, one with planted errors.

    The clinic (in ./plancheck-demo by default) is a MOSAIQ database with MOSAIQ's own tables,
    filled from the real Monaco RT Plans that ship with pymedphys, the matching DICOM files, a
    Monaco FocalData tree and a plancheck.toml, so every other command can be tried on it:

      plancheck check 015112 --kind weekly --config plancheck-demo/plancheck.toml
    """
    from plancheck.demo.clinic import build_clinic, check_patient  # pydicom, pymedphys: only for the demo
    from plancheck.demo.mosaiq_db import PATIENTS
    from plancheck.demo.record import build_demo_record
    from plancheck.report import render_terminal, write_all

    screen = console()
    screen.print(f"building the demo clinic in {out} ...", highlight=False)
    _clinic, config = build_clinic(out)
    record = build_demo_record(config)
    clean, errors = PATIENTS[0], PATIENTS[1]
    outcomes = [check_patient(clean, config, ("initial", "weekly")), check_patient(errors, config, ("initial", "weekly"))]
    for outcome in outcomes:
        for run in outcome.runs:
            write_all(run, config.output_dir)
        if not quiet:
            render_terminal(outcome.runs[0], screen)
            screen.rule()
    summary = Table("patient", "what it is", "result", title="plancheck demo", title_justify="left")
    good = outcomes[0]
    summary.add_row(clean.patient_id, clean.purpose, "[green]all automatic checks pass[/]" if good.ok else "[red]a check failed on the clean patient[/]")
    caught = outcomes[1].caught()
    for error in errors.planted:
        checks = caught[error.id]
        summary.add_row(errors.patient_id, f"planted: {error.description} ({error.kind})",
                        f"[green]caught by {', '.join(checks)}[/]" if checks else "[red]NOT caught[/]")
    screen.print(summary)
    screen.print(_record_lines(record, errors.patient_id, config.path), highlight=False)
    screen.print(
        f"reports in {escape(str(config.output_dir))}; the clinic's config: {escape(str(config.path))}\n"
        f"next: plancheck check {errors.patient_id} --kind weekly --config {escape(str(config.path))}\n"
        f"      plancheck simulate auto {clean.patient_id} --config {escape(str(config.path))}",
        highlight=False,
    )
    raise typer.Exit(0 if all(o.ok for o in outcomes) else 1)


def _record_lines(record: DemoRecord, patient_id: str, config: Path | None) -> str:
    """What the demo's record holds, and its users' passwords: shown here once, stored nowhere."""
    users = ", ".join(f"{name} (password {password})" for name, password in record.passwords.items())
    return (f"record: {escape(record.url)}: last week's weekly check of {patient_id} signed as run {record.signed_run}\n"
            f"users: {escape(users)}; the passwords are shown only now (made for this demo, stored nowhere)\n"
            f"this week: plancheck check {patient_id} --kind weekly --config {escape(str(config))}, then plancheck review RUN")

