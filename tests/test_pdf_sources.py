"""Plan and second-check PDFs: every field of every shipped template, read back from reports the
project's writer made from pymedphys' RT Plans, against the plan they were written from."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pdfplumber
import pydicom
import pypdfium2
import pypdfium2.raw as pdfium_c
import pymedphys
import pytest
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.config import Config
from plancheck.errors import SourceError
from plancheck.sources import Request
from plancheck.sources.pdfplan import convert
from plancheck.sources.pdfplan.extract import extract
from plancheck.sources.pdfplan.orientation import quarter, reading_turns, turn_box
from plancheck.sources.pdfplan.documents import DocumentRecord, records_finder, refs_from_records
from plancheck.sources.pdfplan.parse import Parsed, parse_file
from plancheck.sources.pdfplan.source import read_plan_pdf, read_second_check, rows_from_parsed
from plancheck.sources.pdfplan.template import load_templates
from plancheck.fabricate.pdf import VENDORS, WrittenReport, layout_report, write_plan_pdf
from plancheck.sources.rtplan import rows_from_dataset
from plancheck.table import Param, ParamTable

PMP = Path(pymedphys.__file__).parent
VMAT = PMP / "_experimental/serviceplans/templates/vmat_example.dcm"
STATIC10 = PMP / "tests/dicom/data/rtplan/06MV_plan.dcm"
PLAN_VENDORS = ("monaco", "eclipse", "raystation")
APPROVED = {"plan_approved": True, "plan_approved_by": "Dr R. Oncologist", "plan_approved_date": "2024-03-04T15:45:00",
            "calc_algorithm": "XVMC 6.1.2.0", "calc_grid_mm": 2.0, "rx_target": "PTV_50"}
WRAPPED_LABEL = ("02x02", "02x02_OPEN_FLD")  # long enough to wrap in every vendor's label column


def rtplan_rows(path: Path) -> list[Param]:
    rows, _, _ = rows_from_dataset(pydicom.dcmread(path, force=True), str(path))
    return rows


def long_names(rows: list[Param]) -> dict[Any, Any]:
    labels = [r.beam for r in rows if r.param == "beam_number"]
    names = {(label, "beam_name"): f"Open field {label} cm square at the isocentre depth" for label in labels}
    return {**names, (WRAPPED_LABEL[0], "label"): WRAPPED_LABEL[1]}


def repeated(rows: list[Param]) -> list[Param]:
    """The 10-beam plan with each beam repeated under three more labels: 40 beams, a RadCalc table over two pages."""
    out = list(rows)
    for suffix in ("b", "c", "d"):
        out += [Param(r.scope, r.beam + suffix, r.param, r.value, r.unit, r.source, r.provenance) for r in rows if r.scope == "beam"]
    return out


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def plans() -> dict[str, list[Param]]:
    return {"vmat": rtplan_rows(VMAT), "static10": rtplan_rows(STATIC10)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, plans) -> dict[tuple[str, str], tuple[WrittenReport, list[Param], dict[Any, Any]]]:
    """Each vendor's report of the VMAT plan (approved) and of the 10-beam plan (long, wrapped names; split tables)."""
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for vendor in VENDORS:
        cases = {
            "vmat": (plans["vmat"], APPROVED if vendor != "radcalc" else {("1-2", "mu_diff_percent"): 6.3}),
            "long": (plans["static10"], long_names(plans["static10"])) if vendor != "radcalc"
            else (repeated(plans["static10"]), {(WRAPPED_LABEL[0], "label"): WRAPPED_LABEL[1]}),
        }
        for case, (rows, overrides) in cases.items():
            written = write_plan_pdf(vendor, rows, folder / f"{vendor}_{case}.pdf", overrides=overrides)
            out[(vendor, case)] = (written, rows, overrides)
    return out


@pytest.fixture(scope="module")
def parsed(reports, templates) -> dict[tuple[str, str], Parsed]:
    return {key: parse_file(written.path, templates) for key, (written, _, _) in reports.items()}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-6)
    return a == b


CASES = [(v, c) for v in VENDORS for c in ("vmat", "long")]


@pytest.mark.parametrize("key", CASES, ids=lambda k: "-".join(k))
def test_template_fits_and_reads_every_field_as_printed(key, reports, parsed) -> None:
    written, _, _ = reports[key]
    result = parsed[key]
    assert result.template.name == key[0]
    got = {f.param: f.value for f in result.values}
    assert set(got) == set(written.values), f"fields read {sorted(got)} vs printed {sorted(written.values)}"
    for param, value in written.values.items():
        assert same(got[param], value), f"{param}: read {got[param]!r}, printed {value!r}"
    assert list(result.beams) == list(written.beams)
    for label, printed in written.beams.items():
        read = {p: f.value for p, f in result.beams[label].items()}
        assert set(read) == set(printed), f"beam {label}: read {sorted(read)} vs printed {sorted(printed)}"
        for param, value in printed.items():
            assert same(read[param], value), f"beam {label} {param}: read {read[param]!r}, printed {value!r}"
    assert not [m for m in result.missing if m.required]
    assert not result.warnings


@pytest.mark.parametrize("key", CASES, ids=lambda k: "-".join(k))
def test_pdfium_and_pdfplumber_give_the_same_words(key, reports) -> None:
    path = reports[key][0].path
    fast, reference = extract(path, "pdfium"), extract(path, "pdfplumber")
    assert [[line.text for line in p.lines] for p in fast.pages] == [[line.text for line in p.lines] for p in reference.pages]
    for a, b in zip((w for p in fast.pages for line in p.lines for w in line.words),
                    (w for p in reference.pages for line in p.lines for w in line.words), strict=False):
        assert max(abs(a.x0 - b.x0), abs(a.x1 - b.x1), abs(a.top - b.top), abs(a.bottom - b.bottom)) < 1.0, (a, b)


# what each vendor prints to fewer decimals than DICOM holds
PRINT_TOLERANCE = {"mu": 0.05, "ssd_mm": 0.05, "iso_x_mm": 0.05, "iso_y_mm": 0.05, "iso_z_mm": 0.05}
BEAM_PARAMS = ("beam_name", "machine", "energy", "beam_type", "mu", "gantry_start", "gantry_stop", "gantry_direction",
               "collimator", "couch", "ssd_mm", "iso_x_mm", "iso_y_mm", "iso_z_mm")


@pytest.mark.parametrize("key", [(v, c) for v in PLAN_VENDORS for c in ("vmat", "long")], ids=lambda k: "-".join(k))
def test_plan_report_agrees_with_the_rt_plan_it_was_written_from(key, reports, parsed) -> None:
    _, rows, overrides = reports[key]
    result = parsed[key]
    plan = {r.param: r.value for r in rows if r.scope in ("patient", "prescription")}
    for param in ("patient_id", "patient_name", "plan_label", "fractions", "dose_per_fraction_cgy", "total_dose_cgy"):
        assert same(result.value(param), plan[param]), param
    assert result.value("plan_approved") is bool(overrides.get("plan_approved", plan["plan_approved"]))
    renamed = {key[0]: new for key, new in overrides.items() if isinstance(key, tuple) and key[1] == "label"}
    for label in {r.beam for r in rows if r.scope == "beam"}:
        beam = {r.param: r.value for r in rows if r.beam == label and r.scope == "beam"}
        read = {p: f.value for p, f in result.beams[renamed.get(label, label)].items()}
        for param in BEAM_PARAMS:
            expected = overrides.get((label, param), beam[param])
            if param in PRINT_TOLERANCE:
                assert abs(read[param] - expected) <= PRINT_TOLERANCE[param], (label, param)
            else:
                assert read[param] == expected, (label, param, read[param], expected)


@pytest.mark.parametrize("vendor", VENDORS)
def test_long_report_has_a_table_over_two_pages_and_wrapped_cells(vendor, parsed) -> None:
    result = parsed[(vendor, "long")]
    split = [t for t in result.tables if len(t.pages) > 1]
    assert split, "no table continued on a second page under a repeated header"
    wrapped_label = [row for t in result.tables for row in t.rows if len(row.cells.get("label", [])) > 1]
    assert wrapped_label and WRAPPED_LABEL[1] in result.beams
    if vendor != "radcalc":
        wrapped_name = [row for t in result.tables for row in t.rows if len(row.cells.get("beam_name", [])) > 1]
        assert wrapped_name
        assert result.beams["05x05"]["beam_name"].value == "Open field 05x05 cm square at the isocentre depth"


def test_radcalc_planted_discrepancy_is_read_with_its_tolerance(parsed) -> None:
    beams = parsed[("radcalc", "vmat")].beams
    assert beams["1-2"]["mu_diff_percent"].value == 6.3
    assert beams["1-2"]["mu_diff_tolerance_percent"].value == 5.0
    assert abs(beams["1-1"]["mu_diff_percent"].value) < 5.0
    assert beams["1-2"]["independent_mu"].value == pytest.approx(beams["1-2"]["tps_mu"].value * 1.063, abs=0.01)


@pytest.mark.parametrize("key", CASES, ids=lambda k: "-".join(k))
def test_rows_fit_the_collected_table(key, parsed) -> None:
    result = parsed[key]
    table = ParamTable()
    table.extend(rows_from_parsed(result))
    source = "second_check" if key[0] == "radcalc" else "plan_pdf"
    assert table.sources == [source]
    path = str(result.document.path)
    read = [r for r in table if r.param not in ("document_title", "beam_count")]
    assert all(r.provenance.startswith(path + " page ") for r in read)
    units = {r.param: r.unit for r in table}
    expected = {"gantry_start": "deg", "couch": "deg", "ssd_mm": "mm", "mu": "MU", "tps_mu": "MU", "total_dose_cgy": "cGy",
                "mu_diff_percent": "%", "fractions": "", "energy": "", "calc_grid_mm": "mm"}
    assert {p: units[p] for p in expected if p in units} == {p: u for p, u in expected.items() if p in units}
    if source == "plan_pdf":
        assert table.value("beam_count", source=source, scope="prescription") == len(result.beams)
        for param in ("plan_approved", "calc_algorithm", "calc_grid_mm"):
            assert table.select(param=param, scope="prescription")
    else:
        for beam in table.beams():
            assert table.value("mu_diff_percent", source=source, beam=beam) is not None
            assert table.value("mu_diff_tolerance_percent", source=source, beam=beam) == 5.0


def test_approval_who_and_when_are_read(parsed) -> None:
    for vendor in PLAN_VENDORS:
        result = parsed[(vendor, "vmat")]
        assert result.value("plan_approved") is True
        assert result.value("plan_approved_by") == "Dr R. Oncologist"
        assert result.value("plan_approved_date") == "2024-03-04T15:45:00"
        assert result.value("calc_algorithm") == "XVMC 6.1.2.0"
        unapproved = parsed[(vendor, "long")]
        assert unapproved.value("plan_approved") is False and unapproved.value("plan_approved_by") is None


# ---- the sources ---------------------------------------------------------------------------

def _copy(src: Path, dst: Path, mtime: float) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    os.utime(dst, (mtime, mtime))
    return dst


@pytest.fixture(scope="module")
def folder(tmp_path_factory, reports, plans) -> Path:
    """A clinic PDF folder: two patients, an older and a newer plan report, a RadCalc, and a PDF that is not a report."""
    root = tmp_path_factory.mktemp("pdf_dir")
    _copy(reports[("monaco", "vmat")][0].path, root / "MVISO plan.pdf", 2_000_000)
    _copy(reports[("radcalc", "vmat")][0].path, root / "mviso" / "radcalc.pdf", 2_000_100)
    older = write_plan_pdf("eclipse", plans["static10"], root / "old" / "eclipse_v1.pdf", overrides={("10x10", "mu"): 990.0})
    os.utime(older.path, (1_000_000, 1_000_000))
    _copy(reports[("eclipse", "long")][0].path, root / "eclipse_v2.pdf", 3_000_000)
    from fpdf import FPDF

    other = FPDF()
    other.add_page()
    other.set_font("Helvetica", size=10)
    other.cell(0, 10, "Consent to treatment - patient 60x60x60")
    other.output(str(root / "consent.pdf"))
    return root


def test_plan_pdf_source_reads_newest_report_and_document_rows(folder) -> None:
    reading = read_plan_pdf(Request("60x60x60", None, Config(pdf_dir=folder)))
    table = ParamTable()
    table.extend(reading.rows)
    assert table.value("mu", source="plan_pdf", beam="10x10") == 1000.0  # the newer report, not the 990 MU one
    item = table.items("document")[0]
    assert item == "plan:eclipse_v2.pdf"
    docs = {r.param: r.value for r in table.select(scope="document")}
    assert docs["document_newest"] is True and docs["document_approved"] is False
    assert not [w for w in reading.warnings if "consent" in w.lower()]


def test_plan_is_chosen_by_name_and_second_check_by_kind(folder) -> None:
    config = Config(pdf_dir=folder)
    plan = read_plan_pdf(Request("MVISO", "AVMATNEWSPLIT", config))
    assert {r.value for r in plan.rows if r.param == "plan_label"} == {"AVMATNEWSPLIT"}
    check = read_second_check(Request("MVISO", "AVMATNEWSPLIT", config))
    table = ParamTable()
    table.extend(check.rows)
    assert table.value("mu_diff_percent", source="second_check", beam="1-2") == 6.3
    assert table.value("document_approved", source="second_check", scope="document") is True
    other = read_plan_pdf(Request("MVISO", "SOMEOTHERPLAN", config))
    assert other.rows and "not 'SOMEOTHERPLAN'" in other.warnings[0]


def test_sources_without_a_folder_or_reports(folder) -> None:
    assert read_plan_pdf(Request("MVISO", None, Config())) is None
    reading = read_second_check(Request("60x60x60", None, Config(pdf_dir=folder)))
    assert not reading.rows and "no second-check report" in reading.warnings[0]


def test_mosaiq_style_records_newest_non_void(reports, templates) -> None:
    plan_v1 = reports[("monaco", "long")][0].path
    plan_v2 = reports[("eclipse", "long")][0].path
    records = [
        DocumentRecord("11", "Treatment Plan", "Treatment Plan", plan_v1, True, "2024-01-02T09:00:00", 1, False, group="tp"),
        DocumentRecord("12", "Treatment Plan", "Treatment Plan", plan_v2, True, "2024-01-03T09:00:00", 2, False, group="tp"),
        DocumentRecord("13", "Treatment Plan", "Treatment Plan", plan_v1, False, None, 3, True, group="tp"),
        DocumentRecord("14", "MU check", "Second Check", reports[("radcalc", "long")][0].path, None, None, 1, False),
    ]
    refs = refs_from_records(records)
    assert [(r.report_type, r.version, r.newest) for r in refs] == [("plan", 1, False), ("plan", 2, True), ("second_check", 1, True)]
    reading = read_plan_pdf(Request("60x60x60", None, Config()), finders=[records_finder(lambda pid: records)], templates=templates)
    docs = {r.param: (r.value, r.provenance) for r in reading.rows if r.scope == "document"}
    assert docs["document_newest"] == (True, "MOSAIQ document 12")
    assert docs["document_approved"] == (True, "MOSAIQ document 12")
    assert docs["document_approved_date"][0] == "2024-01-03T09:00:00"


def test_unreadable_newer_version_is_an_error_not_a_silent_fallback(tmp_path, reports, templates) -> None:
    good = reports[("eclipse", "long")][0].path
    cut = tmp_path / "plan_v3.pdf"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    records = [DocumentRecord("1", "Plan", "Treatment Plan", good, True, "2024-01-01", 1, False, group="p"),
               DocumentRecord("2", "Plan", "Treatment Plan", cut, True, "2024-01-02", 2, False, group="p")]
    with pytest.raises(SourceError) as info:
        read_plan_pdf(Request("60x60x60", None, Config()), finders=[records_finder(lambda pid: records)], templates=templates)
    assert "plan_v3.pdf" in info.value.message and "newer" in info.value.message


# ---- conversion and the inspect command ----------------------------------------------------

@pytest.mark.parametrize("param, text, unit, expected", [
    ("ssd_mm", "94.90", "cm", 949.0), ("ssd_mm", "94.90 cm", None, 949.0), ("dose_per_fraction_cgy", "2.000 Gy", None, 200.0),
    ("total_dose_cgy", "5,000.0", "cGy", 5000.0), ("mu", "157.24 MU", None, 157.24), ("fractions", "25", None, 25),
    ("gantry_start", "-30.0", None, 330.0), ("iso_y_mm", "\u221220.00", "cm", -200.0),
])
def test_number_conversion(param, text, unit, expected) -> None:
    assert convert.convert(param, text, unit=unit) == expected


@pytest.mark.parametrize("param, text", [("ssd_mm", "94.9 Gy"), ("mu", "abc"), ("fractions", "25 cm"), ("gantry_direction", "sideways")])
def test_conversion_errors_say_why(param, text) -> None:
    with pytest.raises(convert.ConvertError):
        convert.convert(param, text)


def test_names_dates_energies() -> None:
    assert convert.person_name("Doe, John") == "DOE^JOHN"
    assert convert.person_name("John van Doe", "first_last") == "DOE^JOHN VAN"
    assert convert.date("1/5/2024 10:22 AM", ["%m/%d/%Y %I:%M %p"]) == "2024-01-05T10:22:00"
    assert [convert.convert("energy", e) for e in ("6 MV", "10 MV FFF", "10X-FFF", "9 MeV", "6")] == ["6X", "10FFF", "10FFF", "9E", "6X"]


def test_inspect_json_lists_found_and_missing(reports) -> None:
    path = reports[("monaco", "long")][0].path
    result = CliRunner().invoke(app, ["pdf", "inspect", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["template"]["name"] == "monaco"
    assert {"param": "plan_label", "value": "AMC06MV", "page": 1}.items() <= next(f for f in data["fields"] if f["param"] == "plan_label").items()
    missing = {m["name"]: m for m in data["missing"]}
    assert "plan_approved_date" in missing and "blank" in missing["plan_approved_date"]["reason"]
    assert data["beams"][WRAPPED_LABEL[1]]["mu"]["value"] == 1000.0
    assert data["text"][0]["lines"][0]["ignored"] is True


def test_inspect_text_shows_lines_and_why_a_forced_template_does_not_fit(reports) -> None:
    path = reports[("raystation", "vmat")][0].path
    ok = CliRunner().invoke(app, ["pdf", "inspect", str(path)])
    assert ok.exit_code == 0 and "--- page 1 ---" in ok.output and "fields found:" in ok.output
    forced = CliRunner().invoke(app, ["pdf", "inspect", str(path), "--template", "eclipse"])
    assert forced.exit_code == 1 and "not a 'eclipse' report" in forced.output and "lacks" in forced.output


def test_pdf_templates_lists_shipped_templates() -> None:
    result = CliRunner().invoke(app, ["pdf", "templates"])
    assert result.exit_code == 0
    for name in ("monaco", "eclipse", "raystation", "radcalc"):
        assert name in result.output


def test_every_template_key_and_inspect_option_is_documented() -> None:
    from plancheck.sources.pdfplan import template as model

    docs = (Path(__file__).resolve().parent.parent / "docs/pdf-templates.md").read_text()
    keys = model._TOP_KEYS | model._RECOGNISE_KEYS | model._FIELD_KEYS | model._COLUMN_KEYS | model._TABLE_KEYS
    undocumented = sorted(k for k in keys if f"`{k}`" not in docs)
    assert not undocumented, f"template keys missing from docs/pdf-templates.md: {undocumented}"
    for option in ("--template", "--format", "--no-text", "--templates"):
        assert f"`{option}" in docs, option


TWO_LINE_HEADER_TEMPLATE = """
name: units_below
report_type: plan
recognise: {anchors: ['^Treatment fields']}
ignore: ['^Page \\d+$']
fields:
  patient_id: {label: 'ID:', required: true}
tables:
  beams:
    title: '^Treatment fields'
    row_anchor: mu
    columns:
      label: {header: 'Field', join: ''}
      gantry_start: {header: 'Gantry'}
      ssd_mm: {header: 'SSD'}          # the unit is on the line under the header
      mu: {header: 'MU', align: right}
"""


def test_units_line_under_a_repeated_header_and_wrapped_label(tmp_path) -> None:
    """A table from a plain fpdf2 page (not the project's layouts): units under the header, a page break."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=9)
    rows = [("A1", "90.0", "95.0 cm", "100.0"), ("LONGLABEL", "270.0", "96.5 cm", "120.5"), ("C3", "0.0", "1000 mm", "80.0")]
    for page_rows in (rows[:2], rows[2:]):
        pdf.add_page()
        pdf.cell(0, 6, "Treatment fields" if pdf.page_no() == 1 else "Treatment fields (continued)", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, "ID: P001", new_x="LMARGIN", new_y="NEXT")
        for texts in (("Field", "Gantry", "SSD", "MU"), ("", "[deg]", "[cm or mm]", "")):
            for i, text in enumerate(texts):
                pdf.cell(30, 5, text, align="R" if i == 3 else "L")
            pdf.ln(5)
        for label, gantry, ssd, mu in page_rows:
            top = pdf.get_y()
            pdf.cell(30, 5, label[:5])
            pdf.cell(30, 5, gantry)
            pdf.cell(30, 5, ssd)
            pdf.cell(30, 5, mu, align="R")
            if len(label) > 5:  # the label wraps onto a second line
                pdf.set_xy(pdf.l_margin, top + 5)
                pdf.cell(30, 5, label[5:])
            pdf.set_xy(pdf.l_margin, pdf.get_y() + 5)
        pdf.set_y(-20)
        pdf.cell(0, 5, f"Page {pdf.page_no()}")
    pdf.output(str(tmp_path / "fields.pdf"))
    (tmp_path / "units_below.yaml").write_text(TWO_LINE_HEADER_TEMPLATE)
    parsed = parse_file(tmp_path / "fields.pdf", load_templates([tmp_path], shipped=False))
    beams = {label: {p: f.value for p, f in values.items()} for label, values in parsed.beams.items()}
    assert beams == {
        "A1": {"gantry_start": 90.0, "ssd_mm": 950.0, "mu": 100.0},
        "LONGLABEL": {"gantry_start": 270.0, "ssd_mm": 965.0, "mu": 120.5},
        "C3": {"gantry_start": 0.0, "ssd_mm": 1000.0, "mu": 80.0},
    }
    assert parsed.tables[0].pages == [1, 2]


# ---- rotated pages ------------------------------------------------------------------------------

ROTATIONS = {"0": (0,), "90": (90,), "180": (180,), "270": (270,), "mix": (90, 0, 270, 180)}


def turn_pages(src: Path, dst: Path, rotations: tuple[int, ...], *, drawn_turned: bool) -> Path:
    """``src`` saved with page i's ``/Rotate`` set to ``rotations[i % len]`` (PDF 32000-1 §7.7.3.3).

    ``drawn_turned``: the content is first drawn turned anticlockwise by the same angle, so the page
    is displayed upright, as a real Eclipse report with ``/Rotate 90`` is; otherwise only ``/Rotate``
    is set and the page is displayed turned.
    """
    pdf = pypdfium2.PdfDocument(str(src))
    try:
        for index in range(len(pdf)):
            page, rotation = pdf[index], rotations[index % len(rotations)]
            if drawn_turned and rotation:
                width, height = page.get_width(), page.get_height()
                cos, sin = round(math.cos(math.radians(rotation))), round(math.sin(math.radians(rotation)))
                corners = [(cos * x - sin * y, sin * x + cos * y) for x in (0, width) for y in (0, height)]
                dx, dy = -min(x for x, _ in corners), -min(y for _, y in corners)
                pdfium_c.FPDFPage_TransFormWithClip(page.raw, pdfium_c.FS_MATRIX(cos, sin, -sin, cos, dx, dy), None)
                page.set_mediabox(0, 0, max(x for x, _ in corners) + dx, max(y for _, y in corners) + dy)
            page.set_rotation(rotation)
            page.close()
        pdf.save(str(dst))
    finally:
        pdf.close()
    return dst


def pdfium_angles(path: Path) -> set[float]:
    """The angles PDFium gives the characters of every page (radians, before ``/Rotate``)."""
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        angles = set()
        for page in pdf:
            textpage = page.get_textpage()
            angles |= {round(pdfium_c.FPDFText_GetCharAngle(textpage.raw, i), 3) for i in range(textpage.count_chars())
                       if not textpage.get_text_range(i, 1).isspace()}
            textpage.close()
            page.close()
        return angles
    finally:
        pdf.close()


def fields(result: Parsed) -> tuple[dict[str, tuple[Any, int, int]], dict[str, dict[str, tuple[Any, int, int]]]]:
    """Every value read, with the page and line it was read from."""
    return ({f.param: (f.value, f.page, f.line) for f in result.values},
            {label: {p: (f.value, f.page, f.line) for p, f in found.items()} for label, found in result.beams.items()})


@pytest.mark.parametrize("drawn_turned", [False, True], ids=["rotate-only", "drawn-turned"])
@pytest.mark.parametrize("rotation", list(ROTATIONS))
@pytest.mark.parametrize("vendor", VENDORS)
def test_rotated_pages_read_as_the_upright_report(vendor, rotation, drawn_turned, reports, parsed, templates, tmp_path) -> None:
    upright = reports[(vendor, "long")][0].path
    turned = turn_pages(upright, tmp_path / "turned.pdf", ROTATIONS[rotation], drawn_turned=drawn_turned)
    with pdfplumber.open(turned) as pdf:
        assert len(pdf.pages) > 1 and [p.rotation for p in pdf.pages] == [ROTATIONS[rotation][i % len(ROTATIONS[rotation])] for i in range(len(pdf.pages))]
    if drawn_turned and rotation != "0":
        assert pdfium_angles(turned) - {0.0}, "the content was not drawn turned"
    expected = fields(parsed[(vendor, "long")])
    reference = extract(upright, "pdfplumber")
    for backend in ("pdfium", "pdfplumber"):
        document = extract(turned, backend)
        assert [x for p in document.pages for x in (p.width, p.height)] == pytest.approx([x for p in reference.pages for x in (p.width, p.height)], abs=0.01)
        assert [[line.text for line in p.lines] for p in document.pages] == [[line.text for line in p.lines] for p in reference.pages], backend
        assert fields(parse_file(turned, templates, backend=backend)) == expected, backend


@pytest.mark.parametrize("rotation", ["0", "90", "mix"])
def test_watermark_and_vertical_label_are_left_out_whichever_way_the_page_turns(rotation, plans, reports, templates, tmp_path) -> None:
    """Text at another angle than most of the page's (a 45-degree watermark, a label up the margin) is not read."""
    pdf, _ = layout_report("eclipse", plans["static10"], tmp_path / "marked.pdf", overrides=long_names(plans["static10"]))
    for number in range(1, pdf.pages_count + 1):
        pdf.page = number
        pdf.set_font("helvetica", size=40)
        with pdf.rotation(45, 100, 150):
            pdf.text(100, 150, "DRAFT NOT FOR CLINICAL USE")
        pdf.set_font("helvetica", size=8)
        with pdf.rotation(90, 8, 150):
            pdf.text(8, 150, "Printed by Eclipse 16.1")
    pdf.output(str(tmp_path / "marked.pdf"))
    turned = turn_pages(tmp_path / "marked.pdf", tmp_path / "turned.pdf", ROTATIONS[rotation], drawn_turned=True)
    assert {quarter(a) for a in pdfium_angles(tmp_path / "marked.pdf")} == {0, 3, None}  # upright, up the margin, diagonal
    expected = fields(parse_file(reports[("eclipse", "long")][0].path, templates))
    for backend in ("pdfium", "pdfplumber"):
        text = " ".join(line.text for page in extract(turned, backend).pages for line in page.lines)
        assert "DRAFT" not in text and "Printed" not in text, backend
        assert fields(parse_file(turned, templates, backend=backend)) == expected, backend


def test_orientation_quarters_and_turned_boxes() -> None:
    assert [quarter(math.radians(a)) for a in (0, 90, 180, 270, 359.5, 45)] == [0, 1, 2, 3, 0, None]
    assert reading_turns([1, 1, 0, None]) == 1 and reading_turns([1, 0, None]) == 0 and reading_turns([1, 3], default=2) == 1
    assert reading_turns([], default=3) == 3
    box = (10.0, 20.0, 30.0, 38.0)
    assert turn_box(box, 1, 600.0, 800.0) == (30.0, 38.0, 580.0, 590.0)
    assert turn_box(turn_box(box, 3, 600.0, 800.0), 1, 800.0, 600.0) == box
