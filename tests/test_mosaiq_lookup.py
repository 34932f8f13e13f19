"""Near patient IDs and plan names, read from the real MOSAIQ extract pymedphys ships (plancheck never wrote it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.mosaiq.lookup import near_patient_ids, plan_names
from plancheck.sources.mosaiq.meanings import SITE_VOID


@pytest.fixture(scope="module")
def real(real_mosaiq_path: Path) -> tuple[Mosaiq, sqlite3.Connection]:
    return Mosaiq(f"sqlite:///{real_mosaiq_path}"), sqlite3.connect(real_mosaiq_path)


@pytest.mark.parametrize(("typed", "stored"), [("2e69b18-d", "02E69B18-D"), ("102", "00102"), ("lungsbrt", "LungSBRT"), ("ida_1X", "IDA_1x")])
def test_near_ids_ignore_case_and_leading_zeros(real, typed: str, stored: str) -> None:
    db, con = real
    assert con.execute("SELECT COUNT(*) FROM Ident WHERE rtrim(IDA) = ?", (stored,)).fetchone()[0] == 1  # the extract holds it as written
    assert near_patient_ids(db, typed) == [stored]


def test_near_ids_take_like_wildcards_literally(real) -> None:
    db, _ = real
    assert near_patient_ids(db, "IDAX1X") == [] and near_patient_ids(db, "%") == [] and near_patient_ids(db, "000") == []


def test_plan_names_are_the_current_prescriptions(real) -> None:
    db, con = real
    several = "SELECT Pat_ID1 FROM Site GROUP BY Pat_ID1 HAVING COUNT(*) > 1"
    pat, ida = con.execute(f"SELECT Pat_Id1, rtrim(IDA) FROM Ident WHERE Pat_Id1 IN ({several}) LIMIT 1").fetchone()
    rows = con.execute("SELECT Site_Name, Status_Enum FROM Site WHERE Pat_ID1 = ? AND (Version = 0 OR Version IS NULL) ORDER BY SIT_ID", (pat,)).fetchall()
    expected = [name.strip() for name, status in rows if status != SITE_VOID]
    assert len(expected) > 1 and plan_names(db, ida) == expected
    assert plan_names(db, "no such patient") is None
