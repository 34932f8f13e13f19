"""The MOSAIQ source on the demo database: queries, round trips, control points, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pymedphys
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import mssql

from plancheck import deliveries
from plancheck.collector import collect
from plancheck.config import Config
from plancheck.delivery.model import Delivery
from plancheck.demo.mosaiq_db import PATIENTS, build_demo_mosaiq
from plancheck.errors import ConnectionFailed, PatientNotFound
from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq, ReadOnlyViolation
from plancheck.sources.mosaiq.discovery import discover
from plancheck.sources.mosaiq.reader import read_patient
from plancheck.sources.mosaiq.schema import metadata


@pytest.fixture(scope="module")
def clinic(demo_clinic):
    return demo_clinic[0]


def test_every_query_compiles_for_sql_server() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    d = discover(engine)  # every table and column plancheck reads
    assert not d.absences
    args = {queries.ident: ("015112",), queries.fields: (1, 2), queries.field_points: ([1, 2, 3],), queries.dose_history: (1, 2)}
    for make in queries.PATIENT_QUERIES:
        sql = str(make(d, *args.get(make, (1,))).stmt.compile(dialect=mssql.dialect()))
        assert sql.startswith("SELECT")
    for extra in (queries.jaw_evidence(d, 1), queries.machines(d), queries.task_counts(d), queries.counts(d, "Schedule", "Activity")):
        assert str(extra.stmt.compile(dialect=mssql.dialect())).startswith("SELECT")
    assert "[Index]" in str(queries.field_points(d, [1]).stmt.compile(dialect=mssql.dialect()))
    assert "TOP" in str(queries.jaw_evidence(d, 1).stmt.compile(dialect=mssql.dialect()))


def test_one_query_per_table_per_patient(clinic) -> None:
    db = Mosaiq(clinic.url)
    reading = read_patient(db, "015112", None)
    # documents are read by the PDF source; the jaw evidence of the patient's one machine is one more, once per engine
    assert db.round_trips <= len(queries.PATIENT_QUERIES) - 1 + 1
    assert reading.deliveries
    # the pre-issue-10 demo leaves Field_Y empty, so no control point tells its machine's jaw convention
    assert not [w for w in reading.warnings if not w.startswith("MOSAIQ has no") and "jaw convention" not in w]


@pytest.mark.parametrize("patient_id", ["015112", "020304", "030405"])
def test_control_points_equal_pymedphys_from_the_same_rt_plan(clinic, patient_id: str) -> None:
    reading = read_patient(Mosaiq(clinic.url), patient_id, None)
    ds = pydicom.dcmread(clinic.rt_plans[patient_id])
    for beam in ds.BeamSequence:
        ours = reading.deliveries[str(beam.BeamName)]
        theirs = deliveries.from_dicom(ds, str(beam.BeamName))  # our reader equals pymedphys (tests/test_rtplan.py)
        assert np.allclose(ours.mlc, np.round(theirs.mlc, 1), atol=1e-6)  # MOSAIQ keeps 0.01 cm
        assert np.allclose(ours.jaw, theirs.jaw, atol=0.5 + 1e-6)  # MOSAIQ keeps jaws to 0.1 cm (every real TxFieldPoint row)
        assert np.allclose(ours.gantry, theirs.gantry, atol=1e-6) and np.allclose(ours.collimator, theirs.collimator, atol=1e-6)
        assert np.allclose(ours.mu, theirs.mu, atol=0.01)  # MOSAIQ stores the meterset to 0.01 MU


def test_whole_plan_equals_pymedphys_directly(clinic) -> None:
    reading = read_patient(Mosaiq(clinic.url), "015112", None)
    merged = Delivery.merge(*reading.deliveries.values())
    theirs = pymedphys.Delivery.from_dicom(pydicom.dcmread(clinic.rt_plans["015112"]), fraction_group_number=1)
    assert np.allclose(merged.mlc, np.round(np.asarray(theirs.mlc), 1), atol=1e-6)
    assert np.allclose(merged.mu, np.asarray(theirs.mu), atol=0.01)


def test_clean_patient_agrees_with_rt_plan_and_errors_differ_where_planted(clinic) -> None:
    cfg = Config(mosaiq_url=clinic.url, dicom_dir=clinic.dicom_dir)

    def disagreements(pid: str) -> set[tuple[str, str]]:
        t = collect(pid, None, cfg)
        out = set()
        for r in t.select(source="rtplan"):
            m = t.value(r.param, source="mosaiq", beam=r.beam, scope=r.scope)
            if m is not None and r.param not in ("plan_approved",) and (
                (isinstance(m, float) and abs(m - float(r.value)) > 0.01) or (not isinstance(m, float) and m != r.value)
            ):
                out.add((r.beam, r.param))
        return out

    assert disagreements("015112") == set()
    assert disagreements("00017R") == {("", "birth_date"), ("1-1", "gantry_start"), ("1-2", "mu"), ("1-2", "energy")}


def test_unknown_patient(clinic) -> None:
    with pytest.raises(PatientNotFound, match="'999999'"):
        read_patient(Mosaiq(clinic.url), "999999", None)


def test_patient_without_approved_prescription_is_still_read(clinic) -> None:
    rows = {r.param: r.value for r in read_patient(Mosaiq(clinic.url), "00017R", None).rows if r.scope == "prescription"}
    assert rows["rx_approved"] is False and rows["rx_status"] == "pending"


def test_beam_without_control_points_warns_and_keeps_other_rows(clinic, tmp_path: Path) -> None:
    db_path = tmp_path / "copy.db"
    db_path.write_bytes(clinic.database.read_bytes())
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM TxFieldPoint WHERE FLD_ID = (SELECT FLD_ID FROM TxField WHERE Field_Label LIKE '1-2%' AND Pat_ID1 = 10001)"))
    reading = read_patient(Mosaiq(f"sqlite:///{db_path}"), "015112", None)
    assert any("1-2" in w and "no control points" in w for w in reading.warnings)
    assert "1-1" in reading.deliveries and "1-2" not in reading.deliveries
    assert any(r.beam == "1-2" and r.param == "mu" for r in reading.rows)


def test_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANCHECK_MOSAIQ_PASSWORD", "s3cret-Pa55")
    db = Mosaiq("mssql+pymssql://HOSP%5Cphysicist@127.0.0.1:1/MOSAIQ", timeout_s=2)
    with pytest.raises(ConnectionFailed) as info:
        db.schema  # noqa: B018 - learning the schema is the first contact
    assert "s3cret" not in info.value.message and "127.0.0.1" in info.value.message and "\n" not in info.value.message
    with pytest.raises(ConnectionFailed, match="not found"):
        Mosaiq("sqlite:////nonexistent/mosaiq.db")


def test_only_select_is_sent(clinic) -> None:
    db = Mosaiq(clinic.url)
    with pytest.raises(ReadOnlyViolation), db.engine.connect() as conn:
        conn.execute(text("DELETE FROM Patient"))
    with pytest.raises(ReadOnlyViolation), db.engine.connect() as conn:
        conn.execute(metadata.tables["Patient"].insert().values(Pat_ID1=1))
    with db.engine.connect() as conn, pytest.raises(Exception, match="readonly"):  # the file itself is read-only, below the guard
        conn.connection.driver_connection.execute("DELETE FROM Patient")


def test_demo_database_is_deterministic(tmp_path: Path, clinic) -> None:
    a, b = clinic, build_demo_mosaiq(tmp_path / "b")
    dump = lambda c: [tuple(r) for t in sorted(metadata.tables) for r in create_engine(c.url).connect().execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))]  # noqa: E731
    assert dump(a) == dump(b)
    assert a.rt_plans["015112"].read_bytes() == b.rt_plans["015112"].read_bytes()
    assert {p.patient_id for p in PATIENTS} == {"015112", "00017R", "020304", "030405", "040506"}


def test_static_field_kept_as_one_point_reads_as_two(clinic, tmp_path: Path) -> None:
    """Real MOSAIQ may store a static field as one TxFieldPoint; it must still agree with the RT Plan."""
    db_path = tmp_path / "one_point.db"
    db_path.write_bytes(clinic.database.read_bytes())
    with create_engine(f"sqlite:///{db_path}").begin() as conn:
        conn.execute(text("DELETE FROM TxFieldPoint WHERE Point = 1 AND FLD_ID IN (SELECT FLD_ID FROM TxField WHERE Pat_ID1 = 10004)"))
    reading = read_patient(Mosaiq(f"sqlite:///{db_path}"), "030405", None)
    rows = {(r.beam, r.param): r.value for r in reading.rows}
    assert rows[("AP", "control_points")] == 2
    theirs = deliveries.from_dicom(clinic.rt_plans["030405"], "AP")
    assert np.allclose(reading.deliveries["AP"].mu, theirs.mu, atol=0.01)
    assert np.allclose(reading.deliveries["AP"].mlc, np.round(theirs.mlc, 1), atol=1e-6)


WRITES = [
    "WITH x AS (SELECT 1 AS a) DELETE FROM Patient",
    "SELECT 1; DROP TABLE Patient",
    "SELECT * INTO Patient2 FROM Patient",
    "SELECT 1 EXEC('DROP TABLE Patient')",
    "SELECT 1 /* hidden */; DELETE FROM Patient",
    "SELECT 1 -- comment\nDELETE FROM Patient",
    "UPDATE Patient SET Last_Name = 'X'",
    "INSERT INTO Patient (Pat_ID1) VALUES (1)",
    "PRAGMA writable_schema = 1",
    "WITH x AS (SELECT 1) INSERT INTO Patient (Pat_ID1) SELECT 1",
    "SELECT 'it''s'; DELETE FROM Patient",
]


@pytest.mark.parametrize("statement", WRITES)
def test_guard_refuses_anything_but_one_read(clinic, tmp_path: Path, statement: str) -> None:
    """Each statement changes a writable copy when sent raw; through plancheck's engine it is refused first."""
    from plancheck.sources.mosaiq.guard import UnsafeStatement, check_read_only

    with pytest.raises(UnsafeStatement):
        check_read_only(statement)
    path = tmp_path / "writable.db"
    path.write_bytes(clinic.database.read_bytes())
    db = Mosaiq(create_engine(f"sqlite:///{path}"))  # writable file: only the guard stands in the way
    with pytest.raises(ReadOnlyViolation), db.engine.connect() as conn:
        conn.exec_driver_sql(statement)
    assert path.read_bytes() == clinic.database.read_bytes()


def test_guard_lets_reads_through() -> None:
    from plancheck.sources.mosaiq.guard import check_read_only

    for statement in ('SELECT "a;b -- c" FROM [Index] WHERE x = \'DROP; --\'', "WITH x AS (SELECT 1) SELECT * FROM x", 'PRAGMA main.table_xinfo("Site")'):
        check_read_only(statement)


@pytest.mark.parametrize("folder", ["a#b", "a?mode=rw&x=", "a%23b", "a b%"])
def test_sqlite_path_cannot_undo_read_only(clinic, tmp_path: Path, folder: str) -> None:
    path = tmp_path / folder / "mosaiq.db"
    path.parent.mkdir()
    path.write_bytes(clinic.database.read_bytes())
    from urllib.parse import quote

    from plancheck.sources.mosaiq.connect import sqlite_read_only_uri

    assert sqlite_read_only_uri(path).endswith("/mosaiq.db?mode=ro") and "?" not in sqlite_read_only_uri(path)[:-8]
    db = Mosaiq(f"sqlite:///{quote(str(path))}")  # in a URL the path is percent-encoded (SQLAlchemy decodes it)
    assert read_patient(db, "015112", None).rows
    with db.engine.connect() as conn, pytest.raises(Exception, match="readonly"):
        conn.connection.driver_connection.execute("DELETE FROM Patient")


@pytest.mark.parametrize(
    ("shown", "secret"),
    [
        ("mssql+pymssql//u:PW1@host/db", "PW1"),
        ("mssql+pymssql://HOSP%5Cu:p@ss2@host:1433/MOSAIQ", "ss2"),
        ("cannot reach u:PW3@host", "PW3"),
        ("mssql+pymssql:/u:PW4@h", "PW4"),
        ("odbc://h/db?user=u&password=PW5&x=1", "PW5"),
        ("mssql+pymssql://:PW6@host", "PW6"),
    ],
)
def test_redact_url_removes_passwords_however_malformed(shown: str, secret: str) -> None:
    from plancheck.sources.mosaiq.guard import redact_url

    assert secret not in redact_url(shown) and "***" in redact_url(shown)
    assert redact_url("mssql+pymssql://u@host:1433/MOSAIQ") == "mssql+pymssql://u@host:1433/MOSAIQ"
    assert secret not in Config(mosaiq_url=shown).mosaiq_where and secret not in repr(Config(mosaiq_url=shown))


def test_config_mosaiq_settings() -> None:
    from plancheck.config import config_from_dict
    from plancheck.errors import ConfigError

    cfg = config_from_dict({"mosaiq": {"treatment_activities": ["TX*", "imrt"], "jaw_convention": {"Varian 2100": "varian"}}})
    assert cfg.mosaiq.is_treatment("IMRT ") and not cfg.mosaiq.is_treatment("CTSIM")
    assert cfg.mosaiq.jaw_convention == {"VARIAN 2100": "distance"} and cfg.mosaiq.is_chart_check("IMRT Physics Check")
    for bad in ({"treatment_activities": "TX"}, {"jaw_convention": {"X": "sideways"}}, {"chart_checks": []}):
        with pytest.raises(ConfigError):
            config_from_dict({"mosaiq": bad})


def test_photon_and_electron_fields_of_one_site_are_checked_against_their_own_modality(clinic) -> None:
    """040506: one site, Site.Modality 'x06', photon fields and a 9 MeV electron field (7 of the 127
    real sites with fields mix the two). The photon fields are held to 6X; the electron field is not."""
    from plancheck.api import check_table

    table = collect("040506", None, Config(mosaiq_url=clinic.url))
    assert table.value("rx_modality", source="mosaiq", scope="prescription") == "photon"
    run = check_table(table, patient_id="040506", kind="initial")
    energy = {r.beam: r.status.value for r in run.results if r.id == "beam.energy_matches_rx"}
    assert energy.pop("E1") == "not_applicable"
    assert energy and set(energy.values()) == {"pass"}


def test_a_wrong_mosaiq_setting_is_named_with_its_line(tmp_path: Path) -> None:
    from plancheck.config import load_config
    from plancheck.errors import ConfigError

    path = tmp_path / "plancheck.toml"
    path.write_text('[mosaiq]\nurl = "sqlite:///m.db"\n\ntreatment_activities = "TX"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plancheck\.toml:4: \[mosaiq\] treatment_activities must be a list"):
        load_config(path)
    path.write_text('[mosaiq]\njaw_convention = { "X" = "sideways" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plancheck\.toml:2: \[mosaiq\] jaw_convention of 'X'"):
        load_config(path)
