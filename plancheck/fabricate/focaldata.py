"""Put an RT Plan into a Monaco FocalData tree as a tel.1: how the demo and the tests get tel.1 files."""

from __future__ import annotations

from pathlib import Path

from plancheck.sources.monaco.focaldata import TEL_SUFFIX, make_patient_dir
from plancheck.fabricate.tel import DEFAULT_VERSION, write_tel
from plancheck.sources.rtplan import load, rows_from_dataset

INFO_PARAMS = {"beam_name": "description", "machine": "machine", "energy": "energy"}


def tel_from_rtplan(rtplan: str | Path, tel_path: str | Path, *, monaco_version: str = DEFAULT_VERSION, annotate: bool = False) -> Path:
    """Write the RT Plan's beams with control points to ``tel_path``, labelled by BeamName."""
    ds = load(rtplan)
    rows, deliveries, _ = rows_from_dataset(ds, str(rtplan))
    info: dict[str, dict[str, str]] = {label: {} for label in deliveries}
    for row in rows:
        if row.beam in info and row.param in INFO_PARAMS and row.value:
            info[row.beam][INFO_PARAMS[row.param]] = str(row.value)
    return write_tel(deliveries, tel_path, beam_info=info, monaco_version=monaco_version, annotate=annotate)


def focaldata_from_rtplan(
    rtplan: str | Path,
    root: str | Path,
    *,
    clinic: str = "Clinic",
    plan: str | None = None,
    monaco_version: str = DEFAULT_VERSION,
    annotate: bool = False,
) -> Path:
    """Make ``<root>/<clinic>/1~Clinical/<NAME>~<ID>/plan/<plan>/tel.1`` from an RT Plan; returns the tel.1 path."""
    ds = load(rtplan)
    patient_id = str(ds.get("PatientID", "")).strip()
    if not patient_id:
        raise ValueError(f"{rtplan}: the RT Plan has no PatientID")
    name = "^".join(str(ds.get("PatientName", "")).upper().split("^")[:2])
    patient_dir = make_patient_dir(Path(root), patient_id, name, clinic)
    plan_name = plan or str(ds.get("RTPlanLabel", "") or "PLAN").strip()
    return tel_from_rtplan(rtplan, patient_dir / "plan" / plan_name / TEL_SUFFIX, monaco_version=monaco_version, annotate=annotate)
