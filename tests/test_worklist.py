"""The worklist on the demo clinic (every line asserted against MOSAIQ's own rows) and on the real
MOSAIQ extract that pymedphys ships (runs, and its answers agree with the rows)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.demo.patients import DEMO_TODAY
from plancheck.record.db import open_record, session
from plancheck.record.store import last_signed
from plancheck.record.worklist import QCL, RECORD, DueCheck, due_checks, worklist
from plancheck.sources.mosaiq.connect import open_mosaiq

from tests.worklist_record import sign

ON = DEMO_TODAY.date()


class Rows:
    """What the demo MOSAIQ says of each patient, read with plain SQL (not plancheck's reader)."""

    def __init__(self, database: Path) -> None:
        self.db = sqlite3.connect(database)

    def _dates(self, sql: str, pid: str) -> list[dt.datetime]:
        return [dt.datetime.fromisoformat(r[0]) for r in self.db.execute(sql, (pid,)) if r[0] is not None]

    def fractions(self, pid: str) -> list[dt.datetime]:
        return sorted(self._dates("SELECT min(h.Tx_DtTm) FROM Dose_Hst h JOIN Ident i ON i.Pat_Id1 = h.Pat_ID1 WHERE i.IDA = ? "
                                  "AND NOT h.WasQAMode GROUP BY h.Fx_Number_InEffect", pid))

    def chart_check(self, pid: str) -> dt.datetime:
        return max(self._dates("SELECT c.Act_DtTm FROM Chklist c JOIN QCLTask q ON q.TSK_ID = c.TSK_ID JOIN Ident i ON i.Pat_Id1 = c.Pat_ID1 "
                               "WHERE i.IDA = ? AND q.Description LIKE '%chart check%' AND c.Complete", pid))

    def plan_approved(self, pid: str) -> dt.datetime:
        return max(self._dates("SELECT f.Sanct_DtTm FROM TxField f JOIN Ident i ON i.Pat_Id1 = f.Pat_ID1 WHERE i.IDA = ? AND f.Version = 0 "
                               "AND NOT f.IsHidden AND f.Type_Enum NOT IN (3, 4, 5, 6, 9)", pid))

    def prescribed(self, pid: str) -> int:
        sql = "SELECT s.Fractions FROM Site s JOIN Ident i ON i.Pat_Id1 = s.Pat_ID1 WHERE i.IDA = ? AND s.Version = 0"
        return int(self.db.execute(sql, (pid,)).fetchone()[0])


@pytest.fixture(scope="module")
def rows(demo_clinic) -> Rows:
    return Rows(demo_clinic[0].database)


def _by_patient(lines: list[DueCheck]) -> dict[str, DueCheck]:
    assert len({line.patient_id for line in lines}) == len(lines), "one line per prescription: each demo patient has one"
    return {line.patient_id: line for line in lines}


def _state(due: dt.date, on: dt.date) -> str:
    return "overdue" if due < on else "due" if due == on else "upcoming"


def _expected_weekly(fx: list[dt.datetime], clock: dt.datetime | None, on: dt.date) -> tuple[dt.date, int]:
    """The issue's rule: 5 fractions or 7 days since the last weekly check (the first fraction when none), whichever first."""
    counted = [f for f in fx if clock is None or f > clock]
    due = (clock or fx[0]).date() + dt.timedelta(days=7)
    if len(counted) >= 5:
        due = min(due, counted[4].date())
    return due, len(counted)


def test_demo_today_with_an_empty_record_uses_mosaiqs_chart_check_tasks(demo_clinic, rows: Rows, results_url: str) -> None:
    clinic, cfg = demo_clinic
    lines = _by_patient(due_checks(cfg, open_record(results_url), ON))
    assert set(lines) == {p.patient_id for p in clinic.patients}
    final = lines["030405"]
    fx = rows.fractions("030405")
    assert len(fx) == rows.prescribed("030405") and final.kind == "final" and final.due_date == fx[-1].date()
    assert final.status == _state(fx[-1].date(), ON) and final.overdue_days == (ON - fx[-1].date()).days
    assert final.reason.startswith(f"all {len(fx)} of {len(fx)} fractions delivered") and final.last_check is None  # the QCL check predates the last fraction
    for pid in ("015112", "00017R", "020304", "040506"):
        line, qcl = lines[pid], rows.chart_check(pid)
        due, counted = _expected_weekly(rows.fractions(pid), qcl, ON)
        assert (line.kind, line.status, line.due_date) == ("weekly", _state(due, ON), due), pid
        assert (line.last_check, line.last_check_source) == (qcl, QCL), pid
        assert line.fractions_delivered == len(rows.fractions(pid)) and line.fractions_prescribed == rows.prescribed(pid)
        assert line.reason.startswith(f"{counted} fraction(s) since last weekly check {qcl.date().isoformat()}"), line.reason
    assert "prescription not approved in MOSAIQ (Site.Sanct_DtTm empty)" in lines["00017R"].notes
    assert next(line.status for line in due_checks(cfg, open_record(results_url), ON)) == "overdue"  # most overdue first


def test_the_record_comes_first_and_each_line_says_why(demo_clinic, rows: Rows, results_url: str) -> None:
    _clinic, cfg = demo_clinic
    engine = open_record(results_url)
    last_week = DEMO_TODAY - dt.timedelta(days=7)
    sign(engine, "00017R", "PROSTATE", "weekly", last_week)
    sign(engine, "030405", "LUNG SBRT", "final", DEMO_TODAY)
    sign(engine, "015112", "PROSTATE", "initial", rows.plan_approved("015112") + dt.timedelta(days=1))
    sign(engine, "020304", "BREAST L", "initial", rows.plan_approved("020304") - dt.timedelta(days=1))  # of the plan before its edit
    lines = _by_patient(due_checks(cfg, engine, ON))
    assert "030405" not in lines, "a course with a signed final check is off the list"

    weekly = lines["00017R"]
    due, counted = _expected_weekly(rows.fractions("00017R"), last_week, ON)
    assert (weekly.kind, weekly.status, weekly.due_date, weekly.last_check_source) == ("weekly", _state(due, ON), due, RECORD)
    assert weekly.reason.startswith(f"7 days since last weekly check {last_week.date().isoformat()} ({counted} fraction(s), 7 days)")
    with session(engine) as s:
        signed = last_signed(s, "00017R", "weekly", "PROSTATE")
        assert signed is not None and weekly.last_check == signed.as_of.astimezone().replace(tzinfo=None)

    fresh = lines["015112"]  # initial signed, no weekly yet: counted from the first fraction
    fx = rows.fractions("015112")
    due, counted = _expected_weekly(fx, None, ON)
    assert (fresh.kind, fresh.status, fresh.due_date, fresh.overdue_days) == ("weekly", _state(due, ON), due, max(0, (ON - due).days))
    assert fresh.reason.startswith(f"{counted} fractions since first fraction {fx[0].date().isoformat()}" if counted >= 5 else f"{counted} fraction(s)")

    edited = lines["020304"]  # its plan was edited and re-approved mid-course: the signed initial check was of the old version
    version, fx = rows.plan_approved("020304"), rows.fractions("020304")
    on_version = [f for f in fx if f >= version]
    assert (edited.kind, edited.due_date, edited.status) == ("initial", on_version[0].date(), _state(on_version[0].date(), ON))
    assert f"after fraction {len(fx) - len(on_version)}" in edited.reason and "without a signed initial check" in edited.reason

    assert lines["040506"].last_check_source == QCL, "a prescription the record never signed falls back to MOSAIQ's QCL task"


def test_before_the_first_fraction_the_initial_check_is_due_on_the_first_session(demo_clinic, rows: Rows, results_url: str) -> None:
    _clinic, cfg = demo_clinic
    first = rows.fractions("015112")[0]
    on = first.date() - dt.timedelta(days=1)
    lines = _by_patient(due_checks(cfg, open_record(results_url), on))
    line = lines["015112"]
    assert (line.kind, line.status, line.due_date, line.fractions_delivered) == ("initial", "due", first.date(), 0)
    assert line.next_session == first and "no signed initial check" in line.reason
    started_early = lines["00017R"]  # treated before its fields were approved (their approval is newer than its first fractions)
    version = rows.plan_approved("00017R")
    before_on = [f for f in rows.fractions("00017R") if f.date() <= on]
    on_version = [f for f in before_on if f >= version]
    assert started_early.kind == "initial" and started_early.fractions_delivered == len(before_on) > 0
    assert started_early.status == ("overdue" if on_version else "due"), started_early.reason
    next_session = started_early.next_session or dt.datetime.combine(on, dt.time())
    assert started_early.due_date == (on_version[0].date() if on_version else next_session.date())


def test_worklist_command_lists_every_demo_patient_as_json_and_as_a_table(demo_clinic, tmp_path: Path) -> None:
    clinic, _cfg = demo_clinic
    config = tmp_path / "plancheck.toml"
    config.write_text((clinic.folder / "plancheck.toml").read_text() + f'\n[results]\nurl = "sqlite:///{tmp_path / "record.db"}"\n')
    runner = CliRunner()
    out = runner.invoke(app, ["worklist", "--date", ON.isoformat(), "--config", str(config), "--format", "json"])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.stdout)
    assert listed["date"] == ON.isoformat() and {line["patient_id"] for line in listed["worklist"]} == {p.patient_id for p in clinic.patients}
    table = runner.invoke(app, ["worklist", "--date", ON.isoformat(), "--config", str(config)])
    assert table.exit_code == 0 and "030405" in table.stdout and "overdue" in table.stdout
    bad = runner.invoke(app, ["worklist", "--date", "20-11-2026", "--config", str(config)])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


# --- the real MOSAIQ extract (pymedphys): no Dose_Hst, no Schedule; TrackTreatment records the beams ---


@pytest.fixture(scope="module")
def real_url(real_mosaiq_path: Path) -> str:
    return f"sqlite:///{real_mosaiq_path}"


def _treatment_days(url: str, on: dt.date, lookback_days: int) -> dict[tuple[str, str], set[dt.date]]:
    """Per (IDA, Site_Name): the days with a completed, non-QA beam in TrackTreatment up to ``on`` (recent courses only)."""
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    found: dict[tuple[str, str], set[dt.date]] = {}
    for ida, site, when in db.execute("SELECT trim(i.IDA), s.Site_Name, t.Create_DtTm FROM TrackTreatment t JOIN Site s ON s.SIT_ID = t.SIT_ID "
                                      "JOIN Ident i ON i.Pat_Id1 = t.Pat_ID1 WHERE t.WasBeamComplete AND NOT t.WasQAMode"):
        day = dt.datetime.fromisoformat(when).date()
        if day <= on:
            found.setdefault((ida, site), set()).add(day)
    start = on - dt.timedelta(days=lookback_days)
    return {k: v for k, v in found.items() if max(v) >= start}


@pytest.mark.parametrize("on", [dt.date(2017, 9, 20), dt.date(2021, 2, 15), dt.date(2013, 10, 25)])
def test_on_the_real_extract_the_worklist_agrees_with_the_rows(demo_clinic, real_url: str, results_url: str, on: dt.date) -> None:
    cfg = replace(demo_clinic[1], mosaiq_url=real_url)
    db = open_mosaiq(real_url)
    before = db.round_trips
    lines, missing = worklist(cfg, open_record(results_url), on)
    assert db.round_trips - before <= 6, "a handful of queries for the whole clinic"
    assert any("no Dose_Hst" in m and "TrackTreatment" in m for m in missing) and any("no Schedule" in m for m in missing)
    treated = _treatment_days(real_url, on, cfg.worklist.lookback_days)
    assert treated, "each date is chosen where the extract has recent treatments"
    by_course = {(line.patient_id, line.prescription): line for line in lines}
    for course, days in treated.items():
        line = by_course[course]  # every recently treated course is listed
        assert line.fractions_delivered == len(days), course
        assert (line.kind == "final") == (line.fractions_prescribed is not None and len(days) >= line.fractions_prescribed)
        if line.kind == "weekly":
            first = min(days)
            due = min(first + dt.timedelta(days=7), sorted(days)[4]) if len(days) >= 5 else first + dt.timedelta(days=7)
            assert (line.due_date, line.status) == (due, _state(due, on)), course
    for line in lines:
        if line.fractions_delivered == 0:
            assert line.kind == "initial" and (line.patient_id, line.prescription) not in treated
        assert all(note.endswith("empty)") or "no patient ID" in note for note in line.notes)


class _SqlServer:
    """Stands in for a MOSAIQ connection: compiles each statement for SQL Server and passes it through the read-only guard."""

    def __init__(self) -> None:
        from sqlalchemy import create_engine

        from plancheck.sources.mosaiq.discovery import discover
        from plancheck.sources.mosaiq.schema import metadata

        engine = create_engine("sqlite://")
        metadata.create_all(engine)
        self.schema = discover(engine)  # every table and column plancheck reads
        self.sent: list[str] = []

    def rows(self, query) -> list[dict]:
        from sqlalchemy.dialects import mssql

        from plancheck.sources.mosaiq.guard import check_read_only

        sql = str(query.stmt.compile(dialect=mssql.dialect(), compile_kwargs={"literal_binds": False}))
        check_read_only(sql)
        self.sent.append(sql)
        return [{"TSK_ID": 1, "Description": "Weekly Chart Check"}] if query.table == "QCLTask" else []


def test_the_clinic_queries_compile_for_sql_server_and_only_read() -> None:
    from plancheck.sources.mosaiq.clinic import read_clinic
    from plancheck.sources.mosaiq.settings import MosaiqSettings

    server = _SqlServer()
    view = read_clinic(server, ON, lookback_days=30, lookahead_days=14, settings=MosaiqSettings())  # type: ignore[arg-type]
    assert len(server.sent) == 6 and all(sql.startswith("SELECT") for sql in server.sent) and not view.missing
    assert any("GROUP BY" in sql and "Fx_Number_InEffect" in sql for sql in server.sent)
