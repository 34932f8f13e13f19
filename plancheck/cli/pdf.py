"""``plancheck pdf``: see how a plan or second-check PDF is read, to fit a template to a clinic's printouts."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from plancheck.errors import PlancheckError

if TYPE_CHECKING:
    from plancheck.sources.pdfplan.extract import Document
    from plancheck.sources.pdfplan.parse import Parsed
    from plancheck.sources.pdfplan.template import TemplateSet

app = typer.Typer(
    help=(
        "Plan and second-check PDFs: how plancheck reads them.\n\n"
        "A template (YAML) says how to recognise a vendor's report and where each value sits. "
        "`inspect` shows a PDF's text with line numbers, which template fits and why, and every "
        "field found or missed: the loop for fitting a template to your printouts "
        "(docs/pdf-templates.md).\n\n"
        "Example: plancheck pdf inspect plan.pdf --template monaco"
    ),
    no_args_is_help=True,
)



class Format(str, Enum):
    text = "text"
    json = "json"


CONFIG = typer.Option(None, "--config", help="plancheck.toml whose pdf section names clinic template folders (template_dirs).")
TEMPLATE_DIRS = typer.Option(None, "--templates", help="A folder of clinic templates (repeatable); later folders win.")


def _templates(config: Path | None, extra: list[Path] | None) -> TemplateSet:
    from plancheck.cli.common import config_from
    from plancheck.sources.pdfplan.template import load_templates, template_dirs

    dirs = list(template_dirs(config_from(config))) + list(extra or [])
    return load_templates(dirs)


def _fail(exc: PlancheckError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    return typer.Exit(exc.exit_code)


@app.command()
def inspect(
    file: Path = typer.Argument(..., help="The PDF to read.", exists=True, dir_okay=False),
    template: str | None = typer.Option(None, "--template", "-t", help="Read with this template instead of the one that fits."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="text for people, json for tools."),
    show_text: bool = typer.Option(True, "--text/--no-text", help="Show the extracted text with line numbers."),
    config: Path | None = CONFIG,
    templates_dir: list[Path] | None = TEMPLATE_DIRS,
) -> None:
    """Show how a PDF is read: its text, the template that fits, each field found or missed.

    Prints the text by page with line numbers, which template fits and why (its anchors),
    each field found (page, line, value) and each field missed with the pattern that
    failed. Exits 1 when no template reads the report or something the template
    requires is missing, 2 when the PDF cannot be read.

    Example: plancheck pdf inspect plan.pdf --template eclipse --format json
    """
    try:
        templates = _templates(config, templates_dir)
        from plancheck.sources.pdfplan.extract import extract
        from plancheck.sources.pdfplan.parse import parse_document

        document = extract(file)
    except PlancheckError as exc:
        raise _fail(exc) from None
    try:
        parsed: Parsed | None = parse_document(document, templates, template, strict=False)
        problem = ""
    except PlancheckError as exc:
        parsed, problem = None, exc.message
    data = inspection(document, templates, parsed, problem)
    if fmt is Format.json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        typer.echo(render(data, show_text))
    if parsed is None or any(m.required for m in parsed.missing):
        raise typer.Exit(1)


@app.command("templates")
def list_templates(config: Path | None = CONFIG, templates_dir: list[Path] | None = TEMPLATE_DIRS) -> None:
    """List the PDF templates in use, with their kind, file and anchors.

    Shipped templates first, then the clinic folders; a clinic template replaces a shipped
    one of the same name.

    Example: plancheck pdf templates --templates ./my-templates
    """
    try:
        templates = _templates(config, templates_dir)
    except PlancheckError as exc:
        raise _fail(exc) from None
    for t in templates:
        anchors = ", ".join(f"'{a.pattern}'" for a in t.anchors)
        typer.echo(f"{t.name:12} {t.report_type:13} {t.description}\n{'':12} file: {t.path}\n{'':12} anchors: {anchors}")


def inspection(document: Document, templates: TemplateSet, parsed: Parsed | None, problem: str) -> dict[str, Any]:
    """What inspect shows, as data (the json output)."""
    ignore = parsed.template.ignore if parsed else ()
    data: dict[str, Any] = {
        "file": str(document.path),
        "pages": len(document.pages),
        "title": document.title,
        "template": None,
        "problem": problem,
        "other_templates": [],
        "fields": [],
        "missing": [],
        "tables": [],
        "beams": {},
        "warnings": [],
        "text": [{"page": p.number, "lines": [{"number": line.number, "text": line.text,
                                                "ignored": any(i.search(line.text) for i in ignore)} for line in p.lines]}
                 for p in document.pages],
    }
    from plancheck.sources.pdfplan.parse import recognise

    tried = parsed.others if parsed else [recognise(document, t) for t in templates]
    data["other_templates"] = [{"name": r.template.name, "fits": r.fits, "why": r.why} for r in tried]
    if parsed is None:
        return data
    t = parsed.template
    data["template"] = {"name": t.name, "report_type": t.report_type, "description": t.description, "path": str(t.path),
                        "anchors": [{"pattern": a.pattern, "page": a.page, "line": a.line} for a in parsed.recognition.anchors]}
    data["fields"] = [{"name": f.name, "param": f.param, "value": f.value, "page": f.page, "line": f.line, "text": f.text} for f in parsed.values]
    data["missing"] = [{"name": m.name, "params": list(m.params), "pattern": m.pattern, "reason": m.reason,
                        "required": m.required, "page": m.page} for m in parsed.missing]
    data["tables"] = [{"name": r.spec.name, "found": r.found, "pages": r.pages, "rows": len(r.rows), "ended_by": r.ended_by,
                       "header": {"page": r.headers[0].line.page, "line": r.headers[0].line.number} if r.headers else None,
                       "columns": [{"header": c.header, "column": c.name, "x0": round(c.x0, 1), "x1": round(c.x1, 1)}
                                   for c in (r.headers[0].columns if r.headers else ())]}
                      for r in parsed.tables]
    data["beams"] = {label: {p: {"value": f.value, "page": f.page, "column": f.name} for p, f in beam.items()}
                     for label, beam in parsed.beams.items()}
    data["warnings"] = parsed.warnings
    return data


def render(data: dict[str, Any], show_text: bool) -> str:
    """The text output of inspect."""
    out = [f"{data['file']}: {data['pages']} page(s)" + (f", title {data['title']!r}" if data["title"] else "")]
    template = data["template"]
    if template:
        out.append(f"template: {template['name']} ({template['path']}) - {template['description']}")
        out.append("  fits: found " + ", ".join(f"'{a['pattern']}' (page {a['page']} line {a['line']})" for a in template["anchors"]))
    else:
        out.append(f"template: none - {data['problem']}")
    for other in data["other_templates"]:
        out.append(f"  {other['name']}: {'also fits' if other['fits'] else 'does not fit'} ({other['why']})")
    if show_text:
        out.append("\ntext (~ marks lines the template ignores as page furniture; two spaces mark a wide gap):")
        for page in data["text"]:
            out.append(f"--- page {page['page']} ---")
            out.extend(f"{line['number']:4} {'~' if line['ignored'] else ' '} {line['text']}" for line in page["lines"])
    if not template:
        out.append("\nresult: no template reads this report")
        return "\n".join(out)
    out.append("\nfields found:")
    out.extend(f"  {f['param']:26} {f['value']!s:32} page {f['page']} line {f['line']}  ({f['name']})" for f in data["fields"])
    out.append("fields missing:" if data["missing"] else "fields missing: none")
    for m in data["missing"]:
        out.append(f"  {m['name']:26} {'REQUIRED ' if m['required'] else ''}{m['reason']}")
        out.append(f"  {'':26} pattern: {m['pattern']}")
    out.append("tables:")
    for t in data["tables"]:
        if not t["found"]:
            out.append(f"  {t['name']}: not found")
            continue
        columns = " | ".join(f"{c['header']} -> {c['column'] or '(not read)'}" for c in t["columns"])
        out.append(f"  {t['name']}: header page {t['header']['page']} line {t['header']['line']}, on page(s) "
                   f"{', '.join(map(str, t['pages']))}; {t['rows']} row(s); ended: {t['ended_by'] or 'end of document'}")
        out.append(f"    columns: {columns}")
    out.append("beams:")
    for label, beam in data["beams"].items():
        out.append(f"  {label}: " + ", ".join(f"{p}={v['value']}" for p, v in beam.items()))
    if data["warnings"]:
        out.append("warnings:")
        out.extend(f"  {w}" for w in data["warnings"])
    required = [m["name"] for m in data["missing"] if m["required"]]
    out.append(f"\nresult: the source would stop here: {', '.join(required)} missing" if required
               else "\nresult: the source reads this report")
    return "\n".join(out)
