"""The run in a terminal (Rich): header, parameter tables with sources as columns, checks, summary.

Colour marks status where the terminal has it; every status is also written as a
symbol and a word, so the report reads the same as plain text (pipes, log files).
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.report.view import LABELS, SYMBOLS, ParamRow, RecordTable, ReportView, beam_text, build_view, by_severity, created_text, printable

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NOT_APPLICABLE: "dim",
    Status.MANUAL: "cyan",
}
ROW_STYLES = {Status.FAIL: "red", Status.ERROR: "magenta", Status.WARN: "yellow"}


def render_terminal(run: CheckRun, console: Console | None = None, *, verbose: bool = False) -> None:
    """Print ``run`` to ``console`` (a new stdout Console by default); ``verbose`` lists every record and comparison."""
    console = console or Console()
    view = build_view(run)
    console.print(_header(view))
    if view.plan_rows:
        console.print()
        console.print(_param_table("Patient and prescription", view.plan_rows, view.plan_sources, with_beam=False))
    console.print()
    if view.beam_rows:
        console.print(_param_table("Beam parameters", view.beam_rows, view.beam_sources, with_beam=True))
    else:
        console.print(Text("No beam parameters were collected.", style="yellow"))
    if view.record_tables:
        console.print()
    _records(console, view.record_tables, verbose)
    if view.notices:
        console.print()
        console.print(_notices(view))
    console.print()
    console.print(_checks_table(view, verbose))
    console.print()
    console.print(_manual(view))
    console.print(_summary(view))


def data(value: object, style: str = "") -> Text:
    """Data as a Rich Text: never read as markup (``PTV[high]`` stays ``PTV[high]``), control characters shown."""
    return Text(printable(value), style=style)


def status_text(status: Status | None) -> Text:
    if status is None:
        return Text("")
    return Text(f"{SYMBOLS[status]} {LABELS[status]}", style=STYLES[status])


def _notices(view: ReportView) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.title, grid.title_justify, grid.title_style = "Warnings", "left", "bold"
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for notice in view.notices:
        grid.add_row(Text(f" {SYMBOLS[notice.status]}", style=STYLES[notice.status]), data(notice.text, STYLES[notice.status]))
    return grid


def _header(view: ReportView) -> Panel:
    run = view.run
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Patient", data(f"{run.patient_id}  {view.patient_name}".strip()))
    grid.add_row("Plan", data(run.plan or "(all plans)"))
    grid.add_row("Check", data(f"{run.check_kind}  ·  rule set {run.rule_set}"))
    grid.add_row("Created", data(f"{created_text(run)}  ·  plancheck {run.version}".rstrip(" ·")))
    grid.add_row("Sources read", data(", ".join(view.sources_read)) if view.sources_read else Text("none", style="bold red"))
    for source, message in view.source_errors.items():
        grid.add_row(Text("Source error", style="bold red"), data(f"{source}: {message}", "red"))
    return Panel(grid, title=data(f"plancheck {run.check_kind} check"), title_align="left", box=box.ROUNDED, expand=True)


def _param_table(title: str, rows: list[ParamRow], sources: list[str], *, with_beam: bool) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    # no min_width: Rich crops the last column (the status) when minimums overrun the width
    if with_beam:
        table.add_column("Beam", overflow="fold", max_width=12)
    table.add_column("Parameter", no_wrap=True)
    for source in sources:
        table.add_column(data(source), overflow="fold")
    table.add_column("Agree", no_wrap=True)
    for i, row in enumerate(rows):
        first = i == 0 or rows[i - 1].beam != row.beam
        last = i == len(rows) - 1 or rows[i + 1].beam != row.beam
        cells = [data(row.beam if first else "")] if with_beam else []
        cells += [data(row.label), *(data(row.values.get(s, "")) for s in sources)]
        table.add_row(*cells, status_text(row.status), style=ROW_STYLES.get(row.status) if row.status else None, end_section=with_beam and last)
    return table


def _records(console: Console, tables: list[RecordTable], verbose: bool) -> None:
    for records in tables:
        line = records.count_line() + ("" if verbose else " (listed with --verbose)")
        console.print(data(line, "dim" if not verbose else "bold"))
        if not verbose:
            continue
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("source")
        table.add_column("item", overflow="fold")
        for param in records.params:
            table.add_column(data(param), overflow="fold")
        for source, item, values in records.records:
            table.add_row(data(source), data(item), *(data(values.get(p, "")) for p in records.params))
        console.print(table)


def _checks_table(view: ReportView, verbose: bool) -> Table:
    table = Table(title="Automatic checks", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", overflow="fold", max_width=34)
    table.add_column("Beam", no_wrap=True, max_width=12)
    table.add_column("Message", overflow="fold", ratio=1)
    shown = by_severity(view.explicit + view.implicit) if verbose else view.explicit
    for result in shown:
        table.add_row(status_text(result.status), _check_name(result), data(result.beam), _message(result, verbose))
    table.caption = data(view.implicit_line())
    table.caption_justify = "left"
    return table


def _check_name(result: CheckResult) -> Text:
    text = data(result.id)
    if result.name and result.name != result.id:
        text.append(f"\n{printable(result.name)}", style="dim")
    return text


def _message(result: CheckResult, verbose: bool) -> Text:
    """Message of non-passing checks (of all checks with verbose), and the figures they made."""
    if result.status in (Status.PASS, Status.NOT_APPLICABLE) and not verbose:
        return Text("")
    text = data(result.message, ROW_STYLES.get(result.status, ""))
    for figure in result.figures:
        text.append(f"\nfigure: {printable(figure)}", style="dim")
    return text


def _manual(view: ReportView) -> Table | Text:
    if not view.manual:
        return Text("No manual checks in this rule set.", style="dim")
    grid = Table.grid(padding=(0, 2))
    grid.title, grid.title_justify, grid.title_style = f"Manual checks ({len(view.to_tick)} to tick)", "left", "bold"
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for result in view.manual:
        where = f" ({beam_text(result.beam)})" if result.beam else ""
        line = data(f"{result.id}: {result.name}{where}")
        if result.message:
            line.append(f" — {printable(result.message)}", style="dim")
        grid.add_row(status_text(result.status), line)
    return grid


def _summary(view: ReportView) -> Panel:
    passed = view.run.passed and view.summary.startswith("PASS")
    style = "bold green" if passed else ("bold red" if not view.run.passed else "bold yellow")
    body = data(view.summary, style)
    body.append(f"\n{view.counts_line()}", style="")
    return Panel(body, box=box.HEAVY if not passed else box.ROUNDED, border_style=style, expand=True)
