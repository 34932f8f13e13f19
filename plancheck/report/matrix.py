"""The detection matrix of ``simulate auto`` as a terminal table and a one-file HTML page."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plancheck.report.html import environment
from plancheck.simulate.auto import DetectionMatrix

STYLE = {"caught": "green", "expected_silent": "bold magenta", "escaped": "bold red", "caught_unexpected": "blue", "skipped": "dim"}


def render_matrix_terminal(m: DetectionMatrix, console: Console) -> None:
    console.print(f"[bold]Detection matrix[/] for {escape(m.patient_id)} (rule set {escape(m.rule_set)}): {len(m.outcomes)} faults")
    table = Table("fault", "kind", "outcome", "caught by", "expected")
    for o in m.outcomes:
        style = STYLE[o.outcome]
        caught = ", ".join(f"[green]{escape(c)}[/]" if c in o.expected else f"[blue]{escape(c)}[/]" for c in o.caught_by)
        expected = ", ".join(f"[bold magenta]{escape(c)} (silent)[/]" if c in o.silent else escape(c) for c in o.expected)
        table.add_row(escape(o.id), escape(o.kind), f"[{style}]{escape(o.label)}[/]", caught or (escape(o.reason) if o.reason else "-"), expected)
    console.print(table)
    counts = {k: len(m.by_outcome(k)) for k in STYLE}
    console.print(
        f"caught {counts['caught']}, [bold red]escaped {counts['escaped']}[/], "
        f"[bold magenta]caught by others with an expected check silent {counts['expected_silent']}[/]{' (accepted)' if m.accept_silent else ''}, "
        f"caught only by other checks {counts['caught_unexpected']}, "
        f"skipped {counts['skipped']}, false alarms on the clean case {len(m.false_alarms)}"
    )
    for a in m.false_alarms:
        console.print(f"[red]false alarm[/] {escape(' '.join(str(a[k]) for k in ('kind', 'id', 'beam')))}: {escape(a['message'])}")


def write_matrix_html(m: DetectionMatrix, path: Path) -> Path:
    text = environment(strict=False).get_template("matrix.html.j2").render(m=m)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
