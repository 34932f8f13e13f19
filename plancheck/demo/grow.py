"""Grow a built demo clinic to N patients (for the batch benchmark and load tests): each new patient is
a copy of a demo patient under a new ID, in every source at once.

MOSAIQ: the patient's rows of every table copied with every key the patient owns (Pat_ID1, SIT_ID,
FLD_ID, DHS_ID, Chk_id, Sch_Id, OBJ_ID, ... and their set ids) moved by ``clone * 1,000,000``;
``Ident.IDA`` is the new ID. Files: the RT Plan with the new PatientID, the Monaco FocalData folder
and the iCOM archives with the ID replaced byte for byte (new IDs have the demo IDs' length, so no
length field changes), the plan and second-check PDFs written again from the copied RT Plan. A copy
keeps its original's MOSAIQ and delivery errors; the RadCalc error planted for 00017R is not copied.
"""

from __future__ import annotations

import lzma
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pydicom

from plancheck.demo.clinic import write_reports
from plancheck.demo.mosaiq_db import DemoClinic
from plancheck.demo.patients import PATIENTS

OWNED = {k.lower() for k in (
    "Pat_ID1", "SIT_ID", "SIT_SET_ID", "FLD_ID", "FLD_SET_ID", "TFP_ID", "DHS_ID", "TTX_ID", "Chk_id", "Chk_set_id", "Sch_Id", "Sch_Set_Id",
    "OBJ_ID", "OBJ_SET_ID", "IDENT_ID", "IDENT_Set_ID", "TxFromDHS_ID", "Related_FLD_SET_ID", "FldDoc_OBJ_ID", "Reference_SIT_Set_ID",
)}
STEP = 1_000_000


def new_id(clone: int, like: str) -> str:
    """``G00001``...: as long as the demo ID it copies."""
    return f"G{clone:0{len(like) - 1}d}"


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM pragma_table_info(?)", (table,))]


def _copy_rows(db: sqlite3.Connection, table: str, where: str, args: list[int], shift: int) -> list[dict[str, Any]]:
    columns = _columns(db, table)
    rows = [dict(zip(columns, r, strict=True)) for r in db.execute(f'SELECT * FROM "{table}" WHERE {where}', args)]
    copies: list[dict[str, Any]] = [{c: v + shift if c.lower() in OWNED and isinstance(v, int) else v for c, v in row.items()} for row in rows]
    if copies:
        marks = ", ".join("?" for _ in columns)
        db.executemany(f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) VALUES ({marks})',
                       [[row[c] for c in columns] for row in copies])
    return rows


def _copy_patient(db: sqlite3.Connection, patient_id: str, clone_id: str, clone: int) -> None:
    pat = db.execute("SELECT Pat_Id1 FROM Ident WHERE IDA = ?", (patient_id,)).fetchone()[0]
    shift = clone * STEP
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    fields: list[int] = []
    objects: list[int] = []
    for table in tables:
        key = next((c for c in _columns(db, table) if c.lower() == "pat_id1"), None)
        if key is not None:
            rows = _copy_rows(db, table, f'"{key}" = ?', [pat], shift)
            fields += [int(r["FLD_ID"]) for r in rows if table == "TxField"]
            objects += [int(r["OBJ_ID"]) for r in rows if table == "Object"]
    for table, key, ids in (("TxFieldPoint", "FLD_ID", fields), ("ObjFilenames", "OBJ_ID", objects)):
        if ids and table in tables:
            _copy_rows(db, table, f"{key} IN ({','.join('?' * len(ids))})", ids, shift)
    db.execute("UPDATE Ident SET IDA = ? WHERE Pat_Id1 = ?", (clone_id, pat + shift))
    objs = [o + shift for o in objects]
    if objs:
        db.execute(f"UPDATE ObjFilenames SET eSCANFilename = replace(eSCANFilename, ?, ?) WHERE OBJ_ID IN ({','.join('?' * len(objs))})",
                   [patient_id, clone_id, *objs])


def _replace_in_tree(src: Path, dst: Path, old: str, new: str) -> None:
    """Copy ``src`` to ``dst`` with ``old`` replaced by ``new`` in every file name and content (same length)."""
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src).as_posix().replace(old, new)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".xz":
            target.write_bytes(lzma.compress(lzma.decompress(path.read_bytes()).replace(old.encode(), new.encode())))
        else:
            target.write_bytes(path.read_bytes().replace(old.encode("latin-1"), new.encode("latin-1")))


def _copy_files(folder: Path, patient_id: str, clone_id: str) -> Path | None:
    """The clone's RT Plan (returned), FocalData and iCOM folders."""
    plans = sorted((folder / "dicom" / patient_id).glob("*.dcm"))
    for src in (folder / "FocalData").glob(f"*/*/*~{patient_id}"):
        _replace_in_tree(src, src.with_name(src.name.replace(patient_id, clone_id)), patient_id, clone_id)
    for src in (folder / "icom" / "patients").glob(f"{patient_id}_*"):
        _replace_in_tree(src, src.with_name(src.name.replace(patient_id, clone_id, 1)), patient_id, clone_id)
    if not plans:
        return None
    ds = pydicom.dcmread(plans[0])
    ds.PatientID = clone_id
    target = folder / "dicom" / clone_id / plans[0].name
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target, enforce_file_format=True)
    return target


def grow_clinic(clinic: DemoClinic, patients: int) -> list[str]:
    """Add copies of the demo patients (in turn) until the clinic has ``patients``; the new IDs."""
    made: dict[str, str] = {}  # clone ID -> the demo patient it copies
    plans: dict[str, Path] = {}
    db = sqlite3.connect(clinic.database)
    with db:
        for clone in range(1, max(0, patients - len(PATIENTS)) + 1):
            source = PATIENTS[(clone - 1) % len(PATIENTS)].patient_id
            made[new_id(clone, source)] = source
            _copy_patient(db, source, new_id(clone, source), clone)
            plan = _copy_files(clinic.folder, source, new_id(clone, source))
            if plan is not None:
                plans[new_id(clone, source)] = plan
    db.close()
    documents = clinic.folder / "mosaiq-documents"
    write_reports(DemoClinic(clinic.folder, clinic.database, clinic.dicom_dir, clinic.escan_dir, (), plans), documents)
    for clone_id, source in made.items():  # an older, voided plan report: never read, but MOSAIQ names it
        voided = documents / f"{source}_plan_v1.pdf"
        if voided.exists():
            shutil.copyfile(voided, documents / f"{clone_id}_plan_v1.pdf")
    return list(made)
