"""Data is shown as data in every view, and files named from data stay in their folders (issue 11, items 5 and 6)."""

from __future__ import annotations

import dataclasses
import io
import os
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pytest
from rich.console import Console

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.config import Config
from plancheck.delivery import Delivery
from plancheck.delivery.timing import timing_figures
from plancheck.errors import PlancheckError
from plancheck.paths import MAX_NAME_CHARS, format_name, path_in, safe_name
from plancheck.report import report_paths, write_all
from plancheck.report.escan import write_escan_pdf
from plancheck.report.html import render_html
from plancheck.report.matrix import render_matrix_terminal, write_matrix_html
from plancheck.report.pdf import write_pdf
from plancheck.report.terminal import render_terminal
from plancheck.simulate.auto import DetectionMatrix, FaultOutcome
from plancheck.table import Param
from report_cases import sample_run

# values a clinic's systems can hold: Rich markup look-alikes, HTML, a terminal escape, a right-to-left override
NAME = "PTV[high]^Boost [phase2]"
PLAN = "[/] [bold red]x[/bold red]"
BEAM = "<b>G0</b>[/]"
MESSAGE = "<script>alert(1)</script> \x1b[31mRED\x07 \u202eevil"
SHOWN = {NAME, PLAN, "<script>alert(1)</script>"}


def nasty_run(figure_dir: Path | None = None, patient_id: str = "PC-1") -> CheckRun:
    run = sample_run(figure_dir=figure_dir)
    table = run.table.copy()
    table.add(Param("patient", "", "patient_name", NAME, "", "rtplan", "RP.dcm"))
    table.add(Param("beam", BEAM, "mu", 12.0, "MU", "rtplan", "RP.dcm"))
    table.source_errors["trf"] = f"cannot read {MESSAGE}"
    results = [*run.results, CheckResult("beam.x", "[red]name[/red]", "explicit", Status.FAIL, MESSAGE, beam=BEAM)]
    return dataclasses.replace(run, patient_id=patient_id, plan=PLAN, table=table, results=results, warnings=[*run.warnings, MESSAGE])


def test_terminal_shows_markup_look_alikes_verbatim() -> None:
    out = io.StringIO()
    render_terminal(nasty_run(), Console(file=out, width=400, force_terminal=False, no_color=True), verbose=True)
    text = out.getvalue()
    for value in (NAME, PLAN, "<b>G0</b>[/]", "[red]name[/red]", "<script>alert(1)</script>"):
        assert value in text, value
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[31mRED\\x07" in text and "\\u202eevil" in text


def test_terminal_never_emits_data_escapes_with_colour_on() -> None:
    out = io.StringIO()
    render_terminal(nasty_run(), Console(file=out, width=300, force_terminal=True, color_system="truecolor"))
    assert "\x1b[31mRED" not in out.getvalue() and "\x07" not in out.getvalue()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_tags_and_shows_control_characters(tmp_path: Path) -> None:
    html = render_html(nasty_run())
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags  # no tag from data
    assert "<b>G0</b>" not in html and "&lt;b&gt;G0&lt;/b&gt;" in html
    text = "".join(parser.text)
    for value in SHOWN:
        assert value in text, value
    assert "\x1b" not in html and "\u202e" not in html and "\\x1b[31mRED" in text


def test_detection_matrix_html_and_terminal_escape_data(tmp_path: Path) -> None:
    outcome = FaultOutcome("<img src=x onerror=alert(1)>", "[bold]desc[/]", "table", ["[/]"], ["[/]"], "caught", [MESSAGE], "")
    matrix = DetectionMatrix("<i>P</i>[/]", "photon[x]", [outcome], [{"kind": "k", "id": "[/]", "beam": BEAM, "message": "[/]", "status": "fail"}])
    html = write_matrix_html(matrix, tmp_path / "m.html").read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(html)
    assert "img" not in parser.tags and "<i>P</i>" not in html and "&lt;i&gt;P&lt;/i&gt;[/]" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "\x1b" not in html
    out = io.StringIO()
    render_matrix_terminal(matrix, Console(file=out, width=300, no_color=True))
    shown = out.getvalue()
    assert "<i>P</i>[/]" in shown and "photon[x]" in shown and "<img src=x onerror=alert(1)>" in shown and f"k [/] {BEAM}: [/]" in shown


def test_pdf_text_layer_holds_values_verbatim(tmp_path: Path) -> None:
    path = write_pdf(nasty_run(), tmp_path / "r.pdf")
    with pdfplumber.open(path) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    flat = " ".join(text.split())
    assert "PTV[high]^Boost [phase2]" in flat and "[/] [bold red]x[/bold red]" in flat
    assert "\x1b" not in text and "\\x1b[31mRED\\x07" in flat


# ---- file names from data ------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["12/3456", "../../x", "..", ".", "a\x00b", "C:\\x\\y", "x" * 1000, "NUL", "con.txt", "", " / ", "é/ü"])
def test_safe_name_is_one_bounded_part(raw: str) -> None:
    name = safe_name(raw)
    assert name and name not in (".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
    assert len(name) <= MAX_NAME_CHARS and name.isascii()
    assert name.split(".")[0].upper() not in ("NUL", "CON")


def test_safe_name_keeps_plain_ids_and_tells_long_ones_apart() -> None:
    assert safe_name("00017R") == "00017R" and safe_name("12/3456") == "12_3456"
    assert safe_name("a" * 200 + "1") != safe_name("a" * 200 + "2")


def test_escan_template_allows_only_plain_fields() -> None:
    assert format_name("{patient_id}_{kind}.pdf", patient_id="../../x", kind="weekly") == "x_weekly.pdf"
    for template in ("{patient_id.__class__}.pdf", "{0}.pdf", "{patient_id!r}.pdf", "{name}.pdf"):
        with pytest.raises(PlancheckError):
            format_name(template, patient_id="1", kind="initial")
    assert "/" not in format_name("../{patient_id}.pdf", patient_id="1", kind="initial")


def _files(root: Path) -> set[Path]:
    return {Path(d) / f for d, _, names in os.walk(root) for f in names}


@pytest.mark.parametrize("patient_id", ["12/3456", "../../x", "..", "a\x00b", "x" * 600])
def test_nothing_is_written_outside_the_configured_folders(patient_id: str, tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    output, escan, figures_root = root / "results", root / "escan", root / "results"
    sandbox = tmp_path / "sandbox"  # ../../x from root/results/<id> would land here
    root.mkdir()
    before = _files(tmp_path)
    figure_dir = path_in(figures_root, patient_id, "figures")
    figure_dir.mkdir(parents=True)
    run = nasty_run(figure_dir=figure_dir, patient_id=patient_id)
    written: list[Path | None] = list(write_all(run, output).values())
    written.append(write_escan_pdf(run, escan, "{patient_id}_{kind}.pdf"))
    delivery = Delivery.from_banks([0.0, 10.0], [0.0, 10.0], [0.0, 0.0], [[-10.0] * 2] * 2, [[10.0] * 2] * 2, [-50.0] * 2, [50.0] * 2)
    written += list(timing_figures({f"../{patient_id}/..": delivery}, Config().machine, figure_dir).values())
    new = _files(tmp_path) - before
    assert new and all(p is not None for p in written)
    for path in new:
        assert path.resolve().is_relative_to(output.resolve()) or path.resolve().is_relative_to(escan.resolve()), path
        assert all(len(part) <= 255 for part in path.parts)
    assert not sandbox.exists() and {p.resolve() for p in written if p} <= {p.resolve() for p in new}
    assert report_paths(run, output)["json"].parent.parent == output


@pytest.mark.parametrize("patient_id", ["12/3456", "../../x", "..", "a\x00b", "9" * 600])
def test_baseline_file_stays_in_its_folder(tmp_path: Path, patient_id: str) -> None:
    from plancheck.simulate.baseline import baseline_path

    folder = tmp_path / "baselines"
    path = baseline_path(folder, patient_id)
    assert path.parent == folder and path.name.endswith(".baseline.json") and len(path.name) < 120
