"""DICOM RT Plan source (pydicom): plan, prescription and beams, and control points per beam."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Reading, Request, configured_folder
from plancheck.sources.normalise import angle_iec, energy, gantry_direction, modality
from plancheck.table import Param

SOURCE = "rtplan"
RTPLAN_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.5"


def load(path: str | Path) -> pydicom.Dataset:
    """Read an RT Plan file; a clear SourceError where it is not one."""
    path = Path(path)
    try:
        ds = pydicom.dcmread(path, force=True)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"cannot read DICOM ({exc})", where=str(path), fix="is it a complete DICOM RT Plan export?") from None
    if ds.get("Modality") != "RTPLAN" and "BeamSequence" not in ds:
        raise SourceError("not a DICOM RT Plan (no BeamSequence)", where=str(path), fix="export the RT Plan, not an image or RT Dose")
    return ds


def find_plans(folder: Path, patient_id: str) -> Iterator[tuple[Path, pydicom.Dataset | SourceError]]:
    """Every RT Plan for the patient below ``folder``; unreadable files come back as errors."""
    for path in sorted(folder.rglob("*.dcm")):
        try:
            header = pydicom.dcmread(path, force=True, stop_before_pixels=True, specific_tags=["PatientID", "Modality"])
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, never fatal
            yield path, SourceError(f"cannot read DICOM header ({exc.__class__.__name__})", where=str(path))
            continue
        if str(header.get("PatientID", "")).strip() != patient_id:
            continue
        try:
            yield path, load(path)
        except SourceError as exc:
            yield path, exc


def read(request: Request) -> Reading | None:
    folder = configured_folder(request.config.dicom_dir, "DICOM", "dicom")
    if folder is None:
        return None
    reading = Reading()
    plans: list[tuple[Path, pydicom.Dataset]] = []
    for path, ds in find_plans(folder, request.patient_id):
        if isinstance(ds, SourceError):
            reading.warnings.append(ds.message)
        else:
            plans.append((path, ds))
    if not plans:
        if reading.warnings:
            raise SourceError("; ".join(reading.warnings))
        return reading
    if request.plan:
        chosen = [(p, d) for p, d in plans if str(d.get("RTPlanLabel", "")).strip() == request.plan]
        if not chosen:
            labels = ", ".join(str(d.get("RTPlanLabel", "?")) for _, d in plans)
            reading.warnings.append(f"no RT Plan labelled {request.plan!r} for patient {request.patient_id} in {folder} (found: {labels})")
            return reading
    else:
        chosen = plans
    path, ds = max(chosen, key=lambda pd: (str(pd[1].get("RTPlanDate", "")), str(pd[1].get("RTPlanTime", ""))))
    rows, deliveries, warnings = rows_from_dataset(ds, str(path))
    reading.rows.extend(rows)
    reading.deliveries.update(deliveries)
    reading.warnings.extend(warnings)
    return reading


def _p(scope: str, beam: str, param: str, value: Any, unit: str, where: str) -> Param:
    return Param(scope, beam, param, value, unit, SOURCE, where)


def rows_from_dataset(ds: pydicom.Dataset, where: str) -> tuple[list[Param], dict[str, Delivery], list[str]]:
    rows: list[Param] = []
    deliveries: dict[str, Delivery] = {}
    warnings: list[str] = []
    name = str(ds.get("PatientName", "")).upper().rstrip("^")
    rows += [
        _p("patient", "", "patient_id", str(ds.get("PatientID", "")).strip(), "", where),
        _p("patient", "", "patient_name", "^".join(name.split("^")[:2]), "", where),
    ]
    if ds.get("PatientBirthDate"):
        b = str(ds.PatientBirthDate)
        rows.append(_p("patient", "", "birth_date", f"{b[:4]}-{b[4:6]}-{b[6:8]}", "", where))
    rows.append(_p("prescription", "", "plan_label", str(ds.get("RTPlanLabel", "")).strip(), "", where))
    approval = str(ds.get("ApprovalStatus", "")).upper()
    if approval:
        rows.append(_p("prescription", "", "plan_approved", approval == "APPROVED", "", where))
        if ds.get("ReviewerName"):
            rows.append(_p("prescription", "", "plan_approved_by", str(ds.ReviewerName), "", where))
    fg = ds.FractionGroupSequence[0]
    fractions = int(fg.NumberOfFractionsPlanned)
    rows.append(_p("prescription", "", "fractions", fractions, "", where + " FractionGroupSequence[0]"))
    targets = [d for d in ds.get("DoseReferenceSequence", []) if d.get("TargetPrescriptionDose") is not None]
    if targets:
        total_cgy = round(float(targets[0].TargetPrescriptionDose) * 100.0, 4)
        rows.append(_p("prescription", "", "total_dose_cgy", total_cgy, "cGy", where + " DoseReferenceSequence[0]"))
        rows.append(_p("prescription", "", "dose_per_fraction_cgy", round(total_cgy / fractions, 4), "cGy", where + " DoseReferenceSequence[0]"))
    metersets = {int(rb.ReferencedBeamNumber): rb.get("BeamMeterset") for rb in fg.ReferencedBeamSequence}
    treatment_beams = 0
    for index, beam in enumerate(ds.BeamSequence):
        label = str(beam.get("BeamName", "") or beam.BeamNumber).strip()
        here = f"{where} BeamSequence[{index}]"
        try:
            beam_rows, delivery = _beam_rows(beam, label, metersets.get(int(beam.BeamNumber)), here)
        except (AttributeError, ValueError, IndexError, TypeError, KeyError) as exc:
            warnings.append(f"{here} (beam {label}): cannot read control points ({exc})")
            continue
        rows += beam_rows
        if delivery is not None:
            deliveries[label] = delivery
        if not any(r.param == "setup_field" and r.value for r in beam_rows):
            treatment_beams += 1
    rows.append(_p("prescription", "", "beam_count", treatment_beams, "", where))
    return rows, deliveries, warnings


def _beam_type(beam: pydicom.Dataset, gantry: list[float], n: int) -> str:
    rotates = len(set(round(g, 2) for g in gantry)) > 1
    if str(beam.get("BeamType", "")).upper() == "DYNAMIC":
        return "VMAT" if rotates else "DMLC"
    if rotates:
        return "ARC"
    return "STEPNSHOOT" if n > 2 else "STATIC"


def _leaning(cps: Any, attribute: str) -> list[Any]:
    out, current = [], None
    for cp in cps:
        current = cp.get(attribute, current)
        if current is None:
            raise ValueError(f"first control point has no {attribute}")
        out.append(current)
    return out


def _device_positions(cps: Any, device_types: tuple[str, ...]) -> list[list[float]] | None:
    """LeafJawPositions of one device per control point, each leaning on the prior one."""
    out: list[list[float]] = []
    current = None
    for cp in cps:
        for item in cp.get("BeamLimitingDevicePositionSequence", []):
            if item.RTBeamLimitingDeviceType in device_types:
                current = [float(x) for x in item.LeafJawPositions]
        if current is None:
            return None
        out.append(current)
    return out


def _beam_rows(beam: pydicom.Dataset, label: str, meterset: Any, where: str) -> tuple[list[Param], Delivery | None]:
    cps = beam.ControlPointSequence
    if len(cps) == 0:
        raise ValueError("no control points")
    cp0 = cps[0]
    setup = str(beam.get("TreatmentDeliveryType", "TREATMENT")).upper() == "SETUP"
    gantry = [float(g) for g in _leaning(cps, "GantryAngle")]
    coll = [float(c) for c in _leaning(cps, "BeamLimitingDeviceAngle")]
    couch = float(cp0.get("PatientSupportAngle", 0.0) or 0.0)
    mod = modality(beam.get("RadiationType", "PHOTON"))
    fff = any("FFF" in str(getattr(f, "FluenceModeID", "")) or str(getattr(f, "FluenceMode", "")) == "NON_STANDARD" for f in beam.get("PrimaryFluenceModeSequence", []))
    rows = [
        _p("beam", label, "beam_name", str(beam.get("BeamDescription", "") or label).strip(), "", where),
        _p("beam", label, "beam_number", int(beam.BeamNumber), "", where),
        _p("beam", label, "setup_field", setup, "", where),
        _p("beam", label, "machine", str(beam.get("TreatmentMachineName", "")).strip().upper(), "", where),
        _p("beam", label, "modality", mod, "", where),
        _p("beam", label, "control_points", len(cps), "", where),
        _p("beam", label, "gantry_start", angle_iec(gantry[0]), "deg", where + " ControlPointSequence[0]"),
        _p("beam", label, "gantry_stop", angle_iec(gantry[-1]), "deg", where + f" ControlPointSequence[{len(cps) - 1}]"),
        _p("beam", label, "gantry_direction", gantry_direction(gantry[0], gantry[-1], cp0.get("GantryRotationDirection")), "", where),
        _p("beam", label, "collimator", angle_iec(coll[0]), "deg", where + " ControlPointSequence[0]"),
        _p("beam", label, "couch", angle_iec(couch), "deg", where + " ControlPointSequence[0]"),
        _p("beam", label, "beam_type", _beam_type(beam, gantry, len(cps)), "", where),
    ]
    if cp0.get("NominalBeamEnergy") is not None:
        rows.append(_p("beam", label, "energy", energy(cp0.NominalBeamEnergy, mod, fff), "", where + " ControlPointSequence[0]"))
    if beam.get("SourceAxisDistance") is not None:
        rows.append(_p("beam", label, "sad_mm", float(beam.SourceAxisDistance), "mm", where))
    if cp0.get("SourceToSurfaceDistance") is not None:
        rows.append(_p("beam", label, "ssd_mm", round(float(cp0.SourceToSurfaceDistance), 2), "mm", where + " ControlPointSequence[0]"))
    if cp0.get("IsocenterPosition") is not None:
        for axis, v in zip("xyz", cp0.IsocenterPosition):
            rows.append(_p("beam", label, f"iso_{axis}_mm", round(float(v), 2), "mm", where + " ControlPointSequence[0]"))
    jaws_x = _device_positions(cps, ("ASYMX", "X"))
    jaws_y = _device_positions(cps, ("ASYMY", "Y"))
    for name, jaws in (("x", jaws_x), ("y", jaws_y)):
        if jaws:
            rows.append(_p("beam", label, f"jaw_{name}1_mm", round(jaws[0][0], 2), "mm", where + " ControlPointSequence[0]"))
            rows.append(_p("beam", label, f"jaw_{name}2_mm", round(jaws[0][1], 2), "mm", where + " ControlPointSequence[0]"))
    if meterset is None or setup:
        return rows, None
    rows.append(_p("beam", label, "mu", round(float(meterset), 4), "MU", where))
    delivery = _delivery(beam, cps, float(meterset), gantry, coll, jaws_y)
    return rows, delivery


def _delivery(beam: pydicom.Dataset, cps: Any, meterset: float, gantry: list[float], coll: list[float], jaws_y: list[list[float]] | None) -> Delivery | None:
    mlc_positions = _device_positions(cps, ("MLCX",))
    if mlc_positions is None or jaws_y is None:
        return None
    n_pairs = len(mlc_positions[0]) // 2
    leaves = np.array(mlc_positions)
    jy = np.array(jaws_y)
    weights = np.array([float(cp.CumulativeMetersetWeight) for cp in cps])
    final = float(beam.get("FinalCumulativeMetersetWeight", weights[-1]) or weights[-1])
    return Delivery.from_banks(meterset * weights / final, gantry, coll, leaves[:, :n_pairs], leaves[:, n_pairs:], jy[:, 0], jy[:, 1])

def delivery_from_rtplan(path_or_dataset: str | Path | pydicom.Dataset, beam: str | int | None = None) -> Delivery:
    """The control points of one beam (by BeamName or BeamNumber), or all treatment beams merged."""
    ds = path_or_dataset if isinstance(path_or_dataset, pydicom.Dataset) else load(path_or_dataset)
    where = str(path_or_dataset) if not isinstance(path_or_dataset, pydicom.Dataset) else "RT Plan"
    _, deliveries, warnings = rows_from_dataset(ds, where)
    if beam is None:
        if not deliveries:
            raise SourceError("no beam with control points", where=where, fix="; ".join(warnings) or "is the plan calculated?")
        return Delivery.merge(*deliveries.values())
    numbers = {str(int(b.BeamNumber)): str(b.get("BeamName", "") or b.BeamNumber).strip() for b in ds.BeamSequence}
    key = numbers.get(str(beam), str(beam))
    if key not in deliveries:
        raise SourceError(f"no beam {beam!r} with control points (beams: {', '.join(deliveries)})", where=where)
    return deliveries[key]
