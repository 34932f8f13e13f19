"""Rule files that cannot be mistyped (issue 11, items 4, 7, 9, 10): each defect found by mutating the
shipped files reproduced here, and now an error naming file and line, every problem in one run."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plancheck.checks.engine import run_checks, select_rule_set
from plancheck.checks.results import Status
from plancheck.cli.main import app
from plancheck.errors import RuleError
from plancheck.rules.loader import RuleLibrary, RuleProblems, shipped_dir
from plancheck.table import ParamTable

TODAY = dt.datetime(2026, 11, 20)
runner = CliRunner()


def library_with(tmp_path: Path, text: str | bytes, name: str = "ours.yaml") -> RuleLibrary:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return RuleLibrary([tmp_path])


def problems_of(tmp_path: Path, text: str | bytes, rule_set: str = "ours") -> list[str]:
    with pytest.raises(RuleError) as info:
        library_with(tmp_path, text).get(rule_set)
    err = info.value
    return [p.message for p in err.problems] if isinstance(err, RuleProblems) else [err.message]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e400", "-0.5", "'abc'", "true"])
def test_tolerance_must_be_finite_with_file_and_line(tmp_path: Path, value: str) -> None:
    text = f"name: ours\nextends: photon-vmat\ntolerances:\n  mu: {{tolerance: {value}, action: 1.0}}\n"
    (msg,) = problems_of(tmp_path, text)
    assert "ours.yaml:4" in msg and "tolerance for mu" in msg and "finite" in msg


def test_non_numeric_action_is_a_rule_error_not_a_value_error(tmp_path: Path) -> None:
    (msg,) = problems_of(tmp_path, "name: ours\nextends: photon\ntolerances:\n  mu:\n    tolerance: 0.5\n    action: lots\n")
    assert "ours.yaml:6" in msg and "action level for mu" in msg


def test_tolerance_above_action(tmp_path: Path) -> None:
    (msg,) = problems_of(tmp_path, "name: ours\nextends: photon\ntolerances:\n  mu: {tolerance: 0.5, action: 0.2}\n")
    assert "ours.yaml:4" in msg and "above its action level" in msg


def test_nan_tolerance_no_longer_switches_the_mu_comparison_off(tmp_path: Path, vmat_table: ParamTable) -> None:
    """The defect: `.nan` passed validation and a 3 % MU error passed implicit.mu."""
    (tmp_path / "general.yaml").write_text("name: general\ntolerances:\n  mu: {tolerance: .nan, action: .nan}\n")
    with pytest.raises(RuleError, match=r"general\.yaml:3.*finite"):
        RuleLibrary([tmp_path]).get("photon-vmat")
    faulty = vmat_table.copy()
    faulty.rows = [replace(r, value=r.value * 1.03) if (r.source, r.param) == ("mosaiq", "mu") else r for r in faulty.rows]
    results = run_checks(faulty, RuleLibrary().get("photon-vmat"), "initial", today=TODAY)
    assert {r.status for r in results if r.id == "implicit.mu"} == {Status.FAIL}


def test_infinite_variable_rejected(tmp_path: Path) -> None:
    (msg,) = problems_of(tmp_path, "name: ours\nextends: photon\nvars:\n  mu_max: .inf\n")
    assert "ours.yaml:4" in msg and "mu_max" in msg and "finite" in msg


@pytest.mark.parametrize(
    "check, needle",
    [
        ("expect: enrgy in ['6X']", "unknown name 'enrgy'.*did you mean 'energy'"),
        ("expect: present('enrgy')", "present\\(\\): 'enrgy' is not a parameter"),
        ("expect: same('mu', 'rtplna')", "'rtplna' is not a source"),
        ("expect: count('beams', 'mu', 1) > 0", "'beams' is not a scope"),
        ("expect: any_beam('energy')", "any_beam\\(\\) takes 2 argument"),
        ("expect: matches(energy, '[0-9')", "not a valid regular expression"),
        ("expect: mu > 1\n    message: 'energy {enrgy}'", "message \\{placeholder\\}: unknown name 'enrgy'"),
        ("when: present('mu') and mu_maxx > 1\n    expect: mu > 1", "unknown name 'mu_maxx'.*did you mean 'mu_max'"),
        ("expect: mu > 1\n    with: {dose_percent: 3}", "`with:` is only for a registered type"),
    ],
)
def test_every_name_is_checked_against_vocabulary_vars_and_functions(tmp_path: Path, check: str, needle: str) -> None:
    msgs = problems_of(tmp_path, f"name: ours\nextends: photon\nchecks:\n  - id: ours.one\n    {check}\n")
    assert len(msgs) == 1 and "ours.yaml:" in msgs[0]
    assert __import__("re").search(needle, msgs[0]), msgs[0]


def test_match_names_are_checked(tmp_path: Path) -> None:
    (msg,) = problems_of(tmp_path, "name: ours\nextends: photon\nmatch: dose_per_fx >= 0\n")
    assert "ours.yaml:3" in msg and "dose_per_fx" in msg and "dose_per_fraction_cgy" in msg


def test_with_keys_checked_against_what_the_gamma_check_accepts(tmp_path: Path) -> None:
    text = (
        "name: ours\nextends: photon\nchecks:\n  - id: ours.gamma\n    type: delivery.gamma\n"
        "    with:\n      dose_percnt: 3\n      distance_mm: -1\n      evaluation: linac\n"
    )
    msgs = problems_of(tmp_path, text)
    assert any("ours.yaml:7" in m and "'dose_percnt'" in m and "did you mean 'dose_percent'" in m for m in msgs)
    assert any("ours.yaml:8" in m and "distance_mm" in m and "above 0" in m for m in msgs)
    assert any("ours.yaml:9" in m and "evaluation" in m for m in msgs)


def test_extends_unknown_set_names_file_and_line(tmp_path: Path) -> None:
    (msg,) = problems_of(tmp_path, "name: ours\ndescription: x\nextends: photon-vmatt\n")
    assert "ours.yaml:3" in msg and "photon-vmatt" in msg and "did you mean 'photon-vmat'" in msg


def test_duplicate_key_and_duplicate_check_id(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"ours\.yaml:3.*'extends' is written twice"):
        library_with(tmp_path, "name: ours\nextends: photon\nextends: general\n")
    msgs = problems_of(tmp_path, "name: ours\nextends: photon\nchecks:\n  - id: a.b\n    expect: mu > 1\n  - id: a.b\n    expect: mu > 2\n")
    assert any("ours.yaml:6" in m and "declared twice" in m for m in msgs)


def test_every_problem_reported_in_one_run(tmp_path: Path) -> None:
    text = (
        "name: ours\nextends: photon\ntolerances:\n  mu: {tolerance: 0.5, action: 0.2}\nchecks:\n"
        "  - id: one\n    expect: enrgy == '6X'\n  - id: two\n    expect: mu > 1\n    level: error\n"
        "  - id: three\n    expect: mu >\n"
    )
    msgs = problems_of(tmp_path, text)
    assert len(msgs) == 4, msgs
    result = runner.invoke(app, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    for line in (4, 7, 10, 12):
        assert f"ours.yaml:{line}" in result.output
    assert "4 problem(s)" in result.output


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"name: ours\ndescription: caf\xe9\n", "ours.yaml:2.*not UTF-8.*offset 27"),
        (b"name: ours\ndescription: a\x00b\n", "ours.yaml:2.*not valid YAML"),
        (b"name: ours\nvars: " + b"[" * 200 + b"]" * 200 + b"\n", "ours.yaml:2.*nested more than"),
        (b"name: ours\nvars: {a: 1, a: 2}\n", "ours.yaml:2.*written twice"),
        (b"- a\n- b\n", "ours.yaml:1.*must be a mapping"),
        (b"name: ours\n" + b"x: &a [1]\n" + b"".join(b"y%d: *a\n" % i for i in range(300)), "more than 200 aliases"),
    ],
)
def test_bad_bytes_are_typed_rule_errors(tmp_path: Path, content: bytes, needle: str) -> None:
    with pytest.raises(RuleError, match=needle):
        library_with(tmp_path, content)


@pytest.mark.parametrize("expect", ["1" + " + 1" * 600, "-" * 900 + "1", "(" * 300 + "1" + ")" * 300, "not " * 100 + "mu"])
def test_long_or_deep_expressions_are_rule_errors_not_recursion_errors(tmp_path: Path, expect: str) -> None:
    msgs = problems_of(tmp_path, f"name: ours\nextends: photon\nchecks:\n  - id: deep\n    expect: '{expect}'\n")
    assert len(msgs) == 1 and "ours.yaml:5" in msgs[0]
    assert any(word in msgs[0] for word in ("characters long", "nested", "not a valid expression"))


def test_a_megabyte_rule_file_is_refused_quickly(tmp_path: Path) -> None:
    """The defect: 1-1.5 MB mutated rule files took 18-24 s each."""
    general = (shipped_dir() / "general.yaml").read_text()
    text = general + "\n".join(f"# padding {i} " + "x" * 80 for i in range(14000))
    assert len(text.encode()) > 1_200_000
    start = time.perf_counter()
    with pytest.raises(RuleError, match="larger than"):
        library_with(tmp_path, text, "general.yaml")
    assert time.perf_counter() - start < 2.0


def test_the_largest_accepted_rule_file_loads_in_well_under_a_few_seconds(tmp_path: Path) -> None:
    general = (shipped_dir() / "general.yaml").read_text()
    body = general.split("checks:\n", 1)[1].split("\nmanual:", 1)[0]
    copies = []
    while sum(map(len, copies)) + len(body) < 240_000:
        copies.append(body.replace("id: ", f"id: c{len(copies)}."))
    text = "name: big\nextends: general\nchecks:\n" + "".join(copies)
    start = time.perf_counter()
    rs = library_with(tmp_path, text, "big.yaml").get("big")
    assert len(rs.checks) > 500 and time.perf_counter() - start < 5.0


def test_odd_rule_folder_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="rule folder"):
        RuleLibrary([tmp_path / ("x" * 5000)])
    with pytest.raises(RuleError, match="rule folder"):
        RuleLibrary([Path("bad\x00name")])


def test_shipped_rule_sets_validate_and_a_mixed_plan_does_not_stop(vmat_table: ParamTable) -> None:
    sets = RuleLibrary().validate()
    assert {rs.name for rs in sets} >= {"general", "photon", "electron"}
    select_rule_set(RuleLibrary(), vmat_table, TODAY)
