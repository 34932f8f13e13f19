"""Matching recorded deliveries to plan beams and MOSAIQ records: matched, unmatched, ambiguous."""

from __future__ import annotations

import datetime as dt

import numpy as np

from plancheck import deliveries
from plancheck.delivery.matching import PlanBeam, TreatmentRecord, match_deliveries
from plancheck.delivery.recording import Recording
from plancheck.delivery.model import Delivery
from tests.conftest import VMAT_PLAN

T0 = dt.datetime(2026, 11, 18, 9, 0)


def beams() -> list[PlanBeam]:
    return [PlanBeam("1-1", "G090", deliveries.from_dicom(VMAT_PLAN, "1-1")), PlanBeam("1-2", "G270", deliveries.from_dicom(VMAT_PLAN, "1-2"))]


def recording(field: str, delivery: Delivery, patient: str = "015112", minutes: int = 0) -> Recording:
    start = T0 + dt.timedelta(minutes=minutes)
    return Recording(f"{field}.xz", patient, field, "AGILITY1", start, start + dt.timedelta(minutes=2), delivery)


def test_matched_by_field_id_and_record() -> None:
    b = beams()
    records = [TreatmentRecord("DHS 1", "1-1", "AGILITY1", T0 + dt.timedelta(minutes=3)), TreatmentRecord("DHS 2", "1-2", "AGILITY1", T0 + dt.timedelta(minutes=6))]
    (m1, m2) = match_deliveries([recording("1-1", b[0].delivery), recording("G270", b[1].delivery, minutes=4)], "015112", b, records)
    assert (m1.status, m1.beam, m1.record) == ("matched", "1-1", "DHS 1")
    assert (m2.status, m2.beam, m2.record) == ("matched", "1-2", "DHS 2")


def test_matched_by_shape_when_field_id_unknown() -> None:
    b = beams()
    (m,) = match_deliveries([recording("ARC2", b[1].delivery)], "015112", b)
    assert m.status == "matched" and m.beam == "1-2" and "matched by MU and gantry" in m.reasons[0]
    assert any("no MOSAIQ treatment record" in r for r in m.reasons)


def test_unmatched_and_ambiguous_are_listed_with_reasons() -> None:
    b = beams()
    other_patient, = match_deliveries([recording("1-1", b[0].delivery, patient="999")], "015112", b)
    assert other_patient.status == "unmatched" and "999" in other_patient.reasons[0]
    scaled = b[0].delivery.replace(mu=np.asarray(b[0].delivery.mu) * 3)
    (nothing,) = match_deliveries([recording("X9", scaled)], "015112", b)
    assert nothing.status == "unmatched"
    twins = [PlanBeam("A", "ARC", b[0].delivery), PlanBeam("B", "ARC", b[0].delivery)]
    (amb,) = match_deliveries([recording("ZZ", b[0].delivery)], "015112", twins)
    assert amb.status == "ambiguous" and "A, B" in amb.reasons[0]
