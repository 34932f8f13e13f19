"""DICOM RT Plan source (pydicom): plan, prescription and beams, and control points per beam."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import numpy as np
import pydicom
import pydicom.filereader
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.sequence import Sequence

from plancheck.delivery.layers import Collimation, Layer, aperture_delivery
from plancheck.delivery.model import Delivery
from plancheck.errors import SourceError
from plancheck.sources import Reading, Request, configured_folder
from plancheck.units import angle_iec, energy, gantry_direction, modality
from plancheck.table import Param, validate_row

SOURCE = "rtplan"
RTPLAN_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.5"
MAX_FILE_BYTES = 256 * 2**20  # an RT Plan is kilobytes to a few megabytes; anything larger is not one
HEADER_BYTES = 2**20  # enough for the patient module of any DICOM file; the rest is read only where needed
# what pydicom raises on a damaged file, while parsing or while converting a value on first access
PYDICOM_ERRORS = (InvalidDicomError, BytesLengthException, EOFError, OSError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                  NotImplementedError, OverflowError, UnicodeError, struct.error, RecursionError)
# what building a beam's rows from checked values can still raise (numpy shapes, an empty list)
BEAM_ERRORS = (SourceError, ValueError, IndexError, TypeError, KeyError, AttributeError, ZeroDivisionError)
# RTBeamLimitingDeviceType: leaf layers (MLCX; Varian Halcyon/Ethos MLCX1 distal + MLCX2 proximal) and jaws (docs/mlc-layouts.md)
MLC_TYPES = ("MLCX", "MLCX1", "MLCX2")
X_JAWS, Y_JAWS = ("ASYMX", "X"), ("ASYMY", "Y")


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (its first ``limit`` bytes), refused above MAX_FILE_BYTES before anything is allocated."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(f"file of {size:,} bytes is too large for an RT Plan (limit {MAX_FILE_BYTES:,})", where=str(path),
                              fix="export the RT Plan alone; images and doses do not belong in the plan folder")
        with path.open("rb") as handle:
            return handle.read(limit if limit is not None else size)
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror or exc})", where=str(path)) from None


def _parse(data: bytes, where: str, **options: Any) -> pydicom.Dataset:
    """pydicom over bytes in memory, so a damaged length can never ask for more than the file holds; every value
    converted here, so a bad one is a SourceError now and not an exception later."""
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True, **options)
        for _ in ds.iterall():
            pass
    except PYDICOM_ERRORS as exc:
        raise SourceError(f"cannot read DICOM ({exc.__class__.__name__}: {str(exc)[:160]})", where=where,
                          fix="is it a complete DICOM RT Plan export?") from None
    return ds


def load(path: str | Path) -> pydicom.Dataset:
    """Read an RT Plan file; a clear SourceError where it is not one."""
    path = Path(path)
    ds = _parse(_read_bytes(path), str(path))
    if ds.get("Modality") != "RTPLAN" and "BeamSequence" not in ds:
        raise SourceError("not a DICOM RT Plan (no BeamSequence)", where=str(path), fix="export the RT Plan, not an image or RT Dose")
    return ds


PATIENT_ID_TAG = 0x00100020


def _past_patient_id(tag: int, _vr: str | None, _length: int) -> bool:
    return tag > PATIENT_ID_TAG


def _parse_header(data: bytes, where: str) -> pydicom.Dataset:
    """Modality (0008,0060) and PatientID (0010,0020) only: parsing stops at the first element after them, so finding
    one patient's plan among N files reads N short headers, not N plans (the nightly batch scans the folder per patient)."""
    try:
        return pydicom.filereader.read_partial(io.BytesIO(data), stop_when=_past_patient_id, force=True, specific_tags=[0x00080060, PATIENT_ID_TAG])
    except PYDICOM_ERRORS as exc:
        raise SourceError(f"cannot read DICOM ({exc.__class__.__name__}: {str(exc)[:160]})", where=where,
                          fix="is it a complete DICOM RT Plan export?") from None


def read_header(path: Path) -> pydicom.Dataset:
    """PatientID and Modality of a DICOM file, from its first megabyte (all of it where they lie further on)."""
    data = _read_bytes(path, HEADER_BYTES)
    header = _parse_header(data, str(path))
    if "PatientID" not in header and len(data) == HEADER_BYTES:
        header = _parse_header(_read_bytes(path), str(path))
    if "PatientID" not in header:
        raise SourceError(f"no PatientID in a file of {path.stat().st_size} bytes, so whose plan it is cannot be told", where=str(path),
                          fix="is it an empty or damaged copy? export the RT Plan again")
    return header


def find_plans(folder: Path, patient_id: str) -> Iterator[tuple[Path, pydicom.Dataset | SourceError]]:
    """Every RT Plan for the patient below ``folder``; files that cannot be read (whoever's they are) come back as errors."""
    for path in sorted(folder.rglob("*.dcm")):
        try:
            header = read_header(path)
            if _text(header, "PatientID") != patient_id:
                continue
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
            more = f" ({len(reading.warnings) - 1} more unreadable)" if len(reading.warnings) > 1 else ""
            raise SourceError(f"no readable RT Plan for patient {request.patient_id}, and a file that may be it cannot be read: {reading.warnings[0]}{more}")
        reading.warnings.append(f"no RT Plan for patient {request.patient_id} below {folder}")
        return reading
    if request.plan:
        chosen = [(p, d) for p, d in plans if _text(d, "RTPlanLabel") == request.plan]
        if not chosen:
            labels = ", ".join(_text(d, "RTPlanLabel") or "?" for _, d in plans)
            reading.warnings.append(f"no RT Plan labelled {request.plan!r} for patient {request.patient_id} in {folder} (found: {labels})")
            return reading
    else:
        chosen = plans
    path, ds = max(chosen, key=lambda pd: (_text(pd[1], "RTPlanDate"), _text(pd[1], "RTPlanTime")))
    rows, deliveries, warnings = rows_from_dataset(ds, str(path))
    reading.rows.extend(rows)
    reading.deliveries.update(deliveries)
    reading.warnings.extend(warnings)
    return reading


def _p(scope: str, beam: str, param: str, value: Any, unit: str, where: str) -> Param:
    return Param(scope, beam, param, value, unit, SOURCE, where)


# ---- values, each element named where it is missing or wrong -------------------------------
def _text(ds: pydicom.Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _number(ds: pydicom.Dataset, keyword: str, where: str) -> float | None:
    """A single finite number, None where the element is absent or empty; SourceError naming it otherwise."""
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SourceError(f"{keyword} is {str(value)[:40]!r}, not a number", where=where, fix="export the RT Plan again") from None
    if not math.isfinite(number):
        raise SourceError(f"{keyword} is {number}, not a finite number", where=where, fix="export the RT Plan again")
    return number


def _required(ds: pydicom.Dataset, keyword: str, where: str) -> float:
    number = _number(ds, keyword, where)
    if number is None:
        raise SourceError(f"no {keyword}", where=where, fix="is the plan complete and calculated?")
    return number


def _items(ds: pydicom.Dataset, keyword: str) -> list[pydicom.Dataset]:
    """The items of a sequence; [] where it is absent or not a sequence."""
    value = ds.get(keyword)
    return [item for item in value if isinstance(item, pydicom.Dataset)] if isinstance(value, Sequence) else []


def rows_from_dataset(ds: pydicom.Dataset, where: str) -> tuple[list[Param], dict[str, Delivery], list[str]]:
    """Rows and deliveries of an RT Plan; what cannot be read (an element, a beam) is a warning naming it, the rest is kept."""
    warnings: list[str] = []
    rows = _plan_rows(ds, where, warnings)
    metersets = _fraction_rows(ds, where, rows, warnings)
    deliveries: dict[str, Delivery] = {}
    treatment_beams = 0
    for index, beam in enumerate(_items(ds, "BeamSequence")):
        here = f"{where} BeamSequence[{index}]"
        label = _text(beam, "BeamName") or _text(beam, "BeamNumber") or f"#{index + 1}"
        try:
            number = int(_required(beam, "BeamNumber", here))
            beam_rows, delivery, lacks = _beam_rows(beam, label, metersets.get(number), here)
            for row in beam_rows:
                validate_row(row)  # a SchemaError (a ValueError) loses this beam, not the plan
        except BEAM_ERRORS as exc:
            warnings.append(f"{here} (beam {label}): cannot read control points ({exc})")
            continue
        rows += beam_rows
        if delivery is not None:
            deliveries[label] = delivery
        elif lacks:
            warnings.append(f"{here} (beam {label}): no MU density: {lacks}")
        if not any(r.param == "setup_field" and r.value for r in beam_rows):
            treatment_beams += 1
    if "BeamSequence" not in ds:
        warnings.append(f"{where}: no BeamSequence, so no beams were read")
    rows.append(_p("prescription", "", "beam_count", treatment_beams, "", where))
    return rows, deliveries, warnings


def _plan_rows(ds: pydicom.Dataset, where: str, warnings: list[str]) -> list[Param]:
    name = _text(ds, "PatientName").upper().rstrip("^")
    rows = [
        _p("patient", "", "patient_id", _text(ds, "PatientID"), "", where),
        _p("patient", "", "patient_name", "^".join(name.split("^")[:2]), "", where),
        _p("prescription", "", "plan_label", _text(ds, "RTPlanLabel"), "", where),
    ]
    birth = _text(ds, "PatientBirthDate")
    if birth and birth.isdigit() and len(birth) == 8:
        rows.append(_p("patient", "", "birth_date", f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}", "", where))
    elif birth:
        warnings.append(f"{where}: PatientBirthDate {birth[:20]!r} is not YYYYMMDD; not read")
    approval = _text(ds, "ApprovalStatus").upper()
    if approval:
        rows.append(_p("prescription", "", "plan_approved", approval == "APPROVED", "", where))
        if _text(ds, "ReviewerName"):
            rows.append(_p("prescription", "", "plan_approved_by", _text(ds, "ReviewerName"), "", where))
    return rows


def _fraction_rows(ds: pydicom.Dataset, where: str, rows: list[Param], warnings: list[str]) -> dict[int, float | None]:
    """Fractions and prescribed dose into ``rows``; the beam metersets of the first fraction group, by beam number."""
    groups = _items(ds, "FractionGroupSequence")
    if not groups:
        warnings.append(f"{where}: no FractionGroupSequence, so fractions, dose per fraction and beam MU were not read")
        return {}
    fg, here = groups[0], where + " FractionGroupSequence[0]"
    fractions = _fractions(fg, here, warnings)
    if fractions is not None:
        rows.append(_p("prescription", "", "fractions", fractions, "", here))
    try:
        _dose_rows(ds, where, fractions, rows, warnings)
    except SourceError as exc:
        warnings.append(f"prescribed dose not read: {exc.message}")
    metersets: dict[int, float | None] = {}
    for index, ref in enumerate(_items(fg, "ReferencedBeamSequence")):
        at = f"{here} ReferencedBeamSequence[{index}]"
        try:
            metersets[int(_required(ref, "ReferencedBeamNumber", at))] = _number(ref, "BeamMeterset", at)
        except SourceError as exc:
            warnings.append(f"beam MU not read: {exc.message}")
    return metersets


def _fractions(fg: pydicom.Dataset, where: str, warnings: list[str]) -> int | None:
    try:
        fractions = _required(fg, "NumberOfFractionsPlanned", where)
    except SourceError as exc:
        warnings.append(f"fractions not read: {exc.message}")
        return None
    if fractions < 0 or not fractions.is_integer():
        warnings.append(f"{where}: NumberOfFractionsPlanned is {fractions:g}, not a count of fractions; not read")
        return None
    return int(fractions)


def _dose_rows(ds: pydicom.Dataset, where: str, fractions: int | None, rows: list[Param], warnings: list[str]) -> None:
    targets = [d for d in _items(ds, "DoseReferenceSequence") if d.get("TargetPrescriptionDose") is not None]
    if not targets:
        return
    here = where + " DoseReferenceSequence[0]"
    total_cgy = round(_required(targets[0], "TargetPrescriptionDose", here) * 100.0, 4)
    rows.append(_p("prescription", "", "total_dose_cgy", total_cgy, "cGy", here))
    if fractions:
        rows.append(_p("prescription", "", "dose_per_fraction_cgy", round(total_cgy / fractions, 4), "cGy", here))
    else:
        warnings.append(f"{where}: NumberOfFractionsPlanned is {fractions}, so the dose per fraction cannot be worked out")


def _beam_type(beam: pydicom.Dataset, gantry: list[float], n: int) -> str:
    rotates = len({round(g, 2) for g in gantry}) > 1
    if _text(beam, "BeamType").upper() == "DYNAMIC":
        return "VMAT" if rotates else "DMLC"
    if rotates:
        return "ARC"
    return "STEPNSHOOT" if n > 2 else "STATIC"


def _leaning(cps: list[pydicom.Dataset], keyword: str, where: str) -> list[float]:
    """One number per control point, each absent one leaning on the prior one (as DICOM allows)."""
    out: list[float] = []
    current: float | None = None
    for index, cp in enumerate(cps):
        value = _number(cp, keyword, f"{where} ControlPointSequence[{index}]")
        current = value if value is not None else current
        if current is None:
            raise SourceError(f"first control point has no {keyword}", where=f"{where} ControlPointSequence[0]")
        out.append(current)
    return out


def _positions(item: pydicom.Dataset, where: str) -> list[float]:
    values = item.get("LeafJawPositions")
    values = [values] if isinstance(values, (int, float, str)) else list(values or [])
    try:
        out = [float(x) for x in values]
    except (TypeError, ValueError):
        raise SourceError("LeafJawPositions holds a value that is not a number", where=where) from None
    if not out or len(out) % 2 or not all(math.isfinite(x) for x in out):
        raise SourceError(f"LeafJawPositions has {len(out)} values, not pairs of finite numbers", where=where)
    return out


def _device_positions(cps: list[pydicom.Dataset], device_types: tuple[str, ...], where: str, occurrence: int = -1) -> list[list[float]] | None:
    """LeafJawPositions of one device per control point, each leaning on the prior one; ``occurrence`` picks one of
    several items of these types in a control point (the last by default; MRIdian lists its two MLCX stacks in turn)."""
    out: list[list[float]] = []
    current: list[float] | None = None
    for index, cp in enumerate(cps):
        items = [item for item in _items(cp, "BeamLimitingDevicePositionSequence") if _text(item, "RTBeamLimitingDeviceType") in device_types]
        if -len(items) <= occurrence < len(items):
            current = _positions(items[occurrence], f"{where} ControlPointSequence[{index}]")
        if current is None:
            return None
        if out and len(current) != len(out[0]):
            raise SourceError(f"{device_types[0]} has {len(current)} positions here and {len(out[0])} at the first control point",
                              where=f"{where} ControlPointSequence[{index}]")
        out.append(current)
    return out


def _beam_rows(beam: pydicom.Dataset, label: str, meterset: float | None, where: str) -> tuple[list[Param], Delivery | None, str]:
    """The beam's rows, its Delivery, and (where it has none) what it lacks for one."""
    cps = _items(beam, "ControlPointSequence")
    if not cps:
        raise SourceError("no control points", where=where)
    cp0, first = cps[0], where + " ControlPointSequence[0]"
    setup = (_text(beam, "TreatmentDeliveryType") or "TREATMENT").upper() == "SETUP"
    gantry = _leaning(cps, "GantryAngle", where)
    coll = _leaning(cps, "BeamLimitingDeviceAngle", where)
    couch = _number(cp0, "PatientSupportAngle", first) or 0.0
    mod = modality(_text(beam, "RadiationType") or "PHOTON")
    fluence = _items(beam, "PrimaryFluenceModeSequence")
    fff = any("FFF" in _text(f, "FluenceModeID") or _text(f, "FluenceMode") == "NON_STANDARD" for f in fluence)
    rows = [
        _p("beam", label, "beam_name", _text(beam, "BeamDescription") or label, "", where),
        _p("beam", label, "beam_number", int(_required(beam, "BeamNumber", where)), "", where),
        _p("beam", label, "setup_field", setup, "", where),
        _p("beam", label, "machine", _text(beam, "TreatmentMachineName").upper(), "", where),
        _p("beam", label, "modality", mod, "", where),
        _p("beam", label, "control_points", len(cps), "", where),
        _p("beam", label, "gantry_start", angle_iec(gantry[0]), "deg", first),
        _p("beam", label, "gantry_stop", angle_iec(gantry[-1]), "deg", where + f" ControlPointSequence[{len(cps) - 1}]"),
        _p("beam", label, "gantry_direction", gantry_direction(gantry[0], gantry[-1], cp0.get("GantryRotationDirection")), "", where),
        _p("beam", label, "collimator", angle_iec(coll[0]), "deg", first),
        _p("beam", label, "couch", angle_iec(couch), "deg", first),
        _p("beam", label, "beam_type", _beam_type(beam, gantry, len(cps)), "", where),
    ]
    if cp0.get("NominalBeamEnergy") is not None:
        rows.append(_p("beam", label, "energy", energy(cp0.NominalBeamEnergy, mod, fff), "", first))
    sad = _number(beam, "SourceAxisDistance", where)
    if sad is not None:
        rows.append(_p("beam", label, "sad_mm", sad, "mm", where))
    ssd = _number(cp0, "SourceToSurfaceDistance", first)
    if ssd is not None:
        rows.append(_p("beam", label, "ssd_mm", round(ssd, 2), "mm", first))
    rows += _isocentre_rows(cp0, label, first)
    jaws_x = _device_positions(cps, ("ASYMX", "X"), where)
    jaws_y = _device_positions(cps, ("ASYMY", "Y"), where)
    for name, jaws in (("x", jaws_x), ("y", jaws_y)):
        if jaws:
            rows.append(_p("beam", label, f"jaw_{name}1_mm", round(jaws[0][0], 2), "mm", first))
            rows.append(_p("beam", label, f"jaw_{name}2_mm", round(jaws[0][1], 2), "mm", first))
    if setup:
        return rows, None, ""
    if meterset is None:
        return rows, None, "no BeamMeterset for its beam number in the first fraction group, so its control points have no MU"
    rows.append(_p("beam", label, "mu", round(meterset, 4), "MU", where))
    mu = _cumulative_mu(beam, cps, meterset, where)
    try:  # the beam's rows stand whatever its leaves hold
        collimation = Collimation(mu, np.array(gantry), np.array(coll), _layers(beam, cps, where),
                                  None if jaws_x is None else np.array(jaws_x), None if jaws_y is None else np.array(jaws_y))
        lacks = _lacks(collimation, mod, beam)
        return rows, None if lacks else aperture_delivery(collimation), lacks
    except (SourceError, ValueError) as exc:
        return rows, None, f"its collimation cannot be read ({exc})"


def _isocentre_rows(cp0: pydicom.Dataset, label: str, where: str) -> list[Param]:
    iso = cp0.get("IsocenterPosition")
    if iso is None:
        return []
    try:
        xyz = [float(v) for v in iso]
    except (TypeError, ValueError):
        raise SourceError(f"IsocenterPosition {str(iso)[:40]!r} is not three numbers", where=where) from None
    if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
        raise SourceError(f"IsocenterPosition has {len(xyz)} values, not three finite numbers", where=where)
    return [_p("beam", label, f"iso_{axis}_mm", round(v, 2), "mm", where) for axis, v in zip("xyz", xyz, strict=True)]


def _cumulative_mu(beam: pydicom.Dataset, cps: list[pydicom.Dataset], meterset: float, where: str) -> np.ndarray:
    weights = np.array(_leaning(cps, "CumulativeMetersetWeight", where))
    final = _number(beam, "FinalCumulativeMetersetWeight", where)
    final = float(weights[-1]) if final is None else final
    if final <= 0:
        raise SourceError(f"FinalCumulativeMetersetWeight is {final:g}, so the MU of each control point cannot be worked out", where=where)
    return meterset * weights / final


def _layers(beam: pydicom.Dataset, cps: list[pydicom.Dataset], where: str) -> tuple[Layer, ...]:
    """Every MLC layer of the beam: its leaf boundaries from BeamLimitingDeviceSequence and its positions per control
    point (the k-th device of a type matched with the k-th position item of that type)."""
    layers: list[Layer] = []
    seen: dict[str, int] = {}
    for index, device in enumerate(_items(beam, "BeamLimitingDeviceSequence")):
        kind = _text(device, "RTBeamLimitingDeviceType").upper()
        if kind not in MLC_TYPES:
            continue
        here, occurrence = f"{where} BeamLimitingDeviceSequence[{index}]", seen.get(kind, 0)
        seen[kind] = occurrence + 1
        boundaries = _boundaries(device, kind, here)
        positions = _device_positions(cps, (kind,), where, occurrence)
        if positions is None:
            raise SourceError(f"{kind} layer {occurrence + 1} has no LeafJawPositions at the first control point", where=where)
        leaves = np.array(positions)
        if leaves.shape[1] != 2 * (len(boundaries) - 1):
            raise SourceError(f"{kind} has {leaves.shape[1]} leaf positions for {len(boundaries) - 1} leaf pairs", where=where,
                              fix="LeafJawPositions must hold both banks of every leaf pair in LeafPositionBoundaries")
        pairs = len(boundaries) - 1
        layers.append(Layer(boundaries, leaves[:, :pairs], leaves[:, pairs:]))
    return tuple(layers)


def _boundaries(device: pydicom.Dataset, kind: str, where: str) -> np.ndarray:
    values = device.get("LeafPositionBoundaries")
    try:
        edges = np.array([float(v) for v in (values if values is not None and not isinstance(values, (str, float, int)) else [])])
    except (TypeError, ValueError):
        raise SourceError(f"{kind} LeafPositionBoundaries holds a value that is not a number", where=where) from None
    if len(edges) < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise SourceError(f"{kind} has no increasing LeafPositionBoundaries ({len(edges)} values)", where=where,
                          fix="each MLC layer needs its leaf boundaries to place its leaves")
    return edges


def _lacks(c: Collimation, mod: str, beam: pydicom.Dataset) -> str:
    """What the beam lacks for an MU density ("" when it has what it needs)."""
    kinds = sorted({_text(d, "RTBeamLimitingDeviceType").upper() for d in _items(beam, "BeamLimitingDeviceSequence")})
    unknown = [k for k in kinds if k not in (*MLC_TYPES, *X_JAWS, *Y_JAWS)]
    if unknown:
        return (f"beam limiting device {', '.join(unknown)} is not one plancheck reads (it reads MLCX, MLCX1, MLCX2, "
                f"ASYMX, X, ASYMY, Y), so the aperture it shapes is unknown")
    if c.layers:
        return ""
    if mod == "electron":
        return "an electron beam without an MLC: its field is shaped by the applicator and cut-out, which the jaws do not describe"
    held = ", ".join(kinds) or "no device"
    missing = [name for name, jaws in (("X jaws (ASYMX or X)", c.x_jaws), ("Y jaws (ASYMY or Y)", c.y_jaws)) if jaws is None]
    if missing:
        return f"no MLC and no {' and no '.join(missing)} (BeamLimitingDeviceSequence holds {held}), so the field's extent is unknown"
    return ""


def delivery_from_rtplan(path_or_dataset: str | Path | pydicom.Dataset, beam: str | int | None = None) -> Delivery:
    """The control points of one beam (by BeamName or BeamNumber), or all treatment beams merged."""
    ds = path_or_dataset if isinstance(path_or_dataset, pydicom.Dataset) else load(path_or_dataset)
    where = str(path_or_dataset) if not isinstance(path_or_dataset, pydicom.Dataset) else "RT Plan"
    _, deliveries, warnings = rows_from_dataset(ds, where)
    if beam is None:
        if not deliveries:
            setup_only = bool(_items(ds, "BeamSequence")) and not warnings
            raise SourceError("no beam with an MU density", where=where,
                              fix="; ".join(warnings) or ("every beam is a setup beam" if setup_only else "the plan holds no beams"))
        try:
            return Delivery.merge(*deliveries.values())
        except ValueError as exc:
            raise SourceError(f"the beams cannot make one MU density: {exc} ({', '.join(deliveries)})", where=where,
                              fix="ask for one beam at a time") from None
    numbers = {_text(b, "BeamNumber"): _text(b, "BeamName") or _text(b, "BeamNumber") for b in _items(ds, "BeamSequence")}
    key = numbers.get(str(beam), str(beam))
    if key not in deliveries:
        why = [w for w in warnings if f"(beam {key})" in w]
        raise SourceError(f"no MU density for beam {beam!r}" + (f" ({why[0]})" if why else f" (beams with one: {', '.join(deliveries) or 'none'})"),
                          where=where)
    return deliveries[key]
