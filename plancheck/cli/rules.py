"""`plancheck rules`: list, show and validate rule sets; list the parameter vocabulary."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from plancheck.cli.common import ConfigOption, config_from, console, err, reports_errors

app = typer.Typer(help="Rule sets: which checks run for which treatment type.\n\nExample: plancheck rules show photon-vmat", no_args_is_help=True)
out = console()


@app.command("list")
@reports_errors
def list_(config: Path = ConfigOption) -> None:
    """List the rule sets (shipped and the clinic's), with what they extend and when they apply."""
    from plancheck.api import rule_library

    lib = rule_library(config_from(config))
    table = Table("rule set", "extends", "applies when", "checks", "manual", "from", show_lines=True)
    for rs in lib.validate():
        table.add_row(rs.name, rs.extends or "", rs.match.text if rs.match else "(fallback)", str(len(rs.checks)), str(len(rs.manual)),
                ", ".join(Path(f).name for f in rs.files[: len(lib.raw[rs.name])]))
    out.print(table)


@app.command()
@reports_errors
def show(name: str = typer.Argument(..., help="Rule set name, e.g. photon-vmat."), config: Path = ConfigOption) -> None:
    """Show a resolved rule set: every check it runs (inherited ones too), per check kind."""
    from plancheck.api import rule_library

    rs = rule_library(config_from(config)).get(name)
    out.print(f"[bold]{rs.name}[/] ({' -> '.join(rs.lineage)}): {rs.description}")
    if rs.vars:
        out.print("vars: " + ", ".join(f"{k}={v}" for k, v in rs.vars.items()))
    if rs.tolerances:
        out.print("tolerances: " + ", ".join(f"{k} {t.tolerance:g}/{t.action:g}" for k, t in rs.tolerances.items()))
    table = Table("id", "kinds", "check (expect, from)", show_lines=True)
    table.columns[0].no_wrap = True
    for c in rs.checks.values():
        each = f" [dim](for each {c.for_each})[/]" if c.for_each else ""
        body = f"{escape(c.name)}{each}\n[cyan]{escape(c.expect.text if c.expect else c.type)}[/]  [dim]{escape(Path(c.origin).name)}[/]"
        table.add_row(c.id, ",".join(c.kinds), body)
    out.print(table)
    manual = Table("manual id", "text", "kinds")
    for m in rs.manual.values():
        manual.add_row(m.id, m.text, ",".join(m.kinds))
    out.print(manual)


@app.command()
@reports_errors
def validate(folders: list[Path] = typer.Argument(None, help="Clinic rule folders (default: those in plancheck.toml)."), config: Path = ConfigOption) -> None:
    """Check rule files: every problem is reported with its file, line and what is wrong (exit 2)."""
    from plancheck.checks.check_types import CHECK_TYPES
    from plancheck.rules.loader import RuleLibrary, RuleProblems

    dirs = folders or list(config_from(config).rule_dirs)
    try:
        sets = RuleLibrary(dirs, registered=CHECK_TYPES, strict=False).validate()
    except RuleProblems as exc:
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {escape(problem.message)}", highlight=False, soft_wrap=True)
        err.print(f"{len(exc.problems)} problem(s) in the rule files; nothing was changed", highlight=False)
        raise typer.Exit(2) from None
    out.print(f"[green]ok[/]: {len(sets)} rule sets valid ({', '.join(rs.name for rs in sets)})")


@app.command()
def params() -> None:
    """List the parameter vocabulary names usable in rule expressions, with unit and default tolerance."""
    from plancheck.vocabulary import VOCABULARY

    table = Table("param", "scope", "value type", "unit", "tolerance/action", "description")
    for spec in VOCABULARY.values():
        tol = f"{spec.tolerance:g}/{spec.action:g}" if spec.tolerance is not None and spec.action is not None else ""
        table.add_row(spec.name, spec.scope, spec.value_type, spec.unit, tol, spec.description)
    out.print(table)
