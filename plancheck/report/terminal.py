"""The run in a terminal (Rich): header, parameter tables, the failures, the checks, and a closing box that lists every failure.

Colour marks status where the terminal has it; every status is also written as a
symbol and a word, so the report reads the same as plain text (pipes, log files).
Where the sources do not fit side by side (80 columns), the parameter tables fold:
one value per row, the sources holding it by letter, and the source out of step
with its value beside it.
"""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.report.failures import failure_line
from plancheck.report.layout import folded_value, source_letters
from plancheck.report.view import LABELS, SYMBOLS, ParamRow, RecordTable, ReportView, beam_text, build_view, created_text, printable

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NOT_APPLICABLE: "dim",
    Status.MANUAL: "cyan",
}
ROW_STYLES = {Status.FAIL: "red", Status.ERROR: "magenta", Status.WARN: "yellow"}
ODD = {Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.WARN: "bold yellow"}


def render_terminal(run: CheckRun, console: Console | None = None, *, verbose: bool = False) -> None:
    """Print ``run`` to ``console`` (a new stdout Console by default); ``verbose`` lists every record and comparison."""
    console = console or Console()
    view = build_view(run)
    console.print(_header(view))
    if view.plan_rows:
        console.print()
        console.print(param_table("Patient and prescription", view.plan_rows, view.plan_sources, with_beam=False, width=console.width))
    console.print()
    if view.beam_rows:
        console.print(param_table("Beam parameters", view.beam_rows, view.beam_sources, with_beam=True, width=console.width))
    else:
        console.print(Text("No beam parameters were collected.", style="yellow"))
    if view.record_tables:
        console.print()
    _records(console, view.record_tables, verbose)
    if view.notices:
        console.print()
        console.print(_notices(view))
    console.print()
    console.print(_failures_table(view))
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
    grid.add_column(overflow="fold")
    grid.add_row("Patient", data(f"{run.patient_id}  {view.patient_name}".strip()))
    grid.add_row("Plan", data(run.plan or "(all plans)"))
    grid.add_row("Check", data(f"{run.check_kind}  ·  rule set {run.rule_set}"))
    for label, value in view.course:
        grid.add_row(label, data(value))
    grid.add_row("Created", data(f"{created_text(run)}  ·  plancheck {run.version}".rstrip(" ·")))
    grid.add_row("Sources read", data(", ".join(view.sources_read)) if view.sources_read else Text("none", style="bold red"))
    for source, message in view.source_errors.items():
        grid.add_row(Text("Source error", style="bold red"), data(f"{source}: {message}", "red"))
    return Panel(grid, title=data(f"plancheck {run.check_kind} check"), title_align="left", box=box.ROUNDED, expand=True)


def param_table(title: str, rows: list[ParamRow], sources: list[str], *, with_beam: bool, width: int) -> Table:
    """Sources side by side where they fit in ``width`` columns, else folded to one value per row."""
    wide = _wide_table(title, rows, sources, with_beam=with_beam)
    return wide if natural_width(wide) <= width else _folded_table(title, rows, sources, with_beam=with_beam)


def natural_width(table: Table) -> int:
    """The width of ``table`` with every cell on one line: what ``Console.measure`` finds, without rendering
    every cell (a third of the terminal report's time)."""
    widths = [max(_width(column.header), *(_width(cell) for cell in column.cells)) for column in table.columns]
    return sum(widths) + 2 * (len(widths) - 1)  # a padding space and the divider between columns


def _width(cell: object) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max(cell_len(line) for line in text.split("\n"))


def _table(title: str) -> Table:
    return Table(
        title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True
    )


def _wide_table(title: str, rows: list[ParamRow], sources: list[str], *, with_beam: bool) -> Table:
    table = _table(title)
    if with_beam:
        table.add_column("Beam", no_wrap=True)
    table.add_column("Parameter", no_wrap=True)
    for source in sources:
        table.add_column(data(source), no_wrap=True)
    table.add_column("Agree", no_wrap=True)
    for i, row in enumerate(rows):
        first = i == 0 or rows[i - 1].beam != row.beam
        last = i == len(rows) - 1 or rows[i + 1].beam != row.beam
        cells = [data(row.beam if first else "")] if with_beam else []
        cells += [data(row.label), *(_value(row, s) for s in sources)]
        table.add_row(*cells, status_text(row.status), end_section=with_beam and last)
    return table


def _value(row: ParamRow, source: str) -> Text:
    """A source's value; the odd one out in its status colour, the others plain."""
    style = ODD.get(row.status, "") if row.status and row.is_odd(source) else ""
    return data(row.values.get(source, ""), style)


def _folded_table(title: str, rows: list[ParamRow], sources: list[str], *, with_beam: bool) -> Table:
    letters = source_letters(sources)
    table = _table(title)
    if with_beam:
        table.add_column("Beam", no_wrap=True)
    table.add_column("Parameter", overflow="fold", ratio=3)
    table.add_column("Value", overflow="fold", ratio=3, min_width=16)
    table.add_column("From", no_wrap=True)
    table.add_column("Out of step", overflow="fold", ratio=2)
    table.add_column("Agree", no_wrap=True)
    for i, row in enumerate(rows):
        first = i == 0 or rows[i - 1].beam != row.beam
        last = i == len(rows) - 1 or rows[i + 1].beam != row.beam
        value, held_by, odd = folded_value(row, sources)
        out = Text()
        for source in odd:
            out.append(f"{'; ' if out else ''}{printable(source)} {printable(row.values[source])}", style=ODD.get(row.status, "") if row.status else "")
        cells = [data(row.beam if first else "")] if with_beam else []
        cells += [data(row.label), data(value), data("".join(letters[s] for s in held_by)), out]
        table.add_row(*cells, status_text(row.status), end_section=with_beam and last)
    table.caption = data("From: " + ", ".join(f"{letter} {source}" for source, letter in letters.items()))
    table.caption_justify = "left"
    return table


def _records(console: Console, tables: list[RecordTable], verbose: bool) -> None:
    for records in tables:
        line = records.count_line() + ("" if verbose else " (listed with --verbose)")
        console.print(data(line, "dim" if not verbose else "bold"))
        if not verbose:
            continue
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("source", overflow="fold")
        table.add_column("item", overflow="fold")
        for label in records.labels:
            table.add_column(data(label), overflow="fold")
        for source, item, values in records.records:
            table.add_row(data(source), data(item), *(data(values.get(p, "")) for p in records.params))
        console.print(table)


def _failures_table(view: ReportView) -> Table | Text:
    """The one list of checks that failed, could not run or warned: explicit and cross-source alike."""
    if not view.failures:
        return Text("Failures: none; every automatic check passed or did not apply.", style="green")
    table = _table(f"Failures: {view.failure_count_line()}")
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", overflow="fold", ratio=2, max_width=30)
    table.add_column("Beam", no_wrap=True)
    table.add_column("What", overflow="fold", ratio=5)
    for failure in view.failures:
        what = Text()
        for line in failure.lines:
            what.append(f"{chr(10) if what else ''}{printable(line)}", style=ROW_STYLES.get(failure.status, ""))
        for figure in failure.figures:
            what.append(f"\nfigure: {printable(figure)}", style="dim")
        table.add_row(status_text(failure.status), _check_name(failure.name, failure.check_id), data(failure.beam), what)
    return table


def _checks_table(view: ReportView, verbose: bool) -> Table:
    """The automatic checks that passed or did not apply (the failing ones are listed above)."""
    table = _table("Other automatic checks")
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", overflow="fold", ratio=3)
    table.add_column("Beam", no_wrap=True)
    table.add_column("Message", overflow="fold", ratio=2)
    shown = view.passing + ([r for r in view.implicit if r.status in (Status.PASS, Status.NOT_APPLICABLE)] if verbose else [])
    for result in shown:
        table.add_row(status_text(result.status), _check_name(result.name, result.id), data(result.beam), _message(result, verbose))
    table.caption = data(view.implicit_line())
    table.caption_justify = "left"
    return table


def _check_name(name: str, check_id: str) -> Text:
    text = data(name or check_id)
    if name and name != check_id:
        text.append(f"\n{printable(check_id)}", style="dim")
    return text


def _message(result: CheckResult, verbose: bool) -> Text:
    """Message of checks that did not apply (of all checks with verbose), and the figures they made."""
    if result.status == Status.PASS and not verbose:
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
        line = data(f"{result.name}{where}")
        line.append(f"  {printable(result.id)}", style="dim")
        if result.message:
            line.append(f" — {printable(result.message)}", style="dim")
        grid.add_row(status_text(result.status), line)
    return grid


def _summary(view: ReportView) -> Panel:
    passed = view.run.passed and view.summary.startswith("PASS")
    style = "bold green" if passed else ("bold red" if not view.run.passed else "bold yellow")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for failure in view.failures:
        grid.add_row(Text(SYMBOLS[failure.status], style=STYLES[failure.status]), data(failure_line(failure), ROW_STYLES.get(failure.status, "")))
    body = Group(data(view.summary, style), grid, Text(view.counts_line())) if view.failures else Group(data(view.summary, style), Text(view.counts_line()))
    return Panel(body, box=box.HEAVY if not passed else box.ROUNDED, border_style=style, expand=True)
