"""One word per meaning: "kind" is the check occasion (initial / weekly / final) and nothing else.

The other meanings it once had have their own words: the registry of explicit check
implementations is *check type* (``CHECK_TYPES``, ``CheckType``), a vocabulary parameter's
type is ``value_type``, where a result comes from is ``origin`` and a PDF's report is a
``report_type``. These tests fail if ``kind`` comes back for any of them.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import plancheck
from plancheck.checks.results import CheckResult, CheckRun
from plancheck.report import load_run
from plancheck.sources.pdfplan.documents import DocumentRef
from plancheck.sources.pdfplan.template import SHIPPED_DIR, Template, load_templates
from plancheck.vocabulary import ParamSpec
from report_cases import sample_run
from tests.package_source import parsed_modules

ROOT = Path(plancheck.__file__).parent
RETIRED_NAMES = {"KINDS", "CheckKind", "KindFunction", "document_kind"}
# calls whose `kind=` would be one of the renamed meanings
RENAMED_CALLS = {"CheckResult", "ParamSpec", "Template", "DocumentRef", "CheckType"}


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""


def _offences(path: Path, tree: ast.AST) -> list[str]:
    where = path.relative_to(ROOT.parent)
    found: list[str] = []

    def at(node: ast.AST) -> str:  # formatted only for an offence: the walk visits every node of the package
        return f"{where}:{getattr(node, 'lineno', 0)}"

    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id in RETIRED_NAMES) or (isinstance(node, ast.Attribute) and node.attr in RETIRED_NAMES):
            found.append(f"{at(node)} uses a retired name")
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in RETIRED_NAMES:
            found.append(f"{at(node)} defines {node.name}")
        elif isinstance(node, ast.ImportFrom):
            found += [f"{at(node)} imports plancheck.checks.kinds"] * (node.module or "").endswith("checks.kinds")
            found += [f"{at(node)} imports {a.name}" for a in node.names if a.name in RETIRED_NAMES]
        elif isinstance(node, ast.Call) and _called(node) in RENAMED_CALLS and any(k.arg == "kind" for k in node.keywords):
            found.append(f"{at(node)} passes kind= to {_called(node)}")
        elif isinstance(node, ast.Attribute) and node.attr == "kind" and (
            (isinstance(node.value, ast.Subscript) and isinstance(node.value.value, ast.Name) and node.value.value.id == "VOCABULARY")
            or (isinstance(node.value, ast.Name) and node.value.id in ("spec", "template", "ref"))
            or (isinstance(node.value, ast.Attribute) and node.value.attr == "template")
        ):
            found.append(f"{at(node)} reads .kind of a vocabulary spec, template or document")
    return found


def test_no_kind_identifier_for_the_renamed_meanings() -> None:
    offences = [o for path, tree in parsed_modules() for o in _offences(path, tree)]
    assert not offences, "\n".join(offences)
    assert not (ROOT / "checks" / "kinds.py").exists()


def test_the_guard_catches_each_retired_spelling() -> None:
    """The check above is not vacuous: each old spelling is reported."""
    old = "from plancheck.checks.kinds import KINDS\nVOCABULARY['mu'].kind\nCheckResult('a', 'b', kind='manual')\nspec.kind\nparsed.template.kind\n"
    assert len(_offences(ROOT / "x.py", ast.parse(old))) == 6  # the import, KINDS, and the four reads or calls


def test_the_renamed_records_have_no_kind_field() -> None:
    for record in (ParamSpec, CheckResult, Template, DocumentRef):
        assert "kind" not in {f.name for f in dataclasses.fields(record)}, record.__name__
    assert {f.name for f in dataclasses.fields(CheckRun)} >= {"check_kind"}  # the occasion keeps the word


def test_shipped_pdf_templates_say_report_type() -> None:
    for path in sorted(SHIPPED_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert "\nreport_type:" in text and "\nkind:" not in text, path.name


def test_a_run_saved_with_the_old_result_key_still_loads(tmp_path: Path) -> None:
    data = sample_run().to_dict()
    assert all("origin" in r and "kind" not in r for r in data["results"])
    for record in data["results"]:
        record["kind"] = record.pop("origin")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    loaded = load_run(path)
    assert [r.origin for r in loaded.results] == [r["kind"] for r in data["results"]]
    assert {r.origin for r in loaded.results} >= {"implicit", "explicit"}


def test_a_clinic_template_written_with_kind_still_loads(tmp_path: Path) -> None:
    shipped = (SHIPPED_DIR / "radcalc.yaml").read_text(encoding="utf-8")
    (tmp_path / "old.yaml").write_text(shipped.replace("name: radcalc", "name: old_radcalc").replace("\nreport_type:", "\nkind:"))
    template = next(t for t in load_templates([tmp_path]).templates if t.name == "old_radcalc")
    assert template.report_type == "second_check" and template.source == "second_check"
