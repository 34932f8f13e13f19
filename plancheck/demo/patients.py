"""The demo clinic's patients, their planted errors and their RT Plans (real Monaco plans shipped in pymedphys)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pymedphys
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from plancheck.errors import ConfigError

DAY_ENV = "PLANCHECK_DEMO_TODAY"  # YYYY-MM-DD: build the demo as of that day (reproducing a demo); default the day it is built


def demo_today() -> dt.datetime:
    """The demo's "today", 08:00: the day it is built (so `plancheck worklist` without --date works on the day), or $PLANCHECK_DEMO_TODAY."""
    day = os.environ.get(DAY_ENV, "")
    try:
        return dt.datetime.combine(dt.date.fromisoformat(day) if day else dt.date.today(), dt.time(8, 0))
    except ValueError:
        raise ConfigError(f"{DAY_ENV}={day!r} is not a date", fix="use YYYY-MM-DD, or unset it for today") from None


DEMO_TODAY = demo_today()
PMP = Path(pymedphys.__file__).parent
PLANS = {
    "vmat": PMP / "_experimental/serviceplans/templates/vmat_example.dcm",
    "static": PMP / "tests/dicom/data/rtplan/06MV_plan.dcm",
    "fff": PMP / "_experimental/serviceplans/templates/FFF_example.dcm",
}
STATIC_BEAMS = {"05x05": 0.0, "07x07": 90.0, "10x10": 180.0, "15x15": 270.0}  # 4-field box from 06MV_plan.dcm


@dataclass(frozen=True)
class PlantedError:
    id: str
    description: str
    caught_by: tuple[str, ...]  # check ids that must catch it
    kind: str = "initial"


@dataclass(frozen=True)
class DemoPatient:
    patient_id: str
    last: str
    first: str
    birth: dt.date
    plan: str  # key of PLANS
    site: str  # MOSAIQ Site_Name = RT Plan label
    technique: str
    rx_modality: str  # Site.Modality: MOSAIQ keeps the prescribed energy in this text ('x06', 'Xray6FFFFF')
    fractions: int
    dose_per_fraction_cgy: float
    purpose: str
    planted: tuple[PlantedError, ...] = ()
    check_kinds: tuple[str, ...] = ("initial", "weekly")
    machine: str = "AGILITY1"
    rt_plan: bool = True  # False: the prescription lives in MOSAIQ only
    electron_boost: bool = False  # an electron field in the same prescription as the photon fields


ERRORS = (
    PlantedError("mu_3pct", "MOSAIQ MU of beam 1-2 is 3 % above the RT Plan", ("implicit.mu",)),
    PlantedError("gantry_2deg", "MOSAIQ gantry start of beam 1-1 is 2 deg off", ("implicit.gantry_start",)),
    PlantedError("energy_10x", "MOSAIQ energy of beam 1-2 is 10X, the RT Plan's 6X", ("implicit.energy", "beam.energy_matches_rx")),
    PlantedError("dob", "date of birth differs between MOSAIQ and the RT Plan", ("implicit.birth_date",)),
    PlantedError("rx_pending", "prescription pending, not approved", ("rx.approved",)),
    PlantedError("radcalc_7pct", "RadCalc second check of beam 1-2 differs by 7.5 %", ("second_check.within_tolerance",)),
    PlantedError("scheduled_18", "18 sessions scheduled for 20 fractions", ("rx.fractions_scheduled",)),
    PlantedError("qa_mode", "a delivery recorded in QA mode", ("delivery.no_qa_mode",), "weekly"),
    PlantedError("override", "an override with no comment", ("delivery.override_commented",), "weekly"),
    PlantedError("break_9d", "a nine-day treatment break", ("rx.no_treatment_break",), "weekly"),
    PlantedError("overdue_task", "an overdue QCL task", ("task.none_overdue",), "weekly"),
    PlantedError("mlc_pair_1mm", "beam 1-1 delivered with one leaf pair shifted 1 mm (iCOM)", ("delivery.gamma",), "weekly"),
)

PATIENTS = (
    DemoPatient("015112", "DEMO", "CLEAN", dt.date(1956, 3, 14), "vmat", "PROSTATE", "VMAT", "x06", 20, 200.0,
                "clean VMAT course, 5 of 20 fractions delivered: every automatic check passes"),
    DemoPatient("00017R", "DEMO", "ERRORS", dt.date(1948, 7, 2), "vmat", "PROSTATE", "VMAT", "x06", 20, 200.0,
                "the same VMAT plan with planted errors, each in one place only", ERRORS),
    DemoPatient("020304", "DEMO", "STATIC", dt.date(1962, 11, 5), "static", "BREAST L", "3D", "x06       ", 25, 180.0,
                "clean 3D conformal four-field box on a Varian-convention machine", machine="CLINAC1"),
    DemoPatient("030405", "DEMO", "FFF", dt.date(1970, 1, 30), "fff", "LUNG SBRT", "3D", "Xray6FFFFF", 5, 600.0,
                "clean 6FFF course, completed: the final check passes", check_kinds=("final",)),
    DemoPatient("040506", "DEMO", "MIXED", dt.date(1959, 4, 21), "static", "CHEST WALL", "3D + e- boost", "x06       ", 15, 200.0,
                "one prescription with photon and electron fields (MOSAIQ only, no RT Plan)", machine="AGILITY2", rt_plan=False,
                electron_boost=True),
)


def weekdays_before(today: dt.datetime, n: int) -> list[dt.datetime]:
    """The ``n`` weekdays before ``today``, at 9:00, oldest first."""
    days: list[dt.datetime] = []
    d = today.replace(hour=9, minute=0) - dt.timedelta(days=1)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= dt.timedelta(days=1)
    return sorted(days)


def _keep_static_box(ds: pydicom.Dataset) -> None:
    keep = [b for b in ds.BeamSequence if b.BeamName in STATIC_BEAMS]
    for b in keep:
        for cp in b.ControlPointSequence:
            if "GantryAngle" in cp:
                cp.GantryAngle = STATIC_BEAMS[b.BeamName]
    ds.BeamSequence = keep
    numbers = {int(b.BeamNumber) for b in keep}
    fg = ds.FractionGroupSequence[0]
    fg.ReferencedBeamSequence = [rb for rb in fg.ReferencedBeamSequence if int(rb.ReferencedBeamNumber) in numbers]
    for rb in fg.ReferencedBeamSequence:
        rb.BeamMeterset = "150.0"
    fg.NumberOfBeams = len(keep)


def demo_plan(patient: DemoPatient) -> pydicom.Dataset:
    """The RT Plan of a demo patient: a shipped Monaco plan relabelled for the patient."""
    ds = pydicom.dcmread(PLANS[patient.plan], force=True)  # a fresh dataset each time: edited in place below
    if patient.plan == "static":
        _keep_static_box(ds)
    dob = patient.birth + (dt.timedelta(days=18) if patient.patient_id == "00017R" else dt.timedelta(0))
    ds.PatientID = patient.patient_id
    ds.PatientName = f"{patient.last}^{patient.first}"
    ds.PatientBirthDate = dob.strftime("%Y%m%d")
    ds.RTPlanLabel = patient.site
    ds.RTPlanDate = (DEMO_TODAY - dt.timedelta(days=14)).strftime("%Y%m%d")
    ds.ApprovalStatus = "APPROVED"
    ds.ReviewerName = "CURIE^MARIE"
    ds.FractionGroupSequence[0].NumberOfFractionsPlanned = patient.fractions
    total_gy = patient.fractions * patient.dose_per_fraction_cgy / 100.0
    refs = [d for d in ds.get("DoseReferenceSequence", []) if d.get("TargetPrescriptionDose") is not None]
    for ref in refs[:1]:
        ref.TargetPrescriptionDose = f"{total_gy:g}"
    ds.DoseReferenceSequence = refs[:1]
    for b in ds.BeamSequence:
        b.TreatmentMachineName = patient.machine
    uid = generate_uid(entropy_srcs=["plancheck-demo", patient.patient_id, patient.site])
    ds.SOPInstanceUID = uid
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds
