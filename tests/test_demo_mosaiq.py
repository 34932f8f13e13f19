"""The demo MOSAIQ database against the real MOSAIQ extract that ships inside pymedphys.

Every convention the demo writes is checked against the real rows (loaded here from the installed
pymedphys, independently of plancheck's code), never through plancheck's MOSAIQ reader: a reader
and the demo that share a mistake must not both pass.
"""

from __future__ import annotations

import base64
import sqlite3
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pymedphys
import pytest


REAL = Path(pymedphys.__file__).parent / "_mosaiq/mock/data"
DEFINED_FROM_PUBLIC_CODE = {"Dose_Hst", "Schedule", "Object", "ObjFilenames", "Prompt"}  # tables the extract lacks
# Each demo machine and the real machine whose stored convention it follows (names from the extract's Staff rows).
REAL_COUNTERPART = {"AGILITY1": "2619", "AGILITY2": "Agility", "CLINAC1": "Varian 2100"}
SETUP_OR_IMAGING = {3, 4, 5, 6, 9}


class Real:
    """The real extract: types_map.toml and the CSVs (binary columns base64)."""

    def __init__(self) -> None:
        self.types = {t: {c: str(v).lower() for c, v in cols.items()} for t, cols in tomllib.loads((REAL / "types_map.toml").read_text()).items()}
        self.frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.frames:
            frame = pd.read_csv(REAL / f"{table}.csv", index_col=0)
            for column in ("A_Leaf_Set", "B_Leaf_Set"):
                if column in frame:
                    frame[column] = frame[column].map(lambda v: base64.urlsafe_b64decode(v) if isinstance(v, str) else b"")
            self.frames[table] = frame
        return self.frames[table]

    def points(self) -> pd.DataFrame:
        """TxFieldPoint rows with their field and the machine's name."""
        fields = self["TxField"][["FLD_ID", "Machine_ID_Staff_ID", "Type_Enum", "Modality_Enum", "IsFFF"]]
        staff = self["Staff"][["Staff_ID", "Last_Name"]]
        merged = self["TxFieldPoint"].merge(fields, on="FLD_ID").merge(staff, left_on="Machine_ID_Staff_ID", right_on="Staff_ID")
        return merged.assign(Machine=merged["Last_Name"].str.strip())


@pytest.fixture(scope="session")
def real() -> Real:
    return Real()


@pytest.fixture(scope="session")
def demo(demo_clinic) -> sqlite3.Connection:
    return sqlite3.connect(demo_clinic[0].database)


def frame(demo: sqlite3.Connection, sql: str) -> pd.DataFrame:
    return pd.read_sql_query(sql, demo)


def demo_points(demo: sqlite3.Connection) -> pd.DataFrame:
    return frame(demo, """SELECT p.*, f.Type_Enum, f.Modality_Enum, f.IsFFF, TRIM(s.Last_Name) AS Machine
                          FROM TxFieldPoint p JOIN TxField f ON f.FLD_ID = p.FLD_ID JOIN Staff s ON s.Staff_ID = f.Machine_ID_Staff_ID""")


def leaves(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<i2") / 100.0


# --- tables and columns ------------------------------------------------------------------------------------------


def test_extract_tables_have_only_real_columns_with_real_types(demo: sqlite3.Connection, real: Real) -> None:
    tables = [r[0] for r in demo.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert set(tables) - set(real.types) == DEFINED_FROM_PUBLIC_CODE
    for table in set(tables) & set(real.types):
        declared = {row[1]: row[2].lower() for row in demo.execute(f'PRAGMA table_info("{table}")')}  # SQLite reports 'int' as 'INT'
        assert set(declared) <= set(real.types[table]), f"{table}: columns the real extract lacks: {set(declared) - set(real.types[table])}"
        assert {c: real.types[table][c] for c in declared} == declared, table


def test_demo_rows_fill_the_real_key_columns(demo: sqlite3.Connection, real: Real) -> None:
    """The id columns the real rows use (and their case: Chk_id, Sanct_Id on Site) carry the demo's values."""
    for table in ("Site", "TxField", "TxFieldPoint", "Chklist", "TrackTreatment", "Staff", "Ident", "Patient"):
        key = next(iter(real.types[table]))
        ids = [r[0] for r in demo.execute(f'SELECT "{key}" FROM "{table}"')]
        assert ids and None not in ids and len(set(ids)) == len(ids), table
    assert demo.execute("SELECT COUNT(*) FROM Site WHERE Sanct_Id IS NOT NULL").fetchone()[0] > 0


def test_no_made_up_override_column(demo: sqlite3.Connection) -> None:
    columns = {row[1] for row in demo.execute('PRAGMA table_info("Dose_Hst")')}
    assert "Override_Reason" not in columns
    assert {"OverrideID", "Overrides1", "Overrides4", "Notes", "Dose_Addtl_Projected", "Fx_Number_InEffect"} <= columns


# --- control points ---------------------------------------------------------------------------------------------


def test_leaf_sets_are_padded_like_the_real_ones(demo: sqlite3.Connection, real: Real) -> None:
    real_points = real["TxFieldPoint"]
    real_lengths = set(real_points["A_Leaf_Set"].map(len)) | set(real_points["B_Leaf_Set"].map(len))
    points = demo_points(demo)
    assert set(points["A_Leaf_Set"].map(len)) | set(points["B_Leaf_Set"].map(len)) == real_lengths == {200}
    assert set(points["MLC_Leaves"]) <= set(real_points["MLC_Leaves"])
    for rows in (real_points, points):  # after MLC_Leaves values, only zeros
        for _, p in rows.iterrows():
            n = int(p["MLC_Leaves"])
            assert not leaves(p["A_Leaf_Set"])[n:].any() and not leaves(p["B_Leaf_Set"])[n:].any()


@pytest.mark.parametrize("machine", sorted(REAL_COUNTERPART))
def test_jaws_and_leaves_follow_the_real_machine_convention(demo: sqlite3.Connection, real: Real, machine: str) -> None:
    """The Field_X/Field_Y identity and the leaf-gap sign that every real row of the counterpart machine satisfies."""

    def identities(p: pd.DataFrame) -> pd.DataFrame:
        gaps = [leaves(a)[: int(n)] for a, n in zip(p["A_Leaf_Set"], p["MLC_Leaves"], strict=True)]
        gaps_b = [leaves(b)[: int(n)] for b, n in zip(p["B_Leaf_Set"], p["MLC_Leaves"], strict=True)]
        return pd.DataFrame({
            "y_diff": np.isclose(p["Coll_Y2"] - p["Coll_Y1"], p["Field_Y"], atol=0.01),
            "y_sum": np.isclose(p["Coll_Y2"] + p["Coll_Y1"], p["Field_Y"], atol=0.01),
            "x_diff": np.isclose(p["Coll_X2"] - p["Coll_X1"], p["Field_X"], atol=0.01),
            "x_sum": np.isclose(p["Coll_X2"] + p["Coll_X1"], p["Field_X"], atol=0.01),
            "b_minus_a": [bool((b - a >= -0.001).all()) for a, b in zip(gaps, gaps_b, strict=True)],
            "a_plus_b": [bool((b + a >= -0.001).all()) for a, b in zip(gaps, gaps_b, strict=True)],
        })

    real_points = real.points()
    reference = identities(real_points[(real_points["Machine"] == REAL_COUNTERPART[machine]) & real_points["Field_Y"].notna()])
    holds = [k for k in reference if reference[k].all()]
    assert holds and not reference.empty
    points = demo_points(demo)
    ours = identities(points[(points["Machine"] == machine) & points["Field_Y"].notna()])
    assert not ours.empty
    for identity in holds:
        assert ours[identity].all(), f"{machine}: {identity} holds on every real {REAL_COUNTERPART[machine]} row, not on the demo's"
    if "y_sum" in holds:  # the Varian convention must be told apart from the Elekta one by the data
        assert not ours["y_diff"].all()


def test_index_gantry_direction_and_points_as_real_fields(demo: sqlite3.Connection, real: Real) -> None:
    for points, strict in ((real.points(), False), (demo_points(demo), True)):
        per_field = points.sort_values("Point").groupby("FLD_ID")
        static = per_field.filter(lambda f: (f["Type_Enum"] == 1).all() and len(f) == 1)
        assert set(static["Gantry_Dir_Enum"]) == {3}
        assert (static["Index"] == 0.0).mean() == 1.0 if strict else (static["Index"] == 0.0).mean() > 0.99  # real: 248 of 249
        vmat = [f for _, f in per_field if (f["Type_Enum"] == 13).all()]
        assert vmat
        for f in vmat:
            assert f["Gantry_Dir_Enum"].iloc[0] in (1, 2) and f["Gantry_Dir_Enum"].iloc[-1] == 3
            assert f["Index"].iloc[0] == 0.0 and abs(f["Index"].iloc[-1] - 100.0) < 0.01


def test_energy_fff_and_field_kinds_as_real_rows(demo: sqlite3.Connection, real: Real) -> None:
    real_points, points = real.points(), demo_points(demo)
    assert set(points["Energy_Unit_Enum"]) <= set(real_points["Energy_Unit_Enum"])
    assert set(points.loc[points["IsFFF"] == 1, "Energy_Unit_Enum"]) <= set(real_points.loc[real_points["IsFFF"], "Energy_Unit_Enum"]) == {2}
    fields, real_fields = frame(demo, "SELECT * FROM TxField"), real["TxField"]
    assert fields["IsFFF"].any() and fields["IsHidden"].any()
    real_pairs = set(zip(real_fields["Type_Enum"], real_fields["Modality_Enum"], strict=True))
    ours = set(zip(fields["Type_Enum"], fields["Modality_Enum"], strict=True))
    assert {p for p in ours if p[0] in set(real_fields["Type_Enum"])} <= real_pairs
    assert {t for t, _ in ours} & SETUP_OR_IMAGING
    sites = frame(demo, "SELECT * FROM Site")
    assert set(sites["Energy"]) == set(real["Site"]["Energy"]) == {0}
    assert set(sites["Modality"].str.strip()) <= set(real["Site"]["Modality"].dropna().str.strip())


def test_a_prescription_holds_photon_and_electron_fields_as_real_ones_do(demo: sqlite3.Connection, real: Real) -> None:
    def mixed(fields: pd.DataFrame) -> int:
        current = fields[fields["Version"] == 0]
        kinds = current.groupby("SIT_Set_ID")["Modality_Enum"].agg(set)
        return int(kinds.map(lambda k: {1, 2} <= k).sum())

    assert mixed(real["TxField"]) > 0
    assert mixed(frame(demo, "SELECT * FROM TxField")) == 1


# --- versions, machines, chart ----------------------------------------------------------------------------------


VERSIONED = [("Site", "SIT_ID", "SIT_SET_ID"), ("TxField", "FLD_ID", "FLD_SET_ID"), ("Object", "OBJ_ID", "OBJ_SET_ID")]


@pytest.mark.parametrize(("table", "key", "set_key"), VERSIONED)
def test_versions_numbered_as_real_rows(demo: sqlite3.Connection, real: Real, table: str, key: str, set_key: str) -> None:
    """Within a set, by id: 32000, 31999, ... then 0 (current); the set id is the first row's id."""

    def numbered(rows: pd.DataFrame) -> bool:
        for set_id, group in rows.sort_values(key).groupby(set_key):
            expected = [32000 - k for k in range(len(group) - 1)] + [0]
            if group["Version"].tolist() != expected or group[key].min() != set_id:
                return False
        return True

    if table != "Object":  # no Object rows in the extract: the rule is carried over from Site and TxField
        assert numbered(real[table])
    rows = frame(demo, f'SELECT * FROM "{table}"')
    assert numbered(rows) and (rows["Version"] != 0).any()


def test_deliveries_on_an_older_field_version_as_real_ones(demo: sqlite3.Connection, real: Real) -> None:
    tracked = real["TrackTreatment"].merge(real["TxField"][["FLD_ID", "Version"]], on="FLD_ID")
    assert (tracked["Version"] != 0).any()
    assert demo.execute("SELECT COUNT(*) FROM TrackTreatment t JOIN TxField f ON f.FLD_ID = t.FLD_ID WHERE f.Version <> 0").fetchone()[0] > 0


def test_machines_are_location_staff_and_one_follows_varian(demo: sqlite3.Connection, real: Real) -> None:
    real_machines = real["Staff"][real["Staff"]["Staff_ID"].isin(real["TxField"]["Machine_ID_Staff_ID"])]
    assert set(real_machines["Type"].str.strip()) == {"Location"}
    machines = frame(demo, "SELECT s.* FROM Staff s WHERE s.Staff_ID IN (SELECT Machine_ID_Staff_ID FROM TxField)")
    assert set(machines["Type"]) == {"Location"}
    assert set(machines["Last_Name"].str.len()) == set(real_machines["Last_Name"].str.len()) == {40}  # CHAR(40), space-padded
    treated = {r[0] for r in demo.execute("SELECT TRIM(s.Last_Name) FROM TrackTreatment t JOIN Staff s ON s.Staff_ID = t.Machine_ID_Staff_ID")}
    assert "CLINAC1" in treated


def test_open_tasks_carry_the_1801_placeholder(demo: sqlite3.Connection, real: Real) -> None:
    real_open = real["Chklist"][real["Chklist"]["Complete"] == 0]["Act_DtTm"].dropna()
    assert set(real_open.str[:10]) == {"1801-01-01"}
    tasks = frame(demo, "SELECT * FROM Chklist")
    assert set(tasks.loc[tasks["Complete"] == 0, "Act_DtTm"].str[:10]) == {"1801-01-01"}
    assert not tasks.loc[tasks["Complete"] == 1, "Act_DtTm"].str.startswith("1801").any()
    assert tasks["Suppressed"].any() and set(tasks["Version"]) == set(real["Chklist"]["Version"]) == {0}


def test_schedule_and_document_codes(demo: sqlite3.Connection) -> None:
    schedule = frame(demo, "SELECT * FROM Schedule")
    assert set(schedule["SchStatus_Hist_SD"]) <= {" C", "SC", "OC", "FC", "X", "  "}
    assert {" C", "SC", "FC", "X"} <= set(schedule["SchStatus_Hist_SD"]) and schedule["Suppressed"].any()
    documents = frame(demo, "SELECT * FROM Object")
    assert set(documents["Status_Enum"]) <= {1, 5, 7, 8, 9}
    assert (documents.groupby("OBJ_SET_ID")["Version"].agg(lambda v: (v == 0).sum()) == 1).all()
    void = documents[documents["Status_Enum"] == 1]
    assert not void.empty and (void["Version"] != 0).all()


def test_planted_override_and_qa_mode_are_in_the_real_columns(demo: sqlite3.Connection) -> None:
    rows = frame(demo, "SELECT d.* FROM Dose_Hst d JOIN Ident i ON i.Pat_Id1 = d.Pat_ID1 WHERE i.IDA = '00017R'")
    override = rows[rows["WasOverridden"] == 1]
    assert len(override) == 1 and override["OverrideID"].notna().all() and (override["Notes"].str.strip() == "").all()
    assert rows["WasQAMode"].sum() == 1
    site_dose = rows.groupby("Fx_Number_InEffect")["Dose_Addtl_Projected"].sum()
    assert np.allclose(site_dose, 200.0)  # per-field contributions add up to the fraction dose


def test_text_padding_as_real_rows(demo: sqlite3.Connection, real: Real) -> None:
    """CHAR-like columns space-padded, the others not, as in the real rows."""
    for table, column in (("TxField", "Field_Label"), ("Patient", "Last_Name"), ("Ident", "IDA")):
        real_values = real[table][column].dropna().astype(str)
        assert (real_values == real_values.str.rstrip()).all()
        ours = frame(demo, f'SELECT "{column}" FROM "{table}"')[column]
        assert (ours == ours.str.rstrip()).all(), f"{table}.{column} padded, unlike the real rows"
    real_tasks = real["QCLTask"]["Description"].str.len()
    assert set(frame(demo, "SELECT Description FROM QCLTask")["Description"].str.len()) == {int(real_tasks.mode()[0])} == {20}
