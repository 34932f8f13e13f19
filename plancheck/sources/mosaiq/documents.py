"""MOSAIQ's documents (Object, ObjFilenames, Prompt) as records for the plan-PDF sources.

Object versions follow MOSAIQ's numbering: Version 0 is the current document, older ones
count down from 32000; records carry 1, 2, ... oldest first so the newest is the highest.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.mosaiq.meanings import OBJECT_APPROVED, OBJECT_VOID, version_order
from plancheck.units import text
from plancheck.sources.pdfplan.documents import DocumentRecord
from plancheck.table import iso


def _first_pages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["OBJ_ID"], row)  # rows come page by page: the first is page 1
    return list(seen.values())


def _version_numbers(rows: list[dict[str, Any]]) -> dict[int, int]:
    """1, 2, ... within each document (OBJ_SET_ID), oldest first."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row.get("OBJ_SET_ID", row["OBJ_ID"])].append(row)
    numbers = {}
    for members in groups.values():
        for n, row in enumerate(sorted(members, key=lambda r: (version_order(r.get("Version")), r["OBJ_ID"])), start=1):
            numbers[row["OBJ_ID"]] = n
    return numbers


def document_records(db: Mosaiq, patient_id: str, documents_dir: Path) -> list[DocumentRecord]:
    """Every version of every document of the patient (void ones included, marked), first page's file."""
    d = db.schema
    if not (d.has("Object") and d.has("ObjFilenames")):
        return []
    ident = db.rows(queries.ident(d, patient_id))
    if not ident:
        return []
    rows = _first_pages(db.rows(queries.documents(d, ident[0]["Pat_Id1"])))
    numbers = _version_numbers(rows)
    records = []
    for row in rows:
        title = text(row.get("Title")) or f"document type {row.get('DocType')}"
        status = row.get("Status_Enum")
        records.append(DocumentRecord(
            id=str(row["OBJ_ID"]),
            title=title,
            doc_type=title,
            path=documents_dir / text(row["eSCANFilename"]),
            approved=status in OBJECT_APPROVED,
            approved_at=iso(row.get("Sanct_DtTm")),
            version=numbers[row["OBJ_ID"]],
            void=status == OBJECT_VOID,
            created_at=iso(row.get("Create_DtTm")),
            group=str(row.get("OBJ_SET_ID", row["OBJ_ID"])),
        ))
    return records
