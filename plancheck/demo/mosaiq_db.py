"""The demo clinic's MOSAIQ: a SQLite database with MOSAIQ's tables, filled from the real
Monaco-exported RT Plans that ship inside pymedphys, and the DICOM RT Plans to match.

Everything is derived from a fixed reference date, so building twice gives the same content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
import pymedphys
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid
from sqlalchemy import create_engine, insert

from plancheck.sources.mosaiq import schema as s
from plancheck.sources.mosaiq.delivery import encode_leaves

DEMO_TODAY = dt.datetime(2026, 11, 20, 8, 0)
PMP = Path(pymedphys.__file__).parent
PLANS = {
    "vmat": PMP / "_experimental/serviceplans/templates/vmat_example.dcm",
    "static": PMP / "tests/dicom/data/rtplan/06MV_plan.dcm",
    "fff": PMP / "_experimental/serviceplans/templates/FFF_example.dcm",
}
MACHINES = {101: "AGILITY1", 102: "AGILITY2"}
STAFF = {201: ("HOUSE", "GREGORY", "Physician"), 202: ("CURIE", "MARIE", "Physicist")}
TASKS = {1: "Weekly Chart Check", 2: "Physics Final Check", 3: "Physics Initial Check"}
DOC_TYPES = {101: "Treatment Plan", 102: "Second Check (RadCalc)"}


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
    rx_energy: str
    fractions: int
    dose_per_fraction_cgy: float
    purpose: str
    planted: tuple[PlantedError, ...] = ()
    check_kinds: tuple[str, ...] = ("initial", "weekly")


PATIENTS = (
    DemoPatient("015112", "DEMO", "CLEAN", dt.date(1956, 3, 14), "vmat", "PROSTATE", "VMAT", "x06", 20, 200.0,
                "clean VMAT course, 5 of 20 fractions delivered: every automatic check passes"),
    DemoPatient(
        "00017R", "DEMO", "ERRORS", dt.date(1948, 7, 2), "vmat", "PROSTATE", "VMAT", "x06", 20, 200.0,
        "the same VMAT plan with planted errors, each in one place only",
        (
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
        ),
    ),
    DemoPatient("020304", "DEMO", "STATIC", dt.date(1962, 11, 5), "static", "BREAST L", "3D", "6X", 25, 180.0,
                "clean 3D conformal four-field box"),
    DemoPatient("030405", "DEMO", "FFF", dt.date(1970, 1, 30), "fff", "LUNG SBRT", "3D", "6FFF", 5, 600.0,
                "clean 6FFF course, completed: the final check passes", check_kinds=("final",)),
)

STATIC_BEAMS = {"05x05": 0.0, "07x07": 90.0, "10x10": 180.0, "15x15": 270.0}  # 4-field box from 06MV_plan.dcm


@dataclass
class DemoClinic:
    folder: Path
    database: Path
    dicom_dir: Path
    escan_dir: Path
    patients: tuple[DemoPatient, ...]
    rt_plans: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"


def _weekdays_before(today: dt.datetime, n: int) -> list[dt.datetime]:
    days: list[dt.datetime] = []
    d = today.replace(hour=9, minute=0) - dt.timedelta(days=1)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= dt.timedelta(days=1)
    return sorted(days)


def demo_plan(patient: DemoPatient) -> pydicom.Dataset:
    """The RT Plan of a demo patient: a shipped Monaco plan relabelled for the patient."""
    ds = pydicom.dcmread(PLANS[patient.plan], force=True)  # a fresh dataset each time: edited in place below
    if patient.plan == "static":
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
        b.TreatmentMachineName = "AGILITY1"
    uid = generate_uid(entropy_srcs=["plancheck-demo", patient.patient_id, patient.site])
    ds.SOPInstanceUID = uid
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


class _Ids:
    """Deterministic primary keys."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str, start: int = 1) -> int:
        self.next[table] = self.next.get(table, start) + 1
        return self.next[table] - 1


def _beam_meterset(ds: pydicom.Dataset) -> dict[int, float]:
    return {int(rb.ReferencedBeamNumber): float(rb.BeamMeterset) for rb in ds.FractionGroupSequence[0].ReferencedBeamSequence}


def _field_rows(ds: pydicom.Dataset, patient: DemoPatient, pat: int, sit_set: int, ids: _Ids) -> tuple[list[dict], list[dict], dict[str, int]]:
    fields, points, fld_ids = [], [], {}
    metersets = _beam_meterset(ds)
    approved = DEMO_TODAY - dt.timedelta(days=12)
    errors = patient.patient_id == "00017R"
    for beam in ds.BeamSequence:
        label = str(beam.BeamName)
        fld = ids("TxField", 1000)
        fld_ids[label] = fld
        mu = round(metersets[int(beam.BeamNumber)], 2) * (1.03 if errors and label == "1-2" else 1.0)
        cps = beam.ControlPointSequence
        dynamic = str(beam.BeamType).upper() == "DYNAMIC"
        fields.append(dict(
            FLD_ID=fld, FLD_SET_ID=fld, Version=0, Pat_ID1=pat, SIT_Set_ID=sit_set, Field_Label=f"{label:<8}",
            Field_Name=f"{beam.get('BeamDescription', label)}  ", Machine_ID_Staff_ID=101, Type_Enum=13 if dynamic else 1,
            Modality_Enum=1, Meterset=round(mu, 2), ControlPoints=len(cps), Sad=float(beam.SourceAxisDistance) / 10.0,
            Ssd=float(cps[0].get("SourceToSurfaceDistance", 1000.0)) / 10.0, Sanct_DtTm=approved, Sanct_Id=202, Edit_DtTm=approved,
        ))
        leaves = y = None
        gantry = cps[0].GantryAngle
        for i, cp in enumerate(cps):
            gantry = cp.get("GantryAngle", gantry)
            for dev in cp.get("BeamLimitingDevicePositionSequence", []):
                if dev.RTBeamLimitingDeviceType == "MLCX":
                    leaves = [float(v) for v in dev.LeafJawPositions]
                elif dev.RTBeamLimitingDeviceType == "ASYMY":
                    y = [float(v) for v in dev.LeafJawPositions]
            assert leaves is not None and y is not None
            n = len(leaves) // 2
            g = float(gantry) + (2.0 if errors and label == "1-1" and i == 0 else 0.0)
            energy = float(cps[0].NominalBeamEnergy) + (4.0 if errors and label == "1-2" else 0.0)
            fff = any(str(f.get("FluenceModeID", "")) == "FFF" for f in beam.get("PrimaryFluenceModeSequence", []))
            direction = {"CW": 1, "CC": 2}.get(str(cps[0].get("GantryRotationDirection", "NONE")), 0)
            points.append(dict(
                TFP_ID=ids("TxFieldPoint"), FLD_ID=fld, Point=i, Index=float(cp.CumulativeMetersetWeight),
                A_Leaf_Set=encode_leaves(leaves[:n]), B_Leaf_Set=encode_leaves(leaves[n:]), Gantry_Ang=g % 360.0,
                Coll_Ang=float(cps[0].BeamLimitingDeviceAngle), Coll_X1=None, Coll_X2=None, Coll_Y1=y[0] / 10.0, Coll_Y2=y[1] / 10.0,
                Energy=energy, Energy_Unit_Enum=4 if fff else 2, Couch_Ang=float(cps[0].get("PatientSupportAngle", 0.0)),
                Couch_Vrt=None, Couch_Lat=None, Couch_Lng=None, Gantry_Dir_Enum=direction,
            ))
    setup = ids("TxField", 1000)
    fields.append(dict(
        FLD_ID=setup, FLD_SET_ID=setup, Version=0, Pat_ID1=pat, SIT_Set_ID=sit_set, Field_Label="CBCT", Field_Name="kV CBCT",
        Machine_ID_Staff_ID=101, Type_Enum=4, Modality_Enum=1, Meterset=None, ControlPoints=0, Sad=100.0, Ssd=None,
        Sanct_DtTm=approved, Sanct_Id=202, Edit_DtTm=approved,
    ))
    return fields, points, fld_ids


def _history(patient: DemoPatient, pat: int, sit: int, fld_ids: dict[str, int], ds: pydicom.Dataset, ids: _Ids) -> tuple[list[dict], list[dict]]:
    metersets = {str(b.BeamName): _beam_meterset(ds)[int(b.BeamNumber)] for b in ds.BeamSequence}
    if patient.check_kinds == ("final",):
        days = _weekdays_before(DEMO_TODAY, patient.fractions)
    elif patient.patient_id == "00017R":
        first = _weekdays_before(DEMO_TODAY - dt.timedelta(days=10), 3)
        days = first + _weekdays_before(DEMO_TODAY, 2)
    else:
        days = _weekdays_before(DEMO_TODAY, 5)
    hist, track = [], []
    per_beam = patient.dose_per_fraction_cgy / len(fld_ids)
    for fraction, day in enumerate(days, start=1):
        for k, (label, fld) in enumerate(fld_ids.items()):
            dhs = ids("Dose_Hst", 5000)
            when = day + dt.timedelta(minutes=3 * k)
            qa = patient.patient_id == "00017R" and fraction == 2 and k == 0
            over = patient.patient_id == "00017R" and fraction == 4 and k == 1
            hist.append(dict(
                DHS_ID=dhs, Pat_ID1=pat, SIT_ID=sit, FLD_ID=fld, Tx_DtTm=when, Fractions_Tx=fraction,
                Dose_Tx_Act=per_beam, Dose_Ttl_Act=per_beam * (fraction * len(fld_ids) - len(fld_ids) + k + 1),
                Meterset=round(metersets[label], 1), WasQAMode=int(qa), WasOverridden=int(over), PartiallyTreated=0,
                Termination_Status_Enum=0, Override_Reason="",
            ))
            track.append(dict(
                TTX_ID=ids("TrackTreatment"), Pat_ID1=pat, FLD_ID=fld, SIT_ID=sit, Machine_ID_Staff_ID=101,
                Create_DtTm=when, Edit_DtTm=when, WasQAMode=int(qa), WasBeamComplete=1, WasCanceled=0, DHS_ID=dhs,
            ))
    return hist, track


def _tasks_and_schedule(patient: DemoPatient, pat: int, ids: _Ids) -> tuple[list[dict], list[dict]]:
    errors = patient.patient_id == "00017R"
    tasks = [
        dict(CHK_ID=ids("Chklist"), Pat_ID1=pat, TSK_ID=1, Due_DtTm=DEMO_TODAY - dt.timedelta(days=2), Complete=1,
             Act_DtTm=DEMO_TODAY - dt.timedelta(days=2), Rsp_Staff_ID=202),
        dict(CHK_ID=ids("Chklist"), Pat_ID1=pat, TSK_ID=2, Due_DtTm=DEMO_TODAY + dt.timedelta(days=30), Complete=0, Act_DtTm=None, Rsp_Staff_ID=202),
    ]
    if errors:
        tasks.append(dict(CHK_ID=ids("Chklist"), Pat_ID1=pat, TSK_ID=3, Due_DtTm=DEMO_TODAY - dt.timedelta(days=5), Complete=0, Act_DtTm=None, Rsp_Staff_ID=202))
    start = DEMO_TODAY - dt.timedelta(days=10 if errors else 7)
    count = patient.fractions - 2 if errors else patient.fractions
    schedule = [
        dict(Sch_Id=(sid := ids("Schedule")), Sch_Set_Id=sid, Version=0, Pat_ID1=pat, App_DtTm=start + dt.timedelta(days=i), Activity="TX  ", SysDefStatus=" ", Location=101)
        for i in range(count)
    ]
    schedule.append(dict(Sch_Id=(sid := ids("Schedule")), Sch_Set_Id=sid, Version=0, Pat_ID1=pat, App_DtTm=start - dt.timedelta(days=3), Activity="CTSIM", SysDefStatus=" ", Location=101))
    return tasks, schedule


def _documents(patient: DemoPatient, pat: int, ids: _Ids) -> tuple[list[dict], list[dict]]:
    objects, files = [], []
    signed = DEMO_TODAY - dt.timedelta(days=11)
    for doc_type, suffix in ((101, "plan"), (102, "radcalc")):
        versions = [(1, signed - dt.timedelta(days=2), f"{patient.patient_id}_{suffix}_v1.pdf")] if (patient.patient_id == "015112" and doc_type == 101) else []
        set_id = ids("ObjSet", 7000)
        for version, (status, when, name) in enumerate(versions + [(9, signed, f"{patient.patient_id}_{suffix}.pdf")]):
            obj = ids("Object", 8000)
            objects.append(dict(OBJ_ID=obj, OBJ_SET_ID=set_id, Version=version, Pat_ID1=pat, DocType=doc_type, File_Format=7,
                                Status_Enum=status, Sanct_DtTm=when if status != 1 else None, Create_DtTm=when))
            files.append(dict(OFN_ID=ids("ObjFilenames"), OBJ_ID=obj, eSCANFilename=name, PageNumber=1))
    return objects, files


def build_demo_mosaiq(out_dir: Path) -> DemoClinic:
    """Create ``out_dir/mosaiq.db`` and ``out_dir/dicom/<ID>/RP.<site>.dcm`` for the demo patients."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "mosaiq.db"
    db.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{db}")
    s.metadata.create_all(engine)
    ids = _Ids()
    rows: dict[Any, list[dict]] = {t: [] for t in s.metadata.sorted_tables}
    rows[s.Staff] += [dict(Staff_ID=k, Last_Name=v, First_Name="", Type="Machine") for k, v in MACHINES.items()]
    rows[s.Staff] += [dict(Staff_ID=k, Last_Name=v[0], First_Name=v[1], Type=v[2]) for k, v in STAFF.items()]
    rows[s.QCLTask] += [dict(TSK_ID=k, Description=v) for k, v in TASKS.items()]
    rows[s.Prompt] += [dict(PGroup="ESC7", Enum=k, Text=v) for k, v in DOC_TYPES.items()]
    clinic = DemoClinic(out_dir, db, out_dir / "dicom", out_dir / "escan", PATIENTS)
    for n, patient in enumerate(PATIENTS, start=1):
        pat = 10000 + n
        ds = demo_plan(patient)
        path = clinic.dicom_dir / patient.patient_id / f"RP.{patient.site.replace(' ', '_')}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        clinic.rt_plans[patient.patient_id] = path
        rows[s.Ident].append(dict(Pat_Id1=pat, IDA=patient.patient_id, IDB=""))
        rows[s.Patient].append(dict(Pat_ID1=pat, Last_Name=f"{patient.last:<12}", First_Name=patient.first, Birth_DtTm=dt.datetime.combine(patient.birth, dt.time())))
        sit = ids("Site", 300)
        pending = patient.patient_id == "00017R"
        complete = patient.check_kinds == ("final",)
        approved = DEMO_TODAY - dt.timedelta(days=13)
        rows[s.Site].append(dict(
            SIT_ID=sit, SIT_SET_ID=sit, Version=0, Pat_ID1=pat, Site_Name=patient.site, Technique=patient.technique, Modality="Xrays",
            Energy=patient.rx_energy, Dose_Tx=patient.dose_per_fraction_cgy, Dose_Ttl=patient.dose_per_fraction_cgy * patient.fractions,
            Fractions=patient.fractions, Frac_Pattern="5x/week", Notes="", Sanct_DtTm=None if pending else approved,
            Sanct_Id=None if pending else 201, Status_Enum=7 if pending else (3 if complete else 5), Edit_DtTm=approved,
        ))
        fields, points, fld_ids = _field_rows(ds, patient, pat, sit, ids)
        rows[s.TxField] += fields
        rows[s.TxFieldPoint] += points
        hist, track = _history(patient, pat, sit, fld_ids, ds, ids)
        rows[s.Dose_Hst] += hist
        rows[s.TrackTreatment] += track
        tasks, schedule = _tasks_and_schedule(patient, pat, ids)
        rows[s.Chklist] += tasks
        rows[s.Schedule] += schedule
        objects, files = _documents(patient, pat, ids)
        rows[s.Object] += objects
        rows[s.ObjFilenames] += files
    with engine.begin() as conn:
        for table, data in rows.items():
            if data:
                conn.execute(insert(table), data)
    engine.dispose()
    return clinic
