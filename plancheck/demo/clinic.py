"""`plancheck demo`: build a demo clinic from real RT Plans and check a clean and an erroneous patient.

The clinic is a MOSAIQ database (SQLite, MOSAIQ's tables), the matching DICOM RT Plans, a
Monaco FocalData tree of tel.1 files and a plancheck.toml. Building is deterministic: the same
content every time for a given day (the demo's today is the day it is built, see patients.demo_today).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pydicom

from plancheck.api import check_table
from plancheck.checks.results import CheckRun, Status
from plancheck.collector import collect
from plancheck.config import Config, load_config
from plancheck.demo.mosaiq_db import DEMO_TODAY, DemoClinic, DemoPatient, build_demo_mosaiq
from plancheck.demo.patients import weekdays_before
from plancheck.fabricate.recording import record_through_listener
from plancheck.fabricate.focaldata import focaldata_from_rtplan
from plancheck.fabricate.pdf import write_plan_pdf
from plancheck.sources.rtplan import load, rows_from_dataset

CONFIG = """# plancheck configuration of the demo clinic (paths are relative to this file).
[mosaiq]
url = "sqlite:///{db}"
timeout_s = 10

[folders]
dicom = "dicom"
monaco = "FocalData"
icom = "icom"
escan = "escan"
documents = "mosaiq-documents"
output = "results"

[[machines]]
name = "AGILITY1"
type = "elekta"
max_gantry_speed_dps = 6.0
max_dose_rate_mu_min = 600

[[machines]]
name = "AGILITY2"
type = "elekta"

[[machines]]
name = "CLINAC1"
type = "varian"
"""


def build_clinic(folder: Path) -> tuple[DemoClinic, Config]:
    """Make the demo clinic in ``folder`` (replacing a previous demo there) and return its config."""
    if folder.exists():
        for part in ("mosaiq.db", "dicom", "FocalData", "escan", "results", "icom", "linac", "mosaiq-documents"):
            target = folder / part
            if target.is_dir():
                shutil.rmtree(target)
    clinic = build_demo_mosaiq(folder)
    for rt_plan in clinic.rt_plans.values():
        focaldata_from_rtplan(rt_plan, folder / "FocalData")
    write_reports(clinic, folder / "mosaiq-documents")
    record_deliveries(clinic, folder)
    config_path = folder / "plancheck.toml"
    config_path.write_text(CONFIG.format(db=clinic.database.resolve()), encoding="utf-8")
    return clinic, load_config(config_path)


RADCALC_ERROR = ("00017R", "1-2", 7.5)  # patient, beam, percent difference planted in its RadCalc report


def write_reports(clinic: DemoClinic, folder: Path) -> None:
    """A signed Monaco plan report and a RadCalc second check per patient, laid out as the vendors print them,
    under the names MOSAIQ's document rows give; for 015112 also the older, voided plan report."""
    for patient_id, rt_plan in clinic.rt_plans.items():
        rows, _, _ = rows_from_dataset(load(rt_plan), str(rt_plan))
        signed = (DEMO_TODAY - dt.timedelta(days=11)).isoformat()  # as MOSAIQ's document rows say
        write_plan_pdf("monaco", rows, folder / f"{patient_id}_plan.pdf", overrides={"plan_approved": True, "plan_approved_date": signed})
        planted: dict[str | tuple[str, str], float] = {(RADCALC_ERROR[1], "mu_diff_percent"): RADCALC_ERROR[2]} if patient_id == RADCALC_ERROR[0] else {}
        write_plan_pdf("radcalc", rows, folder / f"{patient_id}_radcalc.pdf", overrides=planted)
        if patient_id == "015112":  # voided in MOSAIQ: must never be read
            first_beam = next(r.beam for r in rows if r.scope == "beam")
            write_plan_pdf("monaco", rows, folder / f"{patient_id}_plan_v1.pdf", overrides={(first_beam, "mu"): 150.0})


MLC_ERROR_BEAM, MLC_ERROR_PAIR, MLC_ERROR_MM = "1-1", 39, 1.0  # a central pair, open during the arc


def record_deliveries(clinic: DemoClinic, folder: Path) -> None:
    """Deliver the VMAT plans on the simulated linac and record them through the real iCOM
    listener: 015112 as planned, 00017R with one leaf pair of beam 1-1 shifted by 1 mm."""
    linac = folder / "linac"
    linac.mkdir(parents=True, exist_ok=True)
    faulty = pydicom.dcmread(clinic.rt_plans["00017R"])
    for beam in faulty.BeamSequence:
        if beam.BeamName != MLC_ERROR_BEAM:
            continue
        for cp in beam.ControlPointSequence:
            for dev in cp.get("BeamLimitingDevicePositionSequence", []):
                if dev.RTBeamLimitingDeviceType == "MLCX":
                    leaves = [float(v) for v in dev.LeafJawPositions]
                    n = len(leaves) // 2
                    leaves[MLC_ERROR_PAIR] += MLC_ERROR_MM  # the whole pair shifted by 1 mm
                    leaves[n + MLC_ERROR_PAIR] += MLC_ERROR_MM
                    dev.LeafJawPositions = leaves
    faulty_path = linac / "00017R_delivered_with_mlc_error.dcm"
    faulty.save_as(faulty_path, enforce_file_format=True)
    start = weekdays_before(DEMO_TODAY, 1)[0]  # the last treatment day, 09:00, as MOSAIQ's sessions
    for n, plan in enumerate([clinic.rt_plans["015112"], faulty_path]):  # one session per patient, as at the linac
        result = record_through_listener([plan], folder / "icom", start=start + dt.timedelta(hours=n), seed=1)
        if result.unreadable:
            raise RuntimeError(f"demo recording left unreadable archives: {result.unreadable}")


@dataclass
class DemoOutcome:
    patient: DemoPatient
    runs: list[CheckRun]

    def caught(self) -> dict[str, list[str]]:
        """Planted error id -> the checks that caught it (empty when it escaped)."""
        alarms = {(r.id, run.check_kind) for run in self.runs for r in run.results if r.status in (Status.FAIL, Status.WARN)}
        return {e.id: [c for c in e.caught_by if (c, e.kind) in alarms] for e in self.patient.planted}

    @property
    def ok(self) -> bool:
        if self.patient.planted:
            return all(self.caught().values())
        return all(run.passed for run in self.runs)


def check_patient(patient: DemoPatient, config: Config, kinds: tuple[str, ...], today: dt.datetime = DEMO_TODAY) -> DemoOutcome:
    table = collect(patient.patient_id, None, config)
    return DemoOutcome(patient, [check_table(table, patient_id=patient.patient_id, kind=kind, config=config, today=today) for kind in kinds])
