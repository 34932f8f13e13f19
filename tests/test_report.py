"""Reports are views of a CheckRun: terminal, HTML, PDF and JSON drawn from hand-made runs."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pymedphys
import pytest
from rich.console import Console

from plancheck.checks.results import CheckResult, CheckRun, Status
from plancheck.report import ReportError, load_run, render, report_paths, write_all
from plancheck.report.html import render_html, write_html
from plancheck.report.json import run_from_dict, write_json
from plancheck.report.pdf import write_pdf
from plancheck.report.terminal import render_terminal
from plancheck.report.view import build_view, fmt_value, summary_line
from plancheck.sources.rtplan import load, rows_from_dataset
from plancheck.table import Param, ParamTable
from report_cases import PATIENT_ID, SCRIPT, sample_run

FAILING_IDS = ("rx.approved", "delivery.mu_density", "agree.mu", "agree.fractions")


def terminal_text(run: CheckRun, *, verbose: bool = False, styles: bool = False, width: int = 100) -> str:
    console = Console(record=True, width=width, force_terminal=styles, color_system="standard" if styles else None)
    render_terminal(run, console, verbose=verbose)
    return console.export_text(styles=styles)


def line_with(text: str, *needles: str) -> str:
    lines = [line for line in text.splitlines() if all(n in line for n in needles)]
    assert lines, f"no line holds {needles}"
    return lines[0]


# ---- view --------------------------------------------------------------------
def test_view_marks_rows_from_implicit_results_only() -> None:
    view = build_view(sample_run())
    marks = {(r.beam, r.param): r.status for r in view.beam_rows}
    assert marks[("G180", "mu")] == Status.FAIL
    assert marks[("VMAT1", "gantry_start")] == Status.WARN
    assert marks[("G0", "mu")] == Status.PASS
    assert marks[("G0", "beam_name")] is None  # no implicit result: not compared, not guessed
    assert {r.scope for r in view.beam_rows} == {"beam"}
    assert [t.scope for t in view.record_tables] == ["delivery", "task"]
    assert view.beam_sources == ["mosaiq", "plan_pdf", "rtplan"]


def test_values_are_formatted_for_people() -> None:
    assert [fmt_value(v) for v in (100.0, 412.37, 0.1 + 0.2, True, None, -45.25, 7)] == ["100", "412.37", "0.3", "yes", "—", "-45.25", "7"]


def test_summary_lines() -> None:
    run = sample_run()  # monaco_tel could not be read
    assert summary_line(run) == "INCOMPLETE: 1 source not read (monaco_tel); 4 other checks failed (1 could not run); 2 manual checks to tick"
    table = run.table.copy()
    table.source_errors.clear()
    run = dataclasses.replace(run, table=table)
    assert summary_line(run) == "FAIL: 4 checks failed (1 could not run); 2 manual checks to tick"
    good = dataclasses.replace(run, results=[CheckResult("a", "A", "explicit", Status.PASS), CheckResult("m", "M", "manual", Status.MANUAL)])
    assert summary_line(good) == "PASS: every automatic check passed; 1 manual check to tick"
    empty = dataclasses.replace(run, results=[CheckResult("a", "A", "explicit", Status.NOT_APPLICABLE)])
    assert summary_line(empty).startswith("NOT CHECKED")


# ---- terminal ----------------------------------------------------------------
def test_terminal_names_failing_beam_parameter_and_sources() -> None:
    text = terminal_text(sample_run(), width=120)
    header = line_with(text, "Beam", "Parameter")
    assert re.search(r"mosaiq\s+plan_pdf\s+rtplan\s+Agree", header), header
    assert "monaco_tel" not in header  # only sources present become columns
    mismatch = line_with(text, "MU", "102")
    assert "100" in mismatch and "✗ fail" in mismatch
    assert "beam G180 MU: mosaiq 102 vs plan_pdf/rtplan 100 (+2 MU, +2.0 %)" in text
    assert "beam VMAT1 Gantry start: rtplan 181.4 vs mosaiq/plan_pdf 181 (+0.4 deg)" in text
    assert "monaco_tel: tel.1 folder" in text  # the source error with its message
    assert "no iCOM log for beam G180" in line_with(text, "MU density: iCOM vs plan", "‼ error")  # error with its reason
    assert "prescription is not approved" in line_with(text, "Prescription approved", "✗")
    assert "INCOMPLETE: 1 source not read (monaco_tel); 4 other checks failed (1 could not run)" in text
    assert "manual.contours" in text and "manual.setup_photos" in text
    assert max(len(line) for line in text.splitlines()) <= 120


def closing_box(text: str) -> list[str]:
    lines = text.splitlines()
    top = max(i for i, line in enumerate(lines) if line.startswith("┏"))
    return [line.strip("┃ ") for line in lines[top + 1 : -1]]


@pytest.mark.parametrize("width", [80, 120])
def test_closing_box_lists_every_failure_and_the_counts_add_up(width: int) -> None:
    run = sample_run()
    box = " ".join(closing_box(terminal_text(run, width=width)))
    box = re.sub(r"\s+", " ", box)
    bad = [r for r in run.automatic if r.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    assert box.count("✗ ") + box.count("‼ ") + box.count("! ") == len(bad) == 6
    assert "beam G180 MU: mosaiq 102 vs plan_pdf/rtplan 100 (+2 MU, +2.0 %)" in box  # a cross-source failure, in words
    assert "Prescription approved: prescription is not approved in MOSAIQ" in box
    assert "beam VMAT1 · Couch angle within limits: couch 10 deg" in box
    assert "3 fail · 1 error" in box and "2 warn" in box
    text = terminal_text(run, width=width)
    assert "Failures: 6 (1 error, 3 fail, 2 warn)" in text  # the one list, cross-source failures included
    assert "Warnings" not in line_with(text, "Failures")


def test_labels_come_from_the_vocabulary() -> None:
    text = terminal_text(sample_run(), width=120)
    assert "Dose per fraction (cGy)" in text and "dose_per_fraction_cgy" not in text
    assert "Gantry start (deg)" in text and "gantry_start (deg)" not in text


def test_terminal_colours_only_the_odd_value_red() -> None:
    text = terminal_text(sample_run(), styles=True, width=120)
    row = line_with(text, "MU", "102")
    assert re.search(r"\x1b\[[0-9;]*31m102", row), row  # the odd value
    assert not re.search(r"\x1b\[[0-9;]*31m100", row), row  # the values that agree stay plain
    assert re.search(r"\x1b\[[0-9;]*33m181\.4", line_with(text, "Gantry start (deg)", "181.4"))
    assert "\x1b[31m" not in line_with(text, "SSD (mm)", "910.5")


@pytest.mark.parametrize("width", [80, 100, 120])
def test_narrow_terminal_folds_the_tables_and_cuts_no_value(width: int) -> None:
    run = sample_run()
    for i, source in enumerate(("second_check", "monaco_tel", "icom", "model")):
        run.table.add(Param("beam", "G180", "mu", 100.0 + i / 100, "MU", source, "row"))
    run.table.add(Param("prescription", "", "rx_edited_date", "2026-11-07T08:00:00", "", "mosaiq", "Site 7"))
    text = terminal_text(run, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text  # Rich's mark of a cell cut short
    if width == 80:
        assert re.search(r"Parameter\s+Value\s+From\s+Out of step\s+Agree", text)
        assert "mosaiq 102" in line_with(text, "MU", "✗ fail")  # the odd source with its value
    assert "2026-11-07 08:00" in text  # a date on one line, never folded
    cells = set(re.findall(r"\S+", text))
    for row in run.table:
        if row.scope in ("patient", "prescription", "beam") and row.value not in (None, SCRIPT):
            shown = fmt_value(row.value) if row.param != "rx_edited_date" else "08:00"
            assert shown in cells or shown in text, (row.param, shown)


def test_delivery_messages_name_beam_and_fraction() -> None:
    run = sample_run()
    item = "TrackTreatment 2-G180"
    bad = CheckResult("delivery.no_qa_mode", "No delivery recorded in QA mode", "explicit", Status.FAIL,
                      f"{item}: delivered in QA mode on 2024-04-30 09:00:00",
                      details={"findings": [{"item": item, "status": "fail", "message": "delivered in QA mode on 2024-04-30 09:00:00"}]})
    run = dataclasses.replace(run, results=[*run.results, bad])
    text = terminal_text(run, width=120)
    assert "beam G180, fraction 2: delivered in QA mode on 2024-04-30 09:00" in text
    assert "TrackTreatment 2-G180:" not in text


def test_weekly_header_shows_the_course_and_review_window() -> None:
    run = sample_run()
    table = run.table.copy()
    table.add(
        Param("prescription", "", "fractions_delivered", 3, "", "mosaiq", "Dose_Hst"),
        Param("prescription", "", "total_dose_cgy", 5000.0, "cGy", "mosaiq", "Site"),
        Param("prescription", "", "dose_delivered_cgy", 600.0, "cGy", "mosaiq", "Dose_Hst"),
        Param("prescription", "", "last_check_date", "2024-04-29T08:00:00", "", "mosaiq", "QCLTask"),
    )
    for fraction, day in ((1, 27), (2, 29), (3, 30)):
        table.add(Param("delivery", "G0", "delivered_at", f"2024-04-{day}T09:00:00", "", "mosaiq", "x", item=f"TrackTreatment {fraction}-G0"))
    text = terminal_text(dataclasses.replace(run, check_kind="weekly", table=table), width=80)
    assert re.search(r"Fraction\s+3 of 25", text)
    assert re.search(r"Dose so far\s+600 of 5000 cGy", text)
    assert re.search(r"Review window\s+2024-04-29 08:00 to 2024-05-01", text)
    assert "2 deliveries" in text  # fractions 2 and 3 of beam G0 came after the last check
    assert "Fraction " not in terminal_text(run)  # an initial check has no course yet
    # checked as of an earlier day (`--today`) and created later: the window ends on the day the checks looked at
    as_of = dataclasses.replace(run, check_kind="weekly", table=table, as_of="2024-04-30T00:00:00", created="2024-05-07T10:00:00")
    assert re.search(r"Review window\s+2024-04-29 08:00 to 2024-04-30", terminal_text(as_of, width=80))
    assert run_from_dict(json.loads(as_of.to_json())).as_of == "2024-04-30T00:00:00"  # kept in the saved run


def test_natural_width_is_what_rich_measures() -> None:
    from plancheck.report.terminal import _wide_table, natural_width

    run = sample_run()
    run.table.add(Param("beam", "G0", "beam_name", "a name\nover two lines", "", "rtplan", "row"))
    view = build_view(run)
    for rows, sources, with_beam in ((view.beam_rows, view.beam_sources, True), (view.plan_rows, view.plan_sources, False)):
        table = _wide_table("Beams", rows, sources, with_beam=with_beam)
        assert natural_width(table) == Console(width=100_000, file=io.StringIO()).measure(table).maximum


def test_terminal_is_plain_text_when_not_a_tty() -> None:
    out = io.StringIO()
    render_terminal(sample_run(), Console(file=out, width=100))
    assert "\x1b[" not in out.getvalue()
    assert "✗ fail" in out.getvalue()  # the status is written, not only coloured


def test_terminal_keeps_records_out_of_the_beam_table() -> None:
    short = terminal_text(sample_run())
    assert "Delivery records: 6 (6 from mosaiq)" in short and "QCL tasks: 1" in short
    assert "TrackTreatment" not in short and "delivered_mu" not in short
    long = terminal_text(sample_run(), verbose=True)
    assert "TrackTreatment 3-G180" in long and "Weekly chart check" in long
    assert "MU delivered" in long and "Fraction" in long  # record columns by their readable names
    assert "agree.collimator" in long  # every comparison listed with verbose


# ---- HTML ----------------------------------------------------------------------
class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[tuple[str, str]] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append((self.stack[-1] if self.stack else "", data))


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def test_html_is_one_self_contained_file(tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    out = tmp_path / "report"
    path = write_html(sample_run(figure_dir=figures), out / "r.html")
    assert [p.name for p in out.iterdir()] == ["r.html"]
    html = path.read_text(encoding="utf-8")
    doc = parse(html)
    for tag, attrs in doc.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        assert not (tag == "script" and "src" in attrs)
        for name, value in attrs.items():
            assert "http" not in value.lower() and "//" not in value[:2], (tag, name, value[:60])
            if name in ("src", "href", "srcset", "poster"):
                assert value.startswith(("data:", "#")), (tag, name, value[:60])
    styles = "".join(data for tag, data in doc.text if tag == "style")
    assert "http" not in styles and "@import" not in styles and "url(" not in styles
    images = [attrs["src"] for tag, attrs in doc.tags if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,iVBORw0KGgo")
    assert "figure not found" in html and "never_written.png" in html


def test_html_escapes_values_and_marks_the_mismatch() -> None:
    html = render_html(sample_run())
    assert SCRIPT not in html and "<script>" not in html.lower()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    rows = {(a.get("data-beam"), a.get("data-param")): a["class"].split() for t, a in parse(html).tags if t == "tr" and "data-param" in a}
    assert "mismatch" in rows[("G180", "mu")] and "st-fail" in rows[("G180", "mu")]
    assert "st-warn" in rows[("VMAT1", "gantry_start")]
    assert "mismatch" not in rows[("G0", "mu")]
    assert "mismatch" in rows[("", "fractions")]
    headers = [d.strip() for t, d in parse(html).text if t == "th"]
    assert {"mosaiq", "plan_pdf", "rtplan"} <= set(headers) and "monaco_tel" not in headers


def test_html_shows_errors_checks_and_a_filter_without_scripts() -> None:
    html = render_html(sample_run())
    assert "monaco_tel" in html and "tel.1 folder /data/monaco/PC-0042 not found" in html
    assert "no iCOM log for beam G180" in html
    assert "INCOMPLETE: 1 source not read (monaco_tel); 4 other checks failed (1 could not run)" in html
    assert '<input type="checkbox" id="m-1">' in html  # a manual item left to tick
    assert "#f-fail:checked ~ .page .filterable:not(.st-fail)" in html  # CSS-only filter
    assert "@media print" in html
    assert "<script" not in html.lower()


def test_html_lists_the_same_failures_as_the_terminal() -> None:
    run = sample_run()
    html = render_html(run)
    summary = html.split('<ul class="failure-lines">', 1)[1].split("</ul>", 1)[0]
    items = [d.strip() for t, d in parse(summary).text if t == "li"]
    box = closing_box(terminal_text(run, width=400))
    assert items == [line for line in box if line[:1] in ("✗", "‼", "!")]
    assert len(items) == 6 and "✗ beam G180 MU: mosaiq 102 vs plan_pdf/rtplan 100 (+2 MU, +2.0 %)" in items
    odd = [a["class"] for t, a in parse(html).tags if t == "td" and "odd" in a.get("class", "").split()]
    assert len(odd) == 3  # mosaiq's MU of G180, plan_pdf's fractions, rtplan's gantry start: only the odd values
    assert "Dose per fraction (cGy)" in html and ">dose_per_fraction_cgy<" not in html


# ---- PDF -------------------------------------------------------------------------
def pdf_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            assert round(page.width) == 595 and round(page.height) == 842  # A4 portrait
        return [page.extract_text() or "" for page in pdf.pages]


def test_pdf_text_layer_has_patient_checks_and_page_numbers(tmp_path: Path) -> None:
    pages = pdf_pages(write_pdf(sample_run(figure_dir=tmp_path), tmp_path / "r.pdf"))
    text = "\n".join(pages)
    assert "page 1 of" in pages[0]
    for i, page in enumerate(pages, 1):
        assert PATIENT_ID in page and "O'NEIL^MARY" in page and "2024-05-01" in page
        assert f"page {i} of {len(pages)}" in page
    for check_id in FAILING_IDS:
        assert check_id in text
    assert "INCOMPLETE: 1 source not read (monaco_tel); 4 other checks failed" in text
    assert "manual.contours" in text and "Signature" in text
    assert "monaco_tel: tel.1 folder" in text


def test_pdf_lists_records_in_full_and_names_checks_readably(tmp_path: Path) -> None:
    run = sample_run(figure_dir=tmp_path)
    text = "\n".join(pdf_pages(write_pdf(run, tmp_path / "r.pdf")))
    assert "listed in the HTML report" not in text
    for fraction in range(1, 4):
        for beam in ("G0", "G180"):
            assert f"TrackTreatment {fraction}-{beam}" in text  # every delivery record, one row each
    assert "Weekly chart check" in text and "QCL tasks: 1" in text
    assert "MU delivered" in text and "delivered_mu" not in text
    assert "Prescription approved" in text and "Couch angle within limits" in text
    assert "beam G180 MU: mosaiq 102 vs plan_pdf/rtplan 100 (+2 MU, +2.0 %)" in text.replace("\n", " ")
    assert "Failures: 6 (1 error, 3 fail, 2 warn)" in text
    assert "Dose per fraction (cGy)" in text


def test_pdf_figure_takes_the_text_width(tmp_path: Path) -> None:
    run = sample_run(figure_dir=tmp_path)
    path = write_pdf(run, tmp_path / "r.pdf")
    with pdfplumber.open(path) as pdf:
        images = [image for page in pdf.pages for image in page.images]
    assert images, "the failing check's figure is embedded"
    for image in images:
        assert image["x1"] - image["x0"] >= (595 - 2 * 14 / 25.4 * 72) - 1  # the page width inside its margins


def test_pdf_of_many_beams_keeps_header_on_every_page(tmp_path: Path) -> None:
    run = sample_run()
    for n in range(40):
        for source in ("mosaiq", "rtplan"):
            run.table.add(Param("beam", f"B{n:02d}", "mu", 50.0 + n, "MU", source, "row"), Param("beam", f"B{n:02d}", "couch", 0.0, "deg", source, "row"))
    pages = pdf_pages(write_pdf(run, tmp_path / "long.pdf"))
    assert len(pages) >= 3
    for i, page in enumerate(pages, 1):
        assert PATIENT_ID in page and f"page {i} of {len(pages)}" in page


def _fonts(path: Path) -> set[str]:
    with pdfplumber.open(path) as pdf:
        return {c["fontname"].split("+")[-1] for page in pdf.pages for c in page.chars}


def test_pdf_of_latin_text_uses_the_standard_fonts_and_names_every_status(tmp_path: Path) -> None:
    path = write_pdf(sample_run(), tmp_path / "r.pdf")
    assert _fonts(path) == {"Helvetica", "Helvetica-Bold"}  # nothing parsed or embedded
    text = "\n".join(pdf_pages(path))
    for mark in ("× fail", "!! error", "! warn", "pass"):
        assert mark in text
    assert "O'NEIL^MARY" in text and "plancheck.toml" in text


def test_pdf_of_a_greek_name_is_drawn_in_dejavu(tmp_path: Path) -> None:
    run = sample_run()
    run.table.rows = [r for r in run.table.rows if r.param != "patient_name"]
    run.table.add(Param("patient", "", "patient_name", "ΠΑΠΑΔΟΠΟΥΛΟΣ^Γιώργος", "", "mosaiq", "Patient"))
    path = write_pdf(run, tmp_path / "greek.pdf")
    assert _fonts(path) == {"DejaVuSansBook", "DejaVuSansBold"}
    pages = pdf_pages(path)
    assert all("ΠΑΠΑΔΟΠΟΥΛΟΣ^Γιώργος" in page for page in pages)
    assert "✗ fail" in pages[0] and "cannot draw" not in "\n".join(pages)


def test_pdf_table_text_wraps_inside_its_column(tmp_path: Path) -> None:
    run = sample_run()
    long = "a plan comment that runs on " * 12 + "Supercalifragilisticexpialidocious" * 4
    run.table.add(Param("beam", "G0", "beam_name", long, "", "rtplan", "row"))
    path = write_pdf(run, tmp_path / "wrap.pdf")
    with pdfplumber.open(path) as pdf:
        right = max(c["x1"] for page in pdf.pages for c in page.chars)
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert right <= 595 - 14 / 25.4 * 72 + 0.5  # nothing runs past the right margin
    assert "Supercalifragilistic" in text.replace("\n", "")


def test_wrap_keeps_every_word_and_fits_the_width() -> None:
    from plancheck.report.pdftable import wrap

    def measure(text: str) -> float:
        return float(len(text))

    text = "one two three\nfour fivesixseveneightnine ten"
    lines = wrap(text, 8, measure)
    assert all(len(line) <= 8 for line in lines)
    assert lines == ["one two", "three", "four", "fivesixs", "eveneigh", "tnine", "ten"]
    assert wrap("", 8, measure) == [""]


# ---- the report worker process ----------------------------------------------------------
def test_report_worker_writes_the_files_of_the_saved_run(tmp_path: Path) -> None:
    from plancheck.report.worker import ReportWorker

    run = sample_run(figure_dir=tmp_path)
    saved = write_json(run, tmp_path / "run.json")
    out = tmp_path / "out"
    with ReportWorker() as worker:
        worker.send(saved, out / "r.html", out / "r.pdf", (tmp_path / "escan", "{patient_id}_{kind}.pdf"))
        paths = worker.answer()
    assert paths == {"html": out / "r.html", "pdf": out / "r.pdf", "escan": tmp_path / "escan" / f"{PATIENT_ID}_initial.pdf"}
    text = "\n".join(pdf_pages(paths["pdf"]))
    assert PATIENT_ID in text and "rx.approved" in text and "Their figures follow" in text
    assert PATIENT_ID in paths["html"].read_text(encoding="utf-8")


def test_report_worker_reports_what_it_cannot_write(tmp_path: Path) -> None:
    from plancheck.report.worker import ReportWorker

    saved = write_json(sample_run(), tmp_path / "run.json")
    (tmp_path / "taken").write_text("a file where the folder should be")
    with ReportWorker() as worker:
        worker.send(saved, tmp_path / "r.html", tmp_path / "taken" / "r.pdf", None)
        with pytest.raises(ReportError, match="cannot write the PDF report") as info:
            worker.answer()
    assert str(tmp_path / "taken" / "r.pdf") in str(info.value)


def test_reports_are_written_here_when_the_worker_is_gone(tmp_path: Path) -> None:
    from plancheck.cli.check import start_reports
    from plancheck.config import Config
    from plancheck.report.worker import ReportWorker

    worker = ReportWorker()
    assert worker.process is not None
    worker.process.kill()
    worker.process.wait()
    paths = start_reports(sample_run(), Config(), tmp_path, worker)()
    assert set(paths) == {"json", "html", "pdf"} and PATIENT_ID in pdf_pages(paths["pdf"])[0]
    idle = ReportWorker(pages=True)
    process = idle.process
    idle.close()  # no request: the worker is ended, never left behind
    assert process is not None and process.poll() is not None


# ---- JSON and dispatch ---------------------------------------------------------------
def test_json_round_trip_re_renders_the_same(tmp_path: Path) -> None:
    run = sample_run(figure_dir=tmp_path)
    back = load_run(write_json(run, tmp_path / "run.json"))
    assert back.to_dict() == run.to_dict()
    assert back.table.rows == run.table.rows
    assert back.results == run.results
    assert render_html(back) == render_html(run)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not valid JSON (line 1"), ('{"patient_id": "x"}', "not a plancheck run"), ("[]", "JSON object")],
)
def test_load_run_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ReportError, match=re.escape(message)) as info:
        load_run(path)
    assert str(path) in str(info.value)


def test_write_all_files_by_patient_and_time(tmp_path: Path) -> None:
    run = dataclasses.replace(sample_run(), patient_id="PC/0042 x")
    paths = write_all(run, tmp_path)
    assert {k: p.relative_to(tmp_path).as_posix() for k, p in paths.items()} == {
        "json": "PC_0042_x/20240501_140309_initial.json",
        "html": "PC_0042_x/20240501_140309_initial.html",
        "pdf": "PC_0042_x/20240501_140309_initial.pdf",
    }
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")
    assert report_paths(run, tmp_path) == paths


def test_render_dispatches_by_format(tmp_path: Path) -> None:
    run = sample_run()
    assert render(run, "json", tmp_path / "a.json") == tmp_path / "a.json"
    assert render(run, "HTML", tmp_path / "a.html").read_text().startswith("<!DOCTYPE html>")
    text = render(run, "terminal", tmp_path / "a.txt").read_text()  # type: ignore[union-attr]
    assert "Gantry start (deg)" in text and "\x1b[" not in text
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        render(run, "docx", tmp_path / "a.docx")
    with pytest.raises(ReportError, match="needs a file"):
        render(run, "pdf")
    with pytest.raises(ReportError, match="not ISO 8601"):
        write_all(dataclasses.replace(run, created="yesterday"), tmp_path)


# ---- a real RT Plan beside a MOSAIQ copy with one changed value -----------------------
def test_report_of_a_real_rt_plan(tmp_path: Path) -> None:
    plan = Path(pymedphys.__file__).parent / "tests/dicom/data/rtplan/06MV_plan.dcm"
    rows, _, _ = rows_from_dataset(load(plan), str(plan))
    table = ParamTable()
    table.extend(rows)
    beams = table.beams()
    changed = (beams[-1], "gantry_start")
    for r in rows:
        value = r.value
        if (r.beam, r.param) == changed:
            value = (float(value) + 5.0) % 360.0  # type: ignore[arg-type]
        table.add(dataclasses.replace(r, source="mosaiq", value=value, provenance="TxField"))
    results = [
        CheckResult(f"agree.{p}", f"{p} agrees", "implicit", Status.FAIL if (b, p) == changed else Status.PASS, "differs by 5 deg" if (b, p) == changed else "", beam=b, param=p)
        for b in beams
        for p in ("mu", "gantry_start", "energy")
    ]
    run = CheckRun("ZZ-PLAN", "plan", "initial", "photon", table, results, created="2024-01-02T03:04:05")
    text = terminal_text(run)
    assert re.search(r"mosaiq\s+rtplan\s+Agree", line_with(text, "Beam", "Parameter"))
    assert "✗ fail" in line_with(text, "Gantry start (deg)", "✗")
    assert f"beam {changed[0]} Gantry start: differs by 5 deg" in text
    pages = pdf_pages(write_pdf(run, tmp_path / "real.pdf"))
    assert "agree.gantry_start" in "\n".join(pages)


# ---- the `plancheck report` command -------------------------------------------------
def test_cli_shows_and_rewrites_a_saved_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from plancheck.cli.main import app

    saved = write_json(sample_run(), tmp_path / "run.json")
    runner = CliRunner()
    shown = runner.invoke(app, ["report", "show", str(saved)])
    assert shown.exit_code == 1  # the run failed: a script can tell
    assert "4 other checks failed" in shown.output and "Gantry start (deg)" in shown.output
    written = runner.invoke(app, ["report", "write", str(saved), "--out", str(tmp_path / "out")])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "out" / PATIENT_ID / "20240501_140309_initial.pdf").is_file()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    failed = runner.invoke(app, ["report", "write", str(bad), "--format", "pdf", "--out", str(tmp_path / "x.pdf")])
    assert failed.exit_code == 2 and "not a plancheck run" in failed.output


def test_pdf_warns_when_the_patient_name_cannot_be_drawn(tmp_path: Path) -> None:
    run = sample_run()
    run.table.rows = [r for r in run.table.rows if r.param != "patient_name"]
    run.table.add(Param("patient", "", "patient_name", "王^小明", "", "mosaiq", "Patient"))
    text = "\n".join(pdf_pages(write_pdf(run, tmp_path / "cjk.pdf")))
    assert "cannot draw (U+738B U+5C0F U+660E)" in text.replace("\n", " ")
    assert "confirm the patient against MOSAIQ" in text.replace("\n", " ")
