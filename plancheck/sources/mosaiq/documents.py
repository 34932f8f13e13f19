"""MOSAIQ's documents (Object, ObjFilenames, Prompt) as records for the plan-PDF sources."""

from __future__ import annotations

from pathlib import Path

from plancheck.sources.mosaiq import queries
from plancheck.sources.mosaiq.connect import Mosaiq
from plancheck.sources.normalise import text
from plancheck.sources.pdfplan.documents import DocumentRecord
from plancheck.table import iso

VOID = 1
APPROVED = (8, 9)  # signed, cosigned / approved


def document_records(db: Mosaiq, patient_id: str, documents_dir: Path) -> list[DocumentRecord]:
    """Every version of every document of the patient (void ones included, marked), first page's file."""
    ident = db.rows(queries.ident(patient_id))
    if not ident:
        return []
    records: dict[int, DocumentRecord] = {}
    for row in db.rows(queries.documents(ident[0]["Pat_Id1"])):
        if row["OBJ_ID"] in records:
            continue  # later pages of the same document
        title = text(row["Title"]) or f"document type {row['DocType']}"
        records[row["OBJ_ID"]] = DocumentRecord(
            id=str(row["OBJ_ID"]),
            title=title,
            doc_type=title,
            path=documents_dir / text(row["eSCANFilename"]),
            approved=row["Status_Enum"] in APPROVED,
            approved_at=iso(row["Sanct_DtTm"]),
            version=row["Version"],
            void=row["Status_Enum"] == VOID,
            created_at=iso(row["Create_DtTm"]),
            group=str(row["OBJ_SET_ID"]),
        )
    return list(records.values())
