"""The chart-check record on the command line: review a run, judge its findings, tick its manual checks,
sign it (the password asked again), amend a signed one, and a patient's history.

Exit codes: 0 done; 1 the record refuses for a reason to fix in the record (a finding without a
disposition, an unticked manual check, a signed run, a wrong password, a role too low); 2 a usage,
configuration or connection error (an unknown run, finding, user or verdict included).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from plancheck.cli.common import console, reports_errors
from plancheck.cli.record_common import ConfigOption, Listing, UserOption, acting, emit_json, open_configured_record, read_password


class Verdict(str, Enum):  # plancheck.record.models.VERDICTS
    acknowledged = "acknowledged"
    accepted = "accepted"
    to_be_fixed = "to_be_fixed"
    false_alarm = "false_alarm"


@reports_errors
def review(
    run: int = typer.Argument(..., help="Run number (printed by `plancheck check`, listed by `plancheck history PATIENT`)."),
    fmt: Listing = typer.Option(Listing.terminal, "--format", "-f", help="terminal, or json."),
    config: Path = ConfigOption,
) -> None:
    """Show a stored run: findings new since the last signed check first, known ones folded with who judged them and when."""
    from plancheck.cli.record_view import render_review
    from plancheck.record.as_json import review_dict
    from plancheck.record.db import session
    from plancheck.record.findings import review as build

    _cfg, engine = open_configured_record(config)
    with session(engine) as s:
        found = build(s, run)
        if fmt == Listing.json:
            emit_json(review_dict(s, found))
        else:
            render_review(found, console())


@reports_errors
def dispose(
    findings: list[int] = typer.Argument(..., help="Finding number(s), as `plancheck review RUN` lists them."),
    verdict: Verdict = typer.Option(..., "--as", help="acknowledged, accepted (clinically fine), to_be_fixed (with --assignee), false_alarm."),
    comment: str = typer.Option(..., "--comment", "-m", help="Why: the judgement in a sentence."),
    assignee: str = typer.Option("", "--assignee", help="Who fixes it (to_be_fixed)."),
    run: int = typer.Option(None, "--run", help="The run whose values are judged (default: the finding's latest)."),
    user: str = UserOption,
    config: Path = ConfigOption,
) -> None:
    """Judge findings: each disposition stores who, when, the verdict, the comment and the values it judged."""
    from plancheck.record.findings import dispose as judge

    with acting(config, user) as (_cfg, s, me):
        for finding in findings:
            judge(s, finding, verdict=verdict.value, comment=comment, assignee=assignee, user=me, run_id=run)
            typer.echo(f"finding {finding}: {verdict.value} by {me.username}")


@reports_errors
def tick(
    run: int = typer.Argument(..., help="Run number."),
    checks: list[str] = typer.Argument(..., help="Manual check id(s), e.g. manual.imaging."),
    untick: bool = typer.Option(False, "--untick", help="Take the tick back."),
    user: str = UserOption,
    config: Path = ConfigOption,
) -> None:
    """Tick manual checks of an open run (who and when are stored; the latest tick counts)."""
    from plancheck.record.signoff import tick as mark

    with acting(config, user) as (_cfg, s, me):
        for check in checks:
            mark(s, run, check, ticked=not untick, user=me)
            typer.echo(f"run {run}: {check} {'unticked' if untick else 'ticked'} by {me.username}")


@reports_errors
def sign(
    run: int = typer.Argument(..., help="Run number."),
    meaning: str = typer.Option(..., "--meaning", help="What the signature means, e.g. 'weekly chart check reviewed'."),
    user: str = UserOption,
    config: Path = ConfigOption,
) -> None:
    """Sign a run: refused while a failure lacks a disposition or a manual check is unticked; asks your password
    again; writes the signed record PDF to the eSCAN folder and an audit entry. A signed run never changes."""
    from plancheck.record.signoff import ready_to_sign, sign as close

    with acting(config, user) as (cfg, s, me):
        ready_to_sign(s, run)
        signature = close(s, run, user=me, password=read_password(f"password for {me.username}"), meaning=meaning, config=cfg)
    typer.echo(f"run {run} signed by {me.username} at {signature.signed_at.astimezone():%Y-%m-%d %H:%M}: {signature.meaning}")
    typer.echo(f"signed record: {signature.pdf_path}")


@reports_errors
def amend(
    run: int = typer.Argument(..., help="The signed run to correct."),
    reason: str = typer.Option(..., "--reason", help="Why the signed run needs a correction."),
    user: str = UserOption,
    config: Path = ConfigOption,
) -> None:
    """Correct a signed run: a new open run that references it, to judge, tick and sign again."""
    from plancheck.record.signoff import amend as correct

    with acting(config, user) as (_cfg, s, me):
        copy = correct(s, run, user=me, reason=reason)
        typer.echo(f"run {copy.id} amends signed run {run}: plancheck review {copy.id}")


@reports_errors
def history(
    patient_id: str = typer.Argument(..., help="Patient ID as MOSAIQ shows it."),
    diff: tuple[int, int] = typer.Option(None, "--diff", help="Two run numbers: what changed from the first to the second."),
    fmt: Listing = typer.Option(Listing.terminal, "--format", "-f", help="terminal, or json ({patient_id, runs[, diff]})."),
    config: Path = ConfigOption,
) -> None:
    """Every stored check of a patient, signed or not, and what changed between two runs."""
    from plancheck.cli.record_view import history_table
    from plancheck.record.as_json import run_dict
    from plancheck.record.db import session
    from plancheck.record.diff import run_diff
    from plancheck.record.store import runs_of

    _cfg, engine = open_configured_record(config)
    with session(engine) as s:
        runs = [run_dict(s, r) for r in runs_of(s, patient_id)]
        changes = run_diff(s, *diff) if diff else None
        data = {"patient_id": patient_id, "runs": runs, **({"diff": changes.to_dict()} if changes else {})}
    if fmt == Listing.json:
        emit_json(data)
        return
    screen = console()
    screen.print(history_table(runs) if runs else f"no stored runs of {patient_id}", highlight=False)
    if changes is not None:
        _print_diff(changes.to_dict())


def _print_diff(diff: dict[str, list[dict[str, str]]] | dict[str, object]) -> None:
    from rich.table import Table
    from rich.text import Text

    screen = console()
    for part, columns in (("results", ("check_id", "beam", "before", "after")), ("values", ("where", "param", "source", "before", "after"))):
        rows = diff[part]
        assert isinstance(rows, list)
        table = Table(*columns, title=f"{part} that changed from run {diff['a']} to run {diff['b']}: {len(rows)}", title_justify="left", box=None)
        for row in rows:
            table.add_row(*(Text(str(row[c])) for c in columns))
        screen.print(table)
