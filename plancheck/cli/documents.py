"""`plancheck documents PATIENT`: the patient's plan and second-check PDFs, newest non-void first."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, reports_errors


@reports_errors
def documents(patient_id: str = typer.Argument(..., help="Patient ID (MOSAIQ IDA)."), config: Path = ConfigOption) -> None:
    """List the plan and second-check PDFs plancheck would read, with approval state and version.

    From MOSAIQ's documents (Object / ObjFilenames / Prompt; void versions left out) when
    [folders] documents is set, and from the plain PDF folder [folders] pdf.

    Example: plancheck documents 015112 --config plancheck-demo/plancheck.toml
    """
    from plancheck.sources import Request
    from plancheck.sources.pdfplan.finders import default_finders
    from plancheck.sources.pdfplan.template import load_templates, template_dirs

    cfg = config_from(config)
    finders = default_finders(cfg, load_templates(template_dirs(cfg)))
    if not finders:
        raise typer.BadParameter("no document source configured: set [folders] documents (with [mosaiq] url) or [folders] pdf in plancheck.toml")
    refs = [ref for finder in finders for ref in finder(Request(patient_id, None, cfg))]
    grid = Table("report type", "title", "version", "approved", "newest", "file", "from", title=f"documents of {escape(patient_id)}", title_justify="left")
    grid.columns[5].overflow = "fold"
    grid.columns[5].min_width = 16
    for ref in sorted(refs, key=lambda r: (r.report_type, not r.newest, -(r.version or 0))):
        approved = "[green]yes[/]" if ref.approved else ("[red]no[/]" if ref.approved is False else "?")
        approved += f" {ref.approved_at[:10]}" if ref.approved_at else ""
        grid.add_row(ref.report_type, escape(ref.title), "" if ref.version is None else str(ref.version), approved,
                     "[bold]newest[/]" if ref.newest else "older", escape(ref.path.name), escape(ref.origin or ref.problem))
    out = console()
    out.print(grid)
    for folder in sorted({str(ref.path.parent) for ref in refs}):
        out.print(f"files in {escape(folder)}", highlight=False)
