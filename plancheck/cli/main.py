"""The ``plancheck`` command: sub-commands are small modules, added here by name."""

from __future__ import annotations

import gc

import typer

from plancheck.version import __version__
from plancheck.cli import baseline, icom, mosaiq, pdf, report, rules, simulate, users
from plancheck.cli.check import check
from plancheck.cli.deliveries import deliveries
from plancheck.cli.documents import documents
from plancheck.cli.record import amend, dispose, history, review, sign, tick
from plancheck.cli.demo import demo
from plancheck.cli.serve import serve
from plancheck.cli.stats import stats
from plancheck.cli.worklist import worklist
from plancheck.cli.batch import batch

app = typer.Typer(
    name="plancheck",
    help=(
        "Plan and chart checks for MOSAIQ clinics.\n\n"
        "Collects the same parameters from every system that holds them (MOSAIQ, plan PDFs, "
        "DICOM RT Plan, Monaco tel.1, iCOM, TRF), compares them beam by beam and runs the "
        "checks declared for the treatment type.\n\n"
        "Start with `plancheck demo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no rich_utils or markdown import at start-up
)
app.add_typer(pdf.app, name="pdf")

app.command()(demo)
app.command()(check)
app.command()(deliveries)
app.command()(documents)
app.command()(stats)
app.command()(worklist)
app.command()(batch)
app.add_typer(rules.app, name="rules")
app.add_typer(simulate.app, name="simulate")
app.add_typer(baseline.app, name="baseline")
app.add_typer(report.app, name="report")
app.add_typer(icom.app, name="icom")
app.add_typer(mosaiq.app, name="mosaiq")
for record_command in (review, dispose, tick, sign, amend, history):  # the chart-check record
    app.command()(record_command)
app.add_typer(users.app, name="users")
app.command()(serve)


@app.command()
def version() -> None:
    """Print plancheck's version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    finally:
        # the process ends now: a frozen collector leaves the interpreter's shutdown the million objects of the
        # libraries a command loaded (0.2-0.3 s of `plancheck check`); files, connections and atexit handlers close as usual
        gc.freeze()
