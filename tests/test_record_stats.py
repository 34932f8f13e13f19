"""`plancheck stats` on a record made here through the ORM (runs, results, findings, dispositions,
signatures with known times), on SQLite and on the real PostgreSQL server: every number asserted
from the rows made. And once on a real run of the demo clinic stored by store_run."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.record.db import open_record, session
from plancheck.record.models import Disposition, Finding, Result, Run, Signature, User
from plancheck.record.stats import compute

SINCE = dt.date(2026, 10, 1)


def at(day: str, hour: float = 8) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) + dt.timedelta(hours=hour)


# run name: (patient, kind, created, signed or None, [(check id, origin, status), ...])
RUNS: dict[str, tuple[str, str, dt.datetime, dt.datetime | None, list[tuple[str, str, str]]]] = {
    "r1": ("P1", "weekly", at("2026-10-05"), at("2026-10-05", 20),
           [("A", "explicit", "pass"), ("B", "implicit", "fail"), ("M", "manual", "manual"), ("N", "explicit", "not_applicable")]),
    "r2": ("P1", "weekly", at("2026-11-02"), at("2026-11-03"), [("A", "explicit", "pass"), ("B", "implicit", "fail"), ("C", "explicit", "pass")]),
    "r3": ("P2", "initial", at("2026-11-10", 9), at("2026-11-10", 10.5), [("A", "explicit", "pass"), ("C", "explicit", "warn")]),
    "r4": ("P2", "weekly", at("2026-11-20", 9), None, [("A", "explicit", "pass"), ("D", "explicit", "pass"), ("D", "explicit", "pass")]),
    "r5": ("P3", "final", at("2026-09-01"), at("2026-09-03"), [("E", "explicit", "pass"), ("C", "explicit", "fail")]),  # before SINCE
}
# finding: (check, patient, beam, run it was first seen in, verdicts in the order given)
FINDINGS = [
    ("B", "P1", "1", "r1", ["acknowledged", "false_alarm"]),
    ("B", "P1", "2", "r1", ["false_alarm"]),
    ("B", "P2", "1", "r2", []),
    ("C", "P2", "", "r3", ["to_be_fixed"]),
    ("C", "P3", "", "r5", ["accepted"]),  # before SINCE
]


def _runs(s: Session) -> dict[str, Run]:
    made = {}
    for name, (patient, kind, created, _signed, results) in RUNS.items():
        run = Run(patient_id=patient, check_kind=kind, as_of=created, created=created, fingerprint=name, passed=False)
        s.add(run)
        s.flush()
        s.add_all(Result(run_id=run.id, position=i, check_id=c, origin=o, status=st) for i, (c, o, st) in enumerate(results))
        made[name] = run
    s.flush()
    return made


def make_record(s: Session) -> None:
    user = User(username="alice", role="physicist")
    s.add(user)
    runs = _runs(s)
    for check, patient, beam, first, verdicts in FINDINGS:
        seen = RUNS[first][2]
        finding = Finding(patient_id=patient, check_id=check, beam=beam, status="fail", values_hash="h", first_run_id=runs[first].id,
                          last_run_id=runs[first].id, first_seen=seen, last_seen=seen)
        s.add(finding)
        s.flush()
        s.add_all(Disposition(finding_id=finding.id, verdict=v, values_hash="h", user_id=user.id) for v in verdicts)
        s.flush()
    for name, (_p, _k, _c, signed, _r) in RUNS.items():
        if signed:
            s.add(Signature(run_id=runs[name].id, user_id=user.id, signed_at=signed, meaning="weekly chart check reviewed"))
            runs[name].state = "signed"
    s.flush()


@pytest.fixture
def made_record(results_url: str) -> str:
    with session(open_record(results_url)) as s:
        make_record(s)
    return results_url


def verdicts(**given: int) -> dict[str, int]:
    return {"acknowledged": 0, "accepted": 0, "to_be_fixed": 0, "false_alarm": 0, "none": 0} | given


def test_stats_of_a_period(made_record: str) -> None:
    with session(open_record(made_record)) as s:
        got = compute(s, SINCE)
    assert [(r.key, r.findings, r.verdicts, r.false_alarm_share) for r in got.by_check] == [
        ("B", 3, verdicts(false_alarm=2, none=1), 1.0),  # f1's latest verdict is false_alarm; f3 is not judged yet
        ("C", 1, verdicts(to_be_fixed=1), 0.0),
    ]
    assert [(r.key, r.findings, r.verdicts) for r in got.by_month] == [("2026-10", 2, verdicts(false_alarm=2)), ("2026-11", 2, verdicts(none=1, to_be_fixed=1))]
    assert [(c.check_id, c.runs) for c in got.silent] == [("A", 4), ("D", 1)]  # B fails, C warns; M is manual, N never applied, E ran before
    assert [(k.kind, k.runs, k.signed, k.median_signoff_s, k.max_signoff_s) for k in got.by_kind] == [
        ("initial", 1, 1, 5400, 5400), ("weekly", 3, 2, 64800, 86400), ("all", 4, 3, 43200, 86400)]


def test_stats_of_the_whole_record(made_record: str) -> None:
    with session(open_record(made_record)) as s:
        got = compute(s)
    assert [(r.key, r.findings, r.verdicts) for r in got.by_check] == [("B", 3, verdicts(false_alarm=2, none=1)), ("C", 2, verdicts(accepted=1, to_be_fixed=1))]
    assert [r.key for r in got.by_month] == ["2026-09", "2026-10", "2026-11"]
    assert [(c.check_id, c.runs) for c in got.silent] == [("A", 4), ("D", 1), ("E", 1)]
    assert [(k.kind, k.runs, k.signed, k.median_signoff_s, k.max_signoff_s) for k in got.by_kind][-2:] == [
        ("weekly", 3, 2, 64800, 86400), ("all", 5, 4, 64800, 172800)]


def test_an_empty_record_has_empty_tables(results_url: str) -> None:
    with session(open_record(results_url)) as s:
        got = compute(s, SINCE)
    assert (got.by_check, got.by_month, got.silent, got.by_kind) == ((), (), (), ())


def _cli(url: str, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "plancheck.toml"
    config.write_text(f'[results]\nurl = "{url}"\n')
    return CliRunner().invoke(app, ["stats", "--config", str(config), *args])


def test_cli_json_and_html(made_record: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = _cli(made_record, tmp_path, "--since", "2026-10-01", "--format", "json", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["findings_by_check"][0] == {"check_id": "B", "findings": 3, **verdicts(false_alarm=2, none=1), "false_alarm_share": 1.0}
    assert data["checks_that_never_fire"] == [{"check_id": "A", "runs": 4}, {"check_id": "D", "runs": 1}]
    assert data["runs_by_kind"][-1] == {"kind": "all", "runs": 4, "signed": 3, "median_signoff_s": 43200, "max_signoff_s": 86400}
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == data
    page = (tmp_path / "out" / "stats.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4 and "12.0 h" in page and "false_alarm" in page


def test_cli_terminal_tables(made_record: str, tmp_path: Path) -> None:
    result = _cli(made_record, tmp_path, "--since", "2026-10-01")
    assert result.exit_code == 0, result.output
    assert "Findings per check" in result.stdout and "Checks that never fire" in result.stdout
    assert "18.0 h" in result.stdout and "24.0 h" in result.stdout  # weekly: median of 12 h and 24 h, longest 24 h


def test_cli_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    result = _cli(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, "--since", "last week")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_check_ids_are_data_in_the_html(results_url: str) -> None:
    from plancheck.record.stats_html import render_html

    with session(open_record(results_url)) as s:
        s.add(Run(patient_id="P", check_kind="weekly", as_of=at("2026-11-01"), created=at("2026-11-01"), fingerprint="x", passed=True))
        s.flush()
        s.add(Result(run_id=1, position=0, check_id="<script>alert(1)</script>", origin="explicit", status="pass"))
    with session(open_record(results_url)) as s:
        page = render_html(compute(s))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_real_run_of_the_demo_clinic(weekly_runs: Any, tmp_path: Path) -> None:
    """A stored CheckRun of 00017R: its passing checks never fire, its failing ones are not among them."""
    from plancheck.record.store import store_run

    run = weekly_runs["found"]
    with session(open_record(f"sqlite:///{tmp_path / 'record.db'}")) as s:
        store_run(s, run, as_of=at("2026-12-01"), created_by="batch")
        got = compute(s)
    statuses: dict[str, set[str]] = {}
    for r in run.results:
        if r.origin != "manual":
            statuses.setdefault(r.id, set()).add(r.status.value)
    fired = {c for c, st in statuses.items() if st & {"fail", "warn", "error"}}
    assert fired and {c.check_id for c in got.silent} == {c for c, st in statuses.items() if "pass" in st} - fired
    assert [(k.kind, k.runs, k.signed) for k in got.by_kind] == [("weekly", 1, 0), ("all", 1, 0)]


def test_a_signed_weekly_check_through_the_record_service(record: Any, weekly_runs: Any) -> None:
    """The demo's 00017R weekly check stored, its findings judged (the first a false alarm), its manual
    checks ticked and signed, all through plancheck.record's own functions; the stats count exactly that."""
    from plancheck.record.findings import dispose, review
    from plancheck.record.signoff import sign, tick
    from plancheck.record.store import store_run
    from plancheck.record.users import get_user
    from tests.record_runs import AS_OF, PASSWORDS

    engine, cfg = record
    with session(engine) as s:
        run, _ = store_run(s, weekly_runs["found"], as_of=AS_OF, created_by="batch")
        alice = get_user(s, "alice")
        rv = review(s, run.id)
        judged = {v.finding.id: ("false_alarm" if i == 0 else "accepted", v.finding.check_id) for i, v in enumerate(rv.new)}
        for finding_id, (verdict, _check) in judged.items():
            dispose(s, finding_id, verdict=verdict, comment="reviewed", user=alice, run_id=run.id)
        for m in rv.manual:
            tick(s, run.id, m.result.check_id, ticked=True, user=alice)
        signature = sign(s, run.id, user=alice, password=PASSWORDS["alice"], meaning="weekly chart check reviewed", config=cfg)
        waited = (signature.signed_at - run.created).total_seconds()
    with session(engine) as s:
        got = compute(s, AS_OF.date())
    expected: dict[str, Counter[str]] = {}
    for verdict, check_id in judged.values():
        expected.setdefault(check_id, Counter())[verdict] += 1
    assert len(judged) > 1 and {r.key: (r.findings, {v: n for v, n in r.verdicts.items() if n}) for r in got.by_check} == {
        check_id: (sum(c.values()), dict(c)) for check_id, c in expected.items()}
    assert [(r.key, r.findings) for r in got.by_month] == [(AS_OF.strftime("%Y-%m"), len(judged))]
    assert [(k.kind, k.runs, k.signed, k.median_signoff_s, k.max_signoff_s) for k in got.by_kind] == [
        ("weekly", 1, 1, waited, waited), ("all", 1, 1, waited, waited)]
    assert not {c.check_id for c in got.silent} & set(expected)
