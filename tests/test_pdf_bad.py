"""Bad PDFs and bad templates: each a clear SourceError (or TemplateError) naming file and page
(or line) and saying what to do; never a traceback, and the other sources still run."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pydicom
import pymedphys
import pypdfium2
import pytest
from fpdf import FPDF
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.config import Config
from plancheck.errors import SourceError, TemplateError
from plancheck.sources import Request
from plancheck.sources.pdfplan.parse import parse_file
from plancheck.sources.pdfplan.source import read_plan_pdf, read_second_check
from plancheck.sources.pdfplan.template import load_template, load_templates
from plancheck.fabricate.pdf import layout_report, write_plan_pdf
from plancheck.sources.rtplan import rows_from_dataset

PLAN = Path(pymedphys.__file__).parent / "_experimental/serviceplans/templates/vmat_example.dcm"


@pytest.fixture(scope="module")
def rows():
    found, _, _ = rows_from_dataset(pydicom.dcmread(PLAN, force=True), str(PLAN))
    return found


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def bad(tmp_path_factory, rows) -> dict[str, Path]:
    """One of each kind of bad PDF, made from a real report where there is one."""
    folder = tmp_path_factory.mktemp("bad")
    out: dict[str, Path] = {}
    good = write_plan_pdf("monaco", rows, folder / "good_monaco.pdf").path
    pdf, _ = layout_report("eclipse", rows, folder / "unused.pdf")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    out["encrypted"] = folder / "encrypted.pdf"
    pdf.output(str(out["encrypted"]))
    out["image_only"] = folder / "scanned.pdf"
    _scan(good, out["image_only"])
    data = good.read_bytes()
    out["truncated"] = folder / "truncated.pdf"
    out["truncated"].write_bytes(data[: int(len(data) * 0.6)])
    out["other_vendor"] = write_plan_pdf("raystation", rows, folder / "raystation.pdf").path
    out["no_template"] = folder / "dvh_summary.pdf"
    other = FPDF()
    other.add_page()
    other.set_font("Helvetica", size=11)
    other.cell(0, 8, "Dose Volume Histogram summary - MVISO", new_x="LMARGIN", new_y="NEXT")
    other.cell(0, 8, "PTV  D95  98.2 %")
    other.output(str(out["no_template"]))
    out["not_pdf"] = folder / "notes.pdf"
    out["not_pdf"].write_text("this is a text file saved with a .pdf name")
    for vendor, section in (("monaco", "beams"), ("eclipse", "fields"), ("raystation", "beams"), ("radcalc", "beams")):
        out[f"no_table_{vendor}"] = write_plan_pdf(vendor, rows, folder / f"no_table_{vendor}.pdf", omit={section}).path
    return out


def _scan(report: Path, out: Path) -> None:
    """A 'scanned' copy: page images only, as a scanner or a print-to-image makes."""
    rendered = pypdfium2.PdfDocument(str(report))
    pdf = FPDF()
    for index in range(len(rendered)):
        image = rendered[index].render(scale=1).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=pdf.w)
    rendered.close()
    pdf.output(str(out))


def _error(path: Path, templates, name: str | None = None, backend: str | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        parse_file(path, templates, name, backend=backend)
    return info.value


@pytest.mark.parametrize("backend", ["pdfium", "pdfplumber"])
@pytest.mark.parametrize("kind, words, page", [
    ("encrypted", "encrypted", 1),
    ("image_only", "no text layer", 1),
    ("truncated", "cut short", None),
    ("no_template", "matches no PDF template", 1),
    ("not_pdf", "not a PDF", 1),
])
def test_bad_pdf_is_a_source_error_naming_file_and_page(kind, words, page, backend, bad, templates) -> None:
    error = _error(bad[kind], templates, backend=backend)
    assert bad[kind].name in error.where
    assert words in error.what
    found = re.search(r"page (\d+)", error.where)
    assert found, error.message
    if page is not None:
        assert int(found.group(1)) == page
    assert error.fix


def test_truncated_pdf_names_the_page_where_it_breaks(bad, templates) -> None:
    error = _error(bad["truncated"], templates)
    assert re.search(r"page [1-9]", error.where) and "copy" in error.fix


def test_other_vendor_under_forced_template_says_which_anchors_are_missing(bad, templates) -> None:
    error = _error(bad["other_vendor"], templates, "monaco")
    assert "not a 'monaco' report" in error.what and "'^Monaco\\b'" in error.what
    assert error.where.endswith("raystation.pdf page 1")


@pytest.mark.parametrize("vendor, table", [("monaco", "beams"), ("eclipse", "fields"), ("raystation", "beams"), ("radcalc", "beams")])
def test_report_without_its_beam_table(vendor, table, bad, templates) -> None:
    error = _error(bad[f"no_table_{vendor}"], templates)
    assert f"table {table!r} missing" in error.what
    assert f"no_table_{vendor}.pdf page" in error.where
    assert "plancheck pdf inspect" in error.fix


def test_source_reports_the_bad_file_and_the_other_source_still_reads(tmp_path, bad, rows) -> None:
    folder = tmp_path / "MVISO"
    folder.mkdir()
    (folder / "plan.pdf").write_bytes(bad["encrypted"].read_bytes())
    write_plan_pdf("radcalc", rows, folder / "radcalc.pdf")
    request = Request("MVISO", None, Config(pdf_dir=tmp_path))
    with pytest.raises(SourceError) as info:
        read_plan_pdf(request)
    assert "plan.pdf page 1" in info.value.message and "encrypted" in info.value.message
    check = read_second_check(request)
    assert any(r.param == "mu_diff_percent" for r in check.rows)


def test_cli_inspect_bad_pdf_is_one_line_and_exit_2(bad) -> None:
    result = CliRunner().invoke(app, ["pdf", "inspect", str(bad["image_only"])])
    assert result.exit_code == 2
    assert "no text layer" in result.output and "Traceback" not in result.output


# ---- bad templates ---------------------------------------------------------------------------

GOOD = Path(__file__).resolve().parent.parent / "plancheck/sources/pdf_templates/monaco.yaml"


@pytest.mark.parametrize("old, new, words", [
    ("  patient_id: {label: 'Patient ID:', required: true}", "  patient_id: {lable: 'Patient ID:'}", "unknown key 'lable'"),
    ("  calc_grid_mm: {label: 'Grid Spacing:'}", "  calc_grid_mm: {label: 'Grid Spacing:', unit: Gy}", "does not convert to mm"),
    ("      gantry_start: {header: 'Gantry Start'}", "      gantry_strat: {header: 'Gantry Start'}", "did you mean 'gantry_start'"),
    ("  fractions: {label: 'Number of Fractions:', required: true}", "  fractions: {label: 'Number of (Fractions:'}", "not a valid regular expression"),
    ("  rx_target: {label: '^Target:'}", "  rx_target: {label: '^Target:'}\n  rx_target: {label: 'Target'}", "written twice"),
    ("      mu: {header: '\\bMU\\b'}", "      mu: {header: '\\bMU\\b', value: '(?P<mu>[\\d.]+) (?P<gantry_stp>x)'}", "not a vocabulary parameter"),
    ("  rx_target: {label: '^Target:'}", "  rx_target: {label: '^Target:', value: '(?P<mu>.+)'}", "cannot come from a field"),
    ("report_type: plan", "report_type: plan\n  oops: [", "not valid YAML"),
])
def test_bad_template_names_file_and_line(tmp_path, old, new, words) -> None:
    text = GOOD.read_text()
    assert old in text, old
    bad_text = text.replace(old, new, 1)
    path = tmp_path / "clinic_monaco.yaml"
    path.write_text(bad_text)
    lines = bad_text.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(new.splitlines()[-1])) if words != "not valid YAML" else None
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert words in info.value.message
    where = info.value.where
    assert where.startswith(f"{path}:")
    if line is not None:
        assert int(where.rsplit(":", 1)[1]) == line, (where, line)


def test_clinic_template_replaces_shipped_one_and_bad_folder_is_named(tmp_path) -> None:
    clinic = tmp_path / "templates"
    clinic.mkdir()
    (clinic / "monaco.yaml").write_text(GOOD.read_text().replace("description: Elekta Monaco plan report", "description: Our Monaco"))
    templates = load_templates([clinic])
    assert templates.get("monaco").description == "Our Monaco" and len(templates.names) == 4
    with pytest.raises(TemplateError) as info:
        load_templates([tmp_path / "missing"])
    assert "missing" in info.value.where


def test_cli_inspect_report_missing_its_table_exits_1_and_says_why(bad) -> None:
    result = CliRunner().invoke(app, ["pdf", "inspect", str(bad["no_table_monaco"]), "--no-text"])
    assert result.exit_code == 1
    assert "result: the source would stop here: beams missing" in result.output
    assert "title '^Beam Summary' not found" in result.output


def test_a_template_is_read_again_only_when_its_file_changed(tmp_path: Path) -> None:
    from plancheck.sources.pdfplan.template import SHIPPED_DIR

    shipped = sorted(SHIPPED_DIR.glob("*.yaml"))[0]
    path = tmp_path / shipped.name
    path.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_template(path)
    assert load_template(path) is first  # unchanged: not read again
    text = path.read_text(encoding="utf-8")
    assert f"description: {first.description}" in text
    path.write_text(text.replace(f"description: {first.description}", "description: edited by the clinic", 1), encoding="utf-8")
    assert load_template(path).description == "edited by the clinic"
    path.write_text("name: [", encoding="utf-8")  # a broken edit is an error naming the file, never the old template
    with pytest.raises(TemplateError, match=re.escape(str(path))):
        load_template(path)
